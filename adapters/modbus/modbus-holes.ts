/**
 * Holes in a device's address map: ranges a unit answered with exception 2 (illegal data address). Devices often
 * leave gaps between the blocks of their map, and one such register inside a coalesced block read refuses the whole
 * block. The reader splits such a block to find the hole; this registry remembers it, so the planner does not join a
 * block across it and does not ask for a tag that sits in it — until the hole is due to be asked for again. A device
 * may answer exception 2 for a while (a gateway whose downstream device is starting, a map being reloaded), so a
 * hole is re-probed after `retryAfterMs`; found again at once, its next wait doubles, up to `maxRetryAfterMs`.
 */
import type { ModbusArea } from "./modbus-address.js";

/** One remembered hole: registers (or bits) `start` to `start + count - 1` of an area of a unit. */
export interface ModbusHole {
  readonly unit: number;
  readonly area: ModbusArea;
  readonly start: number;
  readonly count: number;
  /** How it was found, e.g. "a read of holding 500+1 answered exception 2 (illegal data address)". */
  readonly why: string;
  /** When it was found (ms since epoch). */
  readonly time: number;
  /** When it will be asked for again (ms since epoch); `Infinity` when holes are kept for good. */
  readonly retryAt: number;
  /** How many times in a row this hole was found again right after its retry (1 the first time). */
  readonly strikes: number;
}

/** When holes are asked for again. */
export interface ModbusHoleOptions {
  /**
   * Wait before a hole is asked for again (ms), or "never" to keep holes until `forgetHoles()` or a restart.
   * @default 300000 (5 minutes)
   */
  retryAfterMs?: number | "never";
  /** Longest wait: a hole found again on its retry waits twice as long next time, up to this (ms). @default 3600000 */
  maxRetryAfterMs?: number;
}

/** Hole options with the defaults filled in. */
export interface ResolvedHoleOptions {
  readonly retryAfterMs: number | "never";
  readonly maxRetryAfterMs: number;
}

/** Fills the defaults of {@link ModbusHoleOptions}. */
export function resolveHoleOptions(options: ModbusHoleOptions | undefined): ResolvedHoleOptions {
  const retryAfterMs = options?.retryAfterMs ?? 300_000;
  const maxRetryAfterMs = options?.maxRetryAfterMs ?? 3_600_000;
  return {
    retryAfterMs,
    maxRetryAfterMs: retryAfterMs === "never" ? maxRetryAfterMs : Math.max(retryAfterMs, maxRetryAfterMs),
  };
}

/** A hole as the reader reports it; the registry adds when it is retried. */
export type FoundHole = Omit<ModbusHole, "retryAt" | "strikes">;

interface Expired {
  readonly expiredAt: number;
  readonly wait: number;
  readonly strikes: number;
}

const keyOf = (hole: Pick<ModbusHole, "unit" | "area" | "start" | "count">) =>
  `${hole.unit}:${hole.area}:${hole.start}:${hole.count}`;

/**
 * The holes found so far on one adapter. `version` changes whenever a hole is added, expires or the list is cleared.
 * Time comes from `now` (Date.now by default), so expiry follows the clock a test sets.
 */
export class HoleRegistry {
  readonly #holes = new Map<string, ModbusHole[]>();
  // Holes that expired, remembered so one found again on its retry backs off instead of starting over.
  readonly #expired = new Map<string, Expired>();
  readonly #options: ResolvedHoleOptions;
  readonly #now: () => number;
  #version = 0;

  constructor(options: ResolvedHoleOptions = resolveHoleOptions(undefined), now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  /** Bumped on every change (expiry included), so a cached plan knows it is out of date. */
  get version(): number {
    this.#expire();
    return this.#version;
  }

  /** Remembers a hole and returns it, or the known hole that already covers its range. */
  add(found: FoundHole): ModbusHole | undefined {
    if (found.count <= 0) return undefined;
    this.#expire();
    const key = `${found.unit}:${found.area}`;
    const list = this.#holes.get(key) ?? [];
    const covering = list.find(
      (known) => known.start <= found.start && known.start + known.count >= found.start + found.count,
    );
    if (covering) return covering;
    const hole = this.#schedule(found);
    list.push(hole);
    list.sort((a, b) => a.start - b.start);
    this.#holes.set(key, list);
    this.#version++;
    return hole;
  }

  /** The first hole of this unit and area that overlaps `start` to `end - 1`, if any. */
  overlapping(unit: number, area: ModbusArea, start: number, end: number): ModbusHole | undefined {
    if (end <= start) return undefined;
    this.#expire();
    return this.#holes.get(`${unit}:${area}`)?.find((hole) => hole.start < end && start < hole.start + hole.count);
  }

  /** Every hole not yet due for a retry, by unit, area and address. */
  list(): ModbusHole[] {
    this.#expire();
    return [...this.#holes.values()]
      .flat()
      .sort((a, b) => a.unit - b.unit || a.area.localeCompare(b.area) || a.start - b.start);
  }

  /** Forgets every hole and every backoff (after the device's map changed); the next poll reads full blocks again. */
  clear(): void {
    this.#expired.clear();
    if (this.#holes.size === 0) return;
    this.#holes.clear();
    this.#version++;
  }

  #schedule(found: FoundHole): ModbusHole {
    const { retryAfterMs, maxRetryAfterMs } = this.#options;
    if (retryAfterMs === "never") return { ...found, retryAt: Number.POSITIVE_INFINITY, strikes: 1 };
    const previous = this.#expired.get(keyOf(found));
    this.#expired.delete(keyOf(found));
    // Found again within one wait of its retry: still a hole, so wait longer. Found much later: it was valid in
    // between (or the device changed), so start over.
    const again = previous !== undefined && found.time - previous.expiredAt <= previous.wait;
    const wait = again ? Math.min(previous.wait * 2, maxRetryAfterMs) : retryAfterMs;
    return { ...found, retryAt: found.time + wait, strikes: again ? previous.strikes + 1 : 1 };
  }

  #expire(): void {
    const now = this.#now();
    for (const [key, list] of this.#holes) {
      const kept = list.filter((hole) => hole.retryAt > now);
      if (kept.length === list.length) continue;
      for (const hole of list) {
        if (hole.retryAt > now) continue;
        this.#expired.set(keyOf(hole), { expiredAt: now, wait: hole.retryAt - hole.time, strikes: hole.strikes });
      }
      if (kept.length === 0) this.#holes.delete(key);
      else this.#holes.set(key, kept);
      this.#version++;
    }
    // Backoff memory older than the longest wait is of no use any more; it never grows without bound.
    for (const [key, expired] of this.#expired) {
      if (now - expired.expiredAt > 2 * this.#options.maxRetryAfterMs) this.#expired.delete(key);
    }
  }
}

/** "holding 500" or "holding 500–503", for messages. */
export function holeLabel(hole: Pick<ModbusHole, "unit" | "area" | "start" | "count">): string {
  const last = hole.start + hole.count - 1;
  return `unit ${hole.unit} ${hole.area} ${hole.count === 1 ? hole.start : `${hole.start}–${last}`}`;
}

/** When a hole is asked for again, in words: "again after 12:05:00 UTC" or "until forgetHoles() or a restart". */
export function holeRetryText(hole: Pick<ModbusHole, "retryAt">): string {
  if (!Number.isFinite(hole.retryAt)) return "not asked for again until forgetHoles() or a restart";
  return `not asked for again before ${new Date(hole.retryAt).toISOString()}`;
}
