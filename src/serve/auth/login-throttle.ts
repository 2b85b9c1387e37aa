/**
 * Slows password guessing down: after five wrong passwords for one user, or from one client address, the next
 * attempt must wait (30 s, doubling with each further failure, at most 15 minutes). Every attempt counts as a failure
 * from the moment it starts, so a burst of parallel attempts cannot slip through while the hashes are computed.
 */

/** Options of `createLoginThrottle()`. */
export interface LoginThrottleOptions {
  /** Wrong passwords allowed before attempts are slowed down. @default 5 */
  freeAttempts?: number;
  /** The wait after the last free attempt; doubles with each further failure. @default 30000 */
  baseDelayMs?: number;
  /** The longest wait. @default 900000 (15 minutes) */
  maxDelayMs?: number;
  /** Failures are forgotten this long after the last one. @default 3600000 (1 hour) */
  forgetAfterMs?: number;
  /** At most this many users and addresses are tracked; the least recently failed are forgotten first. @default 10000 */
  maxEntries?: number;
  /** The clock. @default Date.now */
  now?: () => number;
}

/** A login attempt under way: say how it ended. */
export interface LoginAttempt {
  /** The password was right: the user's failures are cleared, the address's provisional failure is taken back. */
  succeeded(): void;
  /** The password was wrong (or the user unknown): the failure stays counted. */
  failed(): void;
}

/** The throttle's answer to a new attempt. */
export type ThrottleAnswer =
  | { readonly allowed: true; readonly attempt: LoginAttempt }
  | { readonly allowed: false; readonly retryAfterMs: number };

/** Counts wrong passwords per key ("user:…", "client:…") and says when the next attempt may come. */
export interface LoginThrottle {
  /** Starts an attempt for these keys, or says how long to wait when any of them is slowed down. */
  begin(keys: readonly string[]): ThrottleAnswer;
  /** Forgets everything (e.g. on shutdown). */
  clear(): void;
}

interface Entry {
  failures: number;
  lastFailureAt: number;
}

/** Creates a login throttle. */
export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const freeAttempts = options.freeAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 30_000;
  const maxDelayMs = options.maxDelayMs ?? 15 * 60_000;
  const forgetAfterMs = options.forgetAfterMs ?? 60 * 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  const current = (key: string, time: number): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && time - entry.lastFailureAt > forgetAfterMs) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const waitFor = (entry: Entry | undefined, time: number): number => {
    if (!entry || entry.failures < freeAttempts) return 0;
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(entry.failures - freeAttempts, 30));
    return Math.max(0, entry.lastFailureAt + delay - time);
  };
  const countFailure = (key: string, time: number) => {
    const entry = current(key, time) ?? { failures: 0, lastFailureAt: time };
    entry.failures += 1;
    entry.lastFailureAt = time;
    // Re-inserting keeps the map ordered by last failure, so the first key is the one to forget when full.
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
  };

  return {
    begin(keys) {
      const time = now();
      const retryAfterMs = Math.max(0, ...keys.map((key) => waitFor(current(key, time), time)));
      if (retryAfterMs > 0) return { allowed: false, retryAfterMs };
      for (const key of keys) countFailure(key, time);
      let settled = false;
      return {
        allowed: true,
        attempt: {
          succeeded() {
            if (settled) return;
            settled = true;
            for (const key of keys) {
              const entry = entries.get(key);
              if (!entry) continue;
              // A user who got in starts afresh; an address keeps its other failures (one good login must not
              // wipe a spray of guesses at other users from the same place).
              if (key.startsWith("user:") || entry.failures <= 1) entries.delete(key);
              else entry.failures -= 1;
            }
          },
          failed() {
            settled = true;
          },
        },
      };
    },
    clear: () => entries.clear(),
  };
}
