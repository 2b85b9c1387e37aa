/**
 * Slows password guessing down: after five wrong passwords for one user, or from one client address, the next
 * attempt must wait (30 s, doubling with each further failure, at most 15 minutes). Every attempt counts as a failure
 * from the moment it starts, so a burst of parallel attempts cannot slip through while the hashes are computed.
 */
import { isIPv6 } from "node:net";

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
  /**
   * The password was never checked (e.g. too many checks at once): the provisional failure is taken back from every
   * key and nothing else changes. Unlike succeeded(), this must never clear a user's earlier failures, or anyone could
   * wipe a user's count by flooding the server.
   */
  cancelled(): void;
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
    if (entries.size > maxEntries) forgetOne(time);
  };
  /**
   * Makes room for one entry. Keys that slow nothing down go first (oldest first): otherwise a spray of guesses at
   * made-up names from many addresses would push a user's slowed-down entry out and give the guesser fresh attempts.
   */
  const forgetOne = (time: number) => {
    let oldest: string | undefined;
    for (const [key, entry] of entries) {
      oldest ??= key;
      if (entry.failures < freeAttempts || time - entry.lastFailureAt > forgetAfterMs) {
        entries.delete(key);
        return;
      }
    }
    if (oldest !== undefined) entries.delete(oldest);
  };
  const takeBack = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    if (entry.failures <= 1) entries.delete(key);
    else entry.failures -= 1;
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
              if (!entries.has(key)) continue;
              // A user who got in starts afresh; an address keeps its other failures (one good login must not
              // wipe a spray of guesses at other users from the same place).
              if (key.startsWith("user:")) entries.delete(key);
              else takeBack(key);
            }
          },
          failed() {
            settled = true;
          },
          cancelled() {
            if (settled) return;
            settled = true;
            for (const key of keys) takeBack(key);
          },
        },
      };
    },
    clear: () => entries.clear(),
  };
}

/**
 * The throttle key of a client address. An IPv6 client usually holds a whole /64 (2^64 addresses), so counting per
 * address would let it guess on from a fresh address every time: IPv6 addresses count by their /64 prefix.
 */
export function clientThrottleKey(address: string): string {
  if (!isIPv6(address)) return `client:${address}`;
  const bare = address.split("%")[0] ?? address;
  const groupsOf = (part: string) =>
    part === "" ? [] : part.split(":").flatMap((group) => (group.includes(".") ? ["0", "0"] : [group]));
  const [head = "", tail] = bare.split("::");
  const front = groupsOf(head);
  const back = tail === undefined ? [] : groupsOf(tail);
  const groups = [...front, ...Array(Math.max(0, 8 - front.length - back.length)).fill("0"), ...back];
  const prefix = groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16));
  return `client:${prefix.join(":")}::/64`;
}
