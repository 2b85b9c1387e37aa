/**
 * Holes in a device's address map: ranges a unit answered with exception 2 (illegal data address). Devices often
 * leave gaps between the blocks of their map, and one such register inside a coalesced block read refuses the whole
 * block. The reader splits such a block to find the hole; this registry remembers it, so the planner never joins a
 * block across it again and never asks for a tag that sits in it.
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
}

/** The holes found so far on one adapter. `version` changes whenever a hole is added or the list cleared. */
export class HoleRegistry {
  readonly #holes = new Map<string, ModbusHole[]>();
  #version = 0;

  /** Bumped on every change, so a cached plan knows it is out of date. */
  get version(): number {
    return this.#version;
  }

  /** Remembers a hole (a range already covered by a known hole is ignored). */
  add(hole: ModbusHole): void {
    if (hole.count <= 0) return;
    const key = `${hole.unit}:${hole.area}`;
    const list = this.#holes.get(key) ?? [];
    if (list.some((known) => known.start <= hole.start && known.start + known.count >= hole.start + hole.count)) return;
    list.push(hole);
    list.sort((a, b) => a.start - b.start);
    this.#holes.set(key, list);
    this.#version++;
  }

  /** The first hole of this unit and area that overlaps `start` to `end - 1`, if any. */
  overlapping(unit: number, area: ModbusArea, start: number, end: number): ModbusHole | undefined {
    if (end <= start) return undefined;
    return this.#holes.get(`${unit}:${area}`)?.find((hole) => hole.start < end && start < hole.start + hole.count);
  }

  /** Every hole, by unit, area and address. */
  list(): ModbusHole[] {
    return [...this.#holes.values()]
      .flat()
      .sort((a, b) => a.unit - b.unit || a.area.localeCompare(b.area) || a.start - b.start);
  }

  /** Forgets every hole (after the device's map changed); the next poll reads full blocks again. */
  clear(): void {
    if (this.#holes.size === 0) return;
    this.#holes.clear();
    this.#version++;
  }
}

/** "holding 500" or "holding 500–503", for messages. */
export function holeLabel(hole: Pick<ModbusHole, "unit" | "area" | "start" | "count">): string {
  const last = hole.start + hole.count - 1;
  return `unit ${hole.unit} ${hole.area} ${hole.count === 1 ? hole.start : `${hole.start}–${last}`}`;
}
