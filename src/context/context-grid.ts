/**
 * Puts a window's per-tag series on one time grid (t0 + i·dt), so that it can be written as a wide table with one
 * time column. dt is the median interval between a tag's consecutive samples; each sample goes to the nearest grid
 * row, so a shown time is off by at most dt/2 (exact when the tags are sampled together at a steady rate).
 */
import type { Sample, Window } from "../sample.js";
import { sampleTime } from "./context-values.js";

/** A window laid on a time grid. */
export interface WindowGrid {
  /** Time of grid row 0 (ms since the epoch). */
  readonly t0: number;
  /** Grid step in ms (at least 1). */
  readonly dt: number;
  /** Grid row indexes that hold at least one sample, ascending. */
  readonly rows: readonly number[];
  /** Per tag: grid row index → the sample there (the latest, when several fall in one row). */
  readonly cells: ReadonlyMap<string, ReadonlyMap<number, Sample>>;
  /** Samples that shared a grid row with a later sample of the same tag and are not shown. */
  readonly merged: number;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Lays the named series of a window on one grid. */
export function gridOf(window: Window, names: readonly string[]): WindowGrid {
  const intervals: number[] = [];
  let t0 = Number.POSITIVE_INFINITY;
  for (const name of names) {
    const series = window.series(name);
    for (let index = 0; index < series.length; index++) {
      const time = sampleTime(series[index] as Sample);
      t0 = Math.min(t0, time);
      if (index > 0) {
        const interval = time - sampleTime(series[index - 1] as Sample);
        if (interval > 0) intervals.push(interval);
      }
    }
  }
  if (!Number.isFinite(t0)) return { t0: window.from, dt: 1000, rows: [], cells: new Map(), merged: 0 };
  const dt = Math.max(1, Math.round(median(intervals) ?? 1000));
  const cells = new Map<string, Map<number, Sample>>();
  const rows = new Set<number>();
  let merged = 0;
  for (const name of names) {
    const column = new Map<number, Sample>();
    for (const sample of window.series(name)) {
      const row = Math.round((sampleTime(sample) - t0) / dt);
      if (column.has(row)) merged++;
      column.set(row, sample);
      rows.add(row);
    }
    cells.set(name, column);
  }
  return { t0, dt, rows: [...rows].sort((a, b) => a - b), cells, merged };
}
