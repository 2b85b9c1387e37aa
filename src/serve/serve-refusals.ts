/**
 * Refused requests of people the server knows (a body that is not JSON, a decision without a digest, a proposal or
 * loop that is not there, a proposer over its allowance) as audit records, next to the role and CSRF refusals the
 * auth layer records. One person can send such requests by the thousand, and each record is a line of the
 * hash-chained audit on disk, so each kind is recorded once a minute per person and path, with how many were left out.
 */
import type { IncomingMessage } from "node:http";
import { createAuditLimiter } from "./auth/audit-limiter.js";
import type { Person } from "./auth/serve-auth.js";
import type { SiteRuntime } from "./site-runtime.js";

const limiter = createAuditLimiter({ now: () => Date.now() });

/** Appends a `request-refused` note for `person`'s request, unless one like it was recorded this minute. */
export function auditRefusal(
  runtime: SiteRuntime,
  person: Person,
  request: IncomingMessage,
  refusal: { status: number; code: string; detail: string },
): void {
  const path = (request.url ?? "").split("?")[0] ?? "";
  const method = request.method ?? "";
  const leftOut = limiter.admit(`${person.user}|${refusal.code}|${method} ${path}`);
  if (leftOut === undefined) return;
  try {
    runtime.audit.append({
      type: "note",
      note: "request-refused",
      user: person.user,
      via: person.via,
      client: person.client,
      method,
      path: path.slice(0, 200),
      status: refusal.status,
      code: refusal.code,
      detail: refusal.detail.slice(0, 300),
      ...(leftOut > 0 ? { leftOut } : {}),
    });
  } catch {
    // Best effort, as for the auth layer's refusals: the request is refused whether or not the record is written.
  }
}
