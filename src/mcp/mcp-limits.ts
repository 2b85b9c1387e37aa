/**
 * The small limits of an MCP connection, apart from the SDK so the serve API can use them without loading it: calls
 * per person per minute, and the client's self-given name made safe for a proposal's source.
 */

/** Counts calls per key (a person and client) over a sliding minute. */
export interface RateLimiter {
  /** Seconds to wait when `key` is over its limit, else 0 (and the call is counted). */
  take(key: string): number;
}

/** Calls per person (the token's user) per minute: a sliding minute, shared by every session and client name of that person. */
export function createRateLimiter(perMinute: () => number, now: () => number = Date.now): RateLimiter {
  const calls = new Map<string, number[]>();
  return {
    /** Seconds to wait when `key` is over its limit, else 0 (and the call is counted). */
    take(key: string): number {
      const time = now();
      const recent = (calls.get(key) ?? []).filter((at) => at > time - 60_000);
      if (recent.length >= perMinute()) {
        calls.set(key, recent);
        return Math.max(1, Math.ceil(((recent[0] ?? time) + 60_000 - time) / 1000));
      }
      recent.push(time);
      calls.set(key, recent);
      return 0;
    },
  };
}

/** A client's self-given name, made safe for an origin and the audit: "mcp:<name>". */
export function sourceOf(clientName: string | undefined): string {
  const cleaned = (clientName ?? "")
    .replace(/[^A-Za-z0-9._@ -]+/g, "")
    .trim()
    .slice(0, 60);
  return `mcp:${cleaned || "unnamed-client"}`;
}
