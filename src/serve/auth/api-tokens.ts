/**
 * API tokens for the CLI and MCP clients: 256 random bits, shown once, stored only as their SHA-256. A token is a
 * bearer secret with high entropy, so a fast hash is enough (no one can guess one to test against the hash).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A token as the users file keeps it. */
export interface StoredToken {
  /** A short public id to name the token in `users list` and revoke it alone. */
  readonly id: string;
  /** The user the token acts as; it has that user's role. */
  readonly user: string;
  /** SHA-256 of the token, hex. */
  readonly sha256: string;
  /** When it was made, ISO 8601. */
  readonly created: string;
  /** What it is for, e.g. "mcp on panel-2". */
  readonly label?: string;
}

/** Prefix of every token, so a leaked one is recognisable in logs and secret scanners. */
export const tokenPrefix = "pwt_";

/** SHA-256 of a token, hex. */
export function tokenDigest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A fresh token for `user`: the secret (show it once) and what to store. */
export function newApiToken(user: string, created: Date, label?: string): { token: string; stored: StoredToken } {
  const token = `${tokenPrefix}${randomBytes(32).toString("base64url")}`;
  const id = randomBytes(6).toString("hex");
  const stored: StoredToken = {
    id,
    user,
    sha256: tokenDigest(token),
    created: created.toISOString(),
    ...(label ? { label } : {}),
  };
  return { token, stored };
}

/**
 * The stored token matching `token`, or undefined. Compares every digest in constant time, so timing says nothing
 * about how close a guess came.
 */
export function findApiToken(tokens: readonly StoredToken[], token: string): StoredToken | undefined {
  if (token.length > 200) return undefined;
  const digest = Buffer.from(tokenDigest(token), "hex");
  let found: StoredToken | undefined;
  for (const stored of tokens) {
    const candidate = Buffer.from(stored.sha256, "hex");
    if (candidate.length === digest.length && timingSafeEqual(candidate, digest)) found = stored;
  }
  return found;
}
