/**
 * Window → prompt text: the tag header, optional per-tag summaries, and a wide table whose rows are grid times
 * (start + t·dt, or t0 + t·dt when the first sample comes after the window's start) and whose columns are tags.
 * Cells are marked like snapshot values (x?, x?(reason), BAD(reason)). A column whose tag is shown with decimals is
 * written in whole steps (`pressure*100`, 612 for 6.12): a decimal point costs two o200k tokens per cell, which in a
 * table is most of a value's cost. With a token budget, rows are thinned (every 2nd, 3rd, … grid row, the last row
 * always kept, summaries switched on so min/max stay exact) until the text fits.
 */
import { ValidationError } from "../errors.js";
import type { Sample, Window } from "../sample.js";
import type { AnyTag, TagDefinitions } from "../tags.js";
import { gridOf, type WindowGrid } from "./context-grid.js";
import { type ContextOptions, type EncodedContext, encodeHeader, selectTags } from "./context-header.js";
import { displayDecimals, formatDuration, formatNumber, formatReading, formatTime } from "./context-text.js";
import { countTokens } from "./context-tokens.js";
import { formatSample, formatValue, sampleTime, valueNotation } from "./context-values.js";

/** Settings of {@link encodeWindow}. */
export interface WindowContextOptions extends ContextOptions {
  /** Per-tag summaries (n, min, max, mean, last, trend per minute). "auto": when rows are thinned or over 120. @default "auto" */
  readonly summaries?: boolean | "auto";
  /** Thin rows until the whole text (header included) is at most this many o200k_base tokens (needs gpt-tokenizer). */
  readonly maxTokens?: number;
  /** Measure the o200k_base token count into `tokens` (needs gpt-tokenizer). @default false */
  readonly countTokens?: boolean;
  /**
   * Write the cells of a tag shown with decimals as whole steps, the column named `name*10^d` (`pressure*100`: 612
   * is 6.12), which takes about half the tokens of `6.12`. false writes the decimals (easier for small models to
   * read; summaries always use them). @default true
   */
  readonly scaleColumns?: boolean;
}

/** Grid steps as exact text: whole seconds as "5s", anything else in ms. */
export function formatStep(milliseconds: number): string {
  return milliseconds % 1000 === 0 ? `${milliseconds / 1000}s` : `${milliseconds}ms`;
}

/** A span as exact text in the largest whole unit: "24h", "15min", "30s", "1500ms". */
export function formatSpan(milliseconds: number): string {
  if (milliseconds > 0 && milliseconds % 3_600_000 === 0) return `${milliseconds / 3_600_000}h`;
  if (milliseconds >= 120_000 && milliseconds % 60_000 === 0) return `${milliseconds / 60_000}min`;
  return formatStep(milliseconds);
}

/** The power of ten a column's cells are multiplied by (1 when its values are shown without decimals). */
function columnScale(tag: AnyTag, scaleColumns: boolean): number {
  const decimals = tag.type === "float" || tag.type === "integer" ? displayDecimals(tag) : undefined;
  return scaleColumns && decimals !== undefined && decimals > 0 ? 10 ** decimals : 1;
}

// "6.12" → "612", "-0.05?" → "-5?": the digits without the point, exact (no floating-point multiplication).
function inSteps(shown: string): string {
  return shown.replace(/^(-?)(\d+)\.(\d+)/, (_match, sign: string, whole: string, fraction: string) => {
    const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, "");
    return digits === "0" ? "0" : `${sign}${digits}`;
  });
}

function cell(tag: AnyTag, sample: Sample | undefined, maxTextLength: number, scale: number): string {
  if (sample === undefined) return "";
  const shown = formatSample(tag, sample, false, maxTextLength);
  return scale === 1 ? shown : inSteps(shown);
}

function summaryLine(window: Window, name: string, maxTextLength: number): string {
  const tag = window.tags[name] as AnyTag;
  const series = window.series(name);
  const usable = series.filter(
    (sample) => sample.quality !== "bad" && formatValue(tag, sample.value, maxTextLength) !== undefined,
  );
  const bad = series.length - usable.length;
  const parts = [name, `n=${usable.length}`];
  if (bad > 0) parts.push(`bad=${bad}`);
  const last = usable.at(-1);
  if (last !== undefined && (tag.type === "float" || tag.type === "integer")) {
    const decimals = displayDecimals(tag);
    const values = usable.map((sample) => sample.value as number);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    parts.push(
      `min=${formatReading(Math.min(...values), decimals)}`,
      `max=${formatReading(Math.max(...values), decimals)}`,
    );
    parts.push(`mean=${formatNumber(mean, decimals === undefined ? undefined : decimals + 1)}`);
    const slope = slopePerMinute(usable);
    if (slope !== undefined)
      parts.push(
        `trend=${slope >= 0 ? "+" : ""}${formatNumber(slope, decimals === undefined ? undefined : decimals + 1)}/min`,
      );
  }
  if (last !== undefined) {
    const stale = tag.staleAfterMs !== undefined && window.to - sampleTime(last) > tag.staleAfterMs;
    parts.push(`last=${formatValue(tag, last.value, maxTextLength)}${stale ? " STALE" : ""}`);
  }
  return parts.join(" ");
}

// Least-squares slope; written by hand because it is six lines and no dependency is worth it.
function slopePerMinute(samples: readonly Sample[]): number | undefined {
  if (samples.length < 2) return undefined;
  const times = samples.map((sample) => sampleTime(sample) / 60_000);
  const values = samples.map((sample) => sample.value as number);
  const meanTime = times.reduce((sum, time) => sum + time, 0) / times.length;
  const meanValue = values.reduce((sum, value) => sum + value, 0) / values.length;
  let numerator = 0;
  let denominator = 0;
  for (let index = 0; index < times.length; index++) {
    const deltaTime = (times[index] as number) - meanTime;
    numerator += deltaTime * ((values[index] as number) - meanValue);
    denominator += deltaTime * deltaTime;
  }
  return denominator === 0 ? undefined : numerator / denominator;
}

function thinnedRows(rows: readonly number[], stride: number): number[] {
  if (stride <= 1) return [...rows];
  const kept: number[] = [];
  let lastBucket = Number.NaN;
  for (const row of rows) {
    const bucket = Math.floor(row / stride);
    if (bucket !== lastBucket) kept.push(row);
    lastBucket = bucket;
  }
  const last = rows.at(-1);
  if (last !== undefined && kept.at(-1) !== last) kept.push(last);
  return kept;
}

interface BodySettings {
  readonly stride: number;
  readonly summaries: boolean;
  readonly maxTextLength: number;
  readonly scaleColumns: boolean;
  readonly table: boolean;
}

function encodeBody(window: Window, names: readonly string[], grid: WindowGrid, settings: BodySettings): string {
  const { stride, maxTextLength } = settings;
  const rows = thinnedRows(grid.rows, stride);
  const from = window.from === Number.NEGATIVE_INFINITY ? grid.t0 : window.from;
  // Row times count from the window's start when the first sample is there (the usual case), else from t0.
  const origin = from === grid.t0 ? "start" : "t0";
  const scales = names.map((name) => columnScale(window.tags[name] as AnyTag, settings.scaleColumns));
  const scaled = settings.table && scales.some((scale) => scale > 1);
  const lines = [
    `WINDOW start=${formatTime(from)} span=${formatSpan(Math.max(0, window.to - from))} ` +
      (origin === "t0" ? `t0=${formatTime(grid.t0)} ` : "") +
      `time=${origin}+t*${formatStep(grid.dt)}` +
      (stride > 1 ? ` rows=${rows.length} (every ${stride}th grid row of ${grid.rows.length}, last kept)` : "") +
      (scaled ? "; name*100 holds value*100" : ""),
  ];
  const shown: string[] = [];
  if (settings.summaries) {
    lines.push(`SUMMARY over ${formatDuration(Math.max(0, window.to - grid.t0))}`);
    for (const name of names) {
      const summary = summaryLine(window, name, maxTextLength);
      shown.push(summary);
      lines.push(summary);
    }
  }
  if (settings.table) {
    const columns = names.map((name, index) => (scales[index] === 1 ? name : `${name}*${scales[index]}`));
    lines.push(`t|${columns.join("|")}`);
    for (const row of rows) {
      const cells = names.map((name, index) =>
        cell(window.tags[name] as AnyTag, grid.cells.get(name)?.get(row), maxTextLength, scales[index] as number),
      );
      shown.push(...cells);
      lines.push(`${row}|${cells.join("|")}`);
    }
  }
  lines[0] += valueNotation(shown);
  return lines.join("\n");
}

/** Encodes a window as compact prompt text; see {@link WindowContextOptions} for summaries and the token budget. */
export function encodeWindow<TTags extends TagDefinitions>(
  typedWindow: Window<TTags>,
  options: WindowContextOptions = {},
): EncodedContext {
  // The generic only serves callers; inside, names are plain strings.
  const window = typedWindow as unknown as Window;
  const names = selectTags(window.tags, options.tags);
  const maxTextLength = options.maxTextLength ?? 160;
  const header = encodeHeader(window.tags, names, options);
  const grid = gridOf(window, names);
  const wantSummaries = (stride: number) =>
    options.summaries === "auto" || options.summaries === undefined
      ? stride > 1 || grid.rows.length > 120
      : options.summaries;
  const scaleColumns = options.scaleColumns ?? true;
  const build = (stride: number, table = true) => {
    const summaries = wantSummaries(stride) || !table;
    const body = encodeBody(window, names, grid, { stride, summaries, maxTextLength, scaleColumns, table });
    return { body, text: `${header}\n${body}` };
  };
  if (options.maxTokens === undefined) {
    const { body, text } = build(1);
    return options.countTokens
      ? { kind: "window", header, body, text, tokens: countTokens(text), stride: 1 }
      : { kind: "window", header, body, text, stride: 1 };
  }
  const span = Math.max(1, (grid.rows.at(-1) ?? 0) + 1);
  for (let stride = 1; ; stride = Math.max(stride + 1, Math.ceil(stride * 1.5))) {
    const { body, text } = build(stride);
    const tokens = countTokens(text);
    if (tokens <= options.maxTokens) return { kind: "window", header, body, text, tokens, stride };
    if (stride >= span) break;
  }
  const { body, text } = build(span, false);
  const tokens = countTokens(text);
  if (tokens <= options.maxTokens) return { kind: "window", header, body, text, tokens, stride: span };
  throw new ValidationError(
    `The window context needs ${tokens} tokens even as summaries only, over the budget of ${options.maxTokens}. ` +
      "Fix: raise maxTokens or pass fewer tags (options.tags).",
    { field: "maxTokens" },
  );
}
