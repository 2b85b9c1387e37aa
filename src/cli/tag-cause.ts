/**
 * Why a tag is bad, in a few words for a table cell: "connection refused", "unknown host", "missing node-opcua".
 * Every bad sample of one unreachable adapter has the reason `comm-failure`; the detail (the adapter's error message)
 * says which of many things it was, and a person fixing it needs that first. The full detail is for `--verbose`.
 */
import type { TimedSample } from "../sample.js";

// First match wins: the most specific causes come first (a missing package is reported through a connection error).
const causes: readonly (readonly [RegExp, string | ((match: RegExpMatchArray) => string)])[] = [
  [/needs the package "([\w@./-]{1,80})"/, (match) => `missing ${match[1]}`],
  [/needs \d+ packages that are not installed/, "missing packages"],
  [/ECONNREFUSED/, "connection refused"],
  [/ENOTFOUND|EAI_AGAIN|EAI_NONAME|getaddrinfo/, "unknown host"],
  [/EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN/, "host unreachable"],
  [/ECONNRESET|EPIPE|socket hang up|connection (was )?(lost|closed)/i, "connection lost"],
  [/ETIMEDOUT|timed? ?out/i, "timed out"],
  [/EACCES|EPERM|permission denied/i, "permission denied"],
  [/certificate/i, "certificate not trusted"],
  [/BadNodeIdUnknown|BadNodeIdInvalid/, "unknown node"],
  [/BadUserAccessDenied|BadIdentityTokenRejected|BadUserAccess/, "access denied"],
  [/illegal data address|exception (code )?2\b/i, "illegal address"],
  [/PW_CONFIG/, "configuration error"],
];

/** A short cause for a sample that is not good, or undefined when its detail does not say more than its reason. */
export function shortCause(sample: Pick<TimedSample, "detail">): string | undefined {
  const detail = sample.detail;
  if (!detail) return undefined;
  for (const [pattern, cause] of causes) {
    const match = detail.match(pattern);
    if (match) return typeof cause === "string" ? cause : cause(match);
  }
  return undefined;
}
