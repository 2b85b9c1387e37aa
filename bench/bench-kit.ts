/**
 * Shared pieces of the benchmarks: results as ratios of a candidate against a baseline measured side by side in the
 * same run (these machines are shared and noisy, so absolute numbers mean little), and an interleaved timer.
 */

/** One measured quantity. */
export interface Measurement {
  /** What was measured, e.g. "naive per-tag reads". */
  label: string;
  /** The number, in `unit`. */
  value: number;
  unit: string;
}

/** One benchmark result: candidate / baseline, and the target the ratio is held to. */
export interface BenchResult {
  name: string;
  baseline: Measurement;
  candidate: Measurement;
  /** candidate.value / baseline.value. */
  ratio: number;
  /** The target, in words, e.g. "≤ 1.05". */
  target: string;
  /** Whether the ratio meets the target. */
  pass: boolean;
  /** Anything a reader needs to interpret the result. */
  note?: string;
}

/** A benchmark file's default export. */
export type Benchmark = () => Promise<BenchResult[]>;

/** Builds a result from two measurements and a comparison against the target ratio. */
export function ratioResult(
  name: string,
  baseline: Measurement,
  candidate: Measurement,
  target: { at: "most" | "least"; ratio: number },
  note?: string,
): BenchResult {
  const ratio = candidate.value / baseline.value;
  const pass = target.at === "most" ? ratio <= target.ratio : ratio >= target.ratio;
  const result: BenchResult = {
    name,
    baseline,
    candidate,
    ratio,
    target: `${target.at === "most" ? "≤" : "≥"} ${Number(target.ratio.toPrecision(3))}`,
    pass,
  };
  if (note !== undefined) result.note = note;
  return result;
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Times two async functions side by side: `rounds` alternating runs of each (so both see the same machine load),
 * returning the median milliseconds of each.
 */
export async function timeSideBySide(
  baseline: () => Promise<unknown>,
  candidate: () => Promise<unknown>,
  rounds = 7,
): Promise<{ baselineMs: number; candidateMs: number }> {
  await baseline();
  await candidate();
  const baselineTimes: number[] = [];
  const candidateTimes: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ([baseline, candidate] as const) : ([candidate, baseline] as const);
    for (const run of order) {
      const start = performance.now();
      await run();
      (run === baseline ? baselineTimes : candidateTimes).push(performance.now() - start);
    }
  }
  return { baselineMs: median(baselineTimes), candidateMs: median(candidateTimes) };
}
