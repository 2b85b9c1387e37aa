/**
 * CSRF tokens: one random token per console session, sent back by the page in the `X-CSRF-Token` header on every
 * state-changing request. A cross-site form can send the cookie (were SameSite ever bypassed) but cannot read the
 * token, which the page gets only from the JSON of `/api/login` and `/api/session`.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** The request header that carries the token. */
export const csrfHeader = "x-csrf-token";

/** A fresh CSRF token. */
export function newCsrfToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * True when `given` is the session's token. Both sides are hashed first, so the comparison is constant-time even
 * for a guess of another length.
 */
export function csrfMatches(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== "string" || given.length === 0 || given.length > 200) return false;
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(expected), digest(given));
}
