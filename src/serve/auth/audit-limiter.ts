/**
 * Keeps anonymous clients from flooding the audit. A refused bearer token or a throttled login is recorded, but
 * anyone on the network can send thousands of them a second, and each record is a line in the hash-chained audit
 * on disk: a full disk latches the audit and stops every write to the plant. So such events are recorded once per
 * client and kind a minute; the next record says how many like it were left out.
 */

/** Options of `createAuditLimiter()`. */
export interface AuditLimiterOptions {
  /** One record per key this often. @default 60000 */
  windowMs?: number;
  /** Keys remembered at most; the oldest are forgotten first. @default 10000 */
  maxKeys?: number;
  now: () => number;
}

/** Says whether an event may be recorded now, and how many were left out before it. */
export interface AuditLimiter {
  /** `undefined`: leave this one out. A number: record it, with that many left out since the last record. */
  admit(key: string): number | undefined;
  clear(): void;
}

interface Window {
  recordedAt: number;
  suppressed: number;
}

/** Creates a limiter. */
export function createAuditLimiter(options: AuditLimiterOptions): AuditLimiter {
  const windowMs = options.windowMs ?? 60_000;
  const maxKeys = options.maxKeys ?? 10_000;
  const windows = new Map<string, Window>();
  return {
    admit(key) {
      const time = options.now();
      const window = windows.get(key);
      if (window && time - window.recordedAt < windowMs) {
        window.suppressed += 1;
        return undefined;
      }
      const suppressed = window?.suppressed ?? 0;
      windows.delete(key);
      windows.set(key, { recordedAt: time, suppressed: 0 });
      while (windows.size > maxKeys) {
        const oldest = windows.keys().next().value;
        if (oldest === undefined) break;
        windows.delete(oldest);
      }
      return suppressed;
    },
    clear: () => windows.clear(),
  };
}
