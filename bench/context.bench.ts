/**
 * Context size in o200k_base tokens (gpt-tokenizer): plantwire's encoder against JSON.stringify and TOON
 * (@toon-format/toon) of the same information. Both baselines carry exactly what the encoder states: the snapshot's
 * time (a window's from/to), per tag its unit, range, resolution (the encoder shows it as the digits of every value)
 * and description, `writable: true` for writable tags, and per sample its value, quality (with its reason when it
 * has one) and time. Values are float32 as registers decode them: long decimal tails that naive JSON keeps. The
 * encoder's compaction (values at resolution, one shared time, quality only when not good) is what is measured.
 * Also answer fidelity: a deterministic reader answers the same questions (max and last per tag at the tag's
 * resolution, which tags left their range) from each encoding; the answers must agree.
 * Run with `npx tsx bench/run.ts context`.
 */
import { decode as toonDecode, encode as toonEncode } from "@toon-format/toon";
import { countTokens, decodeContext, encodeSnapshot, encodeWindow } from "../src/context/index.js";
import { badSample, defineTags, float, goodSample, isWritable, type Sample, Snapshot, Window } from "../src/index.js";
import { memoryAdapter } from "../src/testing/index.js";
import { type BenchResult, ratioResult } from "./bench-kit.js";

const memory = memoryAdapter();
const units = ["bar", "°C", "rpm", "m3/h", "mm/s", "A", "kW", "%", "pH", "kPa"];
const start = Date.UTC(2026, 10, 29, 12, 0, 0);

/**
 * `count` tags of five lines of the same ten kinds of equipment (a line's pressure has the same unit and range as
 * the next line's), or with `sharedRanges: false` each line's ranges a little wider than the last, so no two tags
 * share unit and range and the encoder has nothing to group.
 */
function tagMap(count: number, withDescriptions = true, sharedRanges = true) {
  const definitions: Record<string, ReturnType<typeof float>> = {};
  for (let index = 0; index < count; index++) {
    const kindHigh = [16, 150, 1800, 400, 50, 200, 750, 100, 14, 600][index % 10] as number;
    const high = sharedRanges ? kindHigh : kindHigh + Math.floor(index / 10);
    definitions[
      `line${1 + Math.floor(index / 10)}_${["pressure", "temperature", "speed", "flow", "vibration", "current", "power", "valve", "ph", "level"][index % 10]}`
    ] = float({
      unit: units[index % 10] as string,
      range: [0, high],
      resolution: high >= 1000 ? 1 : high >= 100 ? 0.1 : 0.01,
      description: !withDescriptions
        ? undefined
        : `Line ${1 + Math.floor(index / 10)} ${["outlet pressure", "bearing temperature", "pump speed", "feed flow", "motor vibration", "motor current", "drive power", "valve position", "tank pH", "tank level"][index % 10]}`,
      source: memory.key(`k${index}`),
    });
  }
  return defineTags(definitions);
}

// Values as float32 registers deliver them: long decimal tails that naive JSON keeps. Tag 3 leaves its range.
const sampleValue = (tagIndex: number, row: number, high: number) =>
  Math.fround(
    high *
      (0.3 + 0.25 * Math.sin(row / 9 + tagIndex) + 0.01 * ((row * 7 + tagIndex) % 5)) *
      (tagIndex === 3 && row > 40 ? 2.2 : 1),
  );

type Plain = {
  tags: Record<
    string,
    { unit?: string; range?: readonly [number, number]; resolution?: number; description?: string; writable?: boolean }
  >;
  samples: Record<string, PlainSample | PlainSample[]>;
};
type PlainSample = { value: unknown; quality: string; reason?: string; time: number };

/** What the encoder states, as plain JSON: the baseline for both JSON.stringify and TOON. */
function plain(
  tags: ReturnType<typeof tagMap>,
  samples: Record<string, Sample | readonly Sample[]>,
  times: Record<string, number>,
): Plain {
  const meta = Object.fromEntries(
    Object.entries(tags).map(([name, tag]) => [
      name,
      {
        unit: tag.unit,
        range: tag.range,
        resolution: tag.resolution,
        description: tag.description,
        ...(isWritable(tag) ? { writable: true } : {}),
      },
    ]),
  );
  const one = (sample: Sample): PlainSample => ({
    value: sample.value,
    quality: sample.quality,
    ...(sample.reason === undefined ? {} : { reason: sample.reason }),
    time: sample.sourceTime ?? sample.receivedTime,
  });
  const data = Object.fromEntries(
    Object.entries(samples).map(([name, series]) => [
      name,
      Array.isArray(series) ? series.map(one) : one(series as Sample),
    ]),
  );
  return { ...times, tags: meta, samples: data };
}

type Answers = Record<string, string>;
/** A tag's usable values (bad samples left out), its range, the step answers are given at, and its bad count. */
type Reader = (name: string) => { values: number[]; range: readonly [number, number]; step: number; bad: number };

function answer(names: readonly string[], read: Reader): Answers {
  const answers: Answers = {};
  const outside: string[] = [];
  for (const name of names) {
    const { values, range, step, bad } = read(name);
    const decimals = Math.max(0, Math.round(-Math.log10(step)));
    answers[`max ${name}`] = Math.max(...values).toFixed(decimals);
    answers[`last ${name}`] = (values.at(-1) as number).toFixed(decimals);
    answers[`bad ${name}`] = String(bad);
    if (values.some((value) => value < range[0] || value > range[1])) outside.push(name);
  }
  answers["out of range"] = outside.join(",");
  return answers;
}

// Each reader takes everything from its own encoding: values, range and the step answers are given at.
function jsonReader(parsed: Plain): Reader {
  return (name) => {
    const entry = parsed.samples[name] ?? [];
    const samples = Array.isArray(entry) ? entry : [entry];
    const usable = samples.filter((sample) => sample.quality !== "bad" && typeof sample.value === "number");
    return {
      values: usable.map((sample) => sample.value as number),
      range: parsed.tags[name]?.range as [number, number],
      step: parsed.tags[name]?.resolution as number,
      bad: samples.length - usable.length,
    };
  };
}

function plantwireReader(text: string): Reader {
  const decoded = decodeContext(text);
  return (name) => {
    const cells = decoded.snapshot
      ? [decoded.snapshot.get(name)]
      : (decoded.rows ?? []).map((row) => row.values.get(name));
    const usable = cells.filter((cell) => cell?.bad === undefined && typeof cell?.value === "number");
    // The resolution is not a header field: every number is written with exactly its tag's decimals.
    const step = usable[0]?.step as number;
    return {
      values: usable.map((cell) => cell?.value as number),
      range: decoded.tags.get(name)?.range as [number, number],
      step,
      bad: cells.filter((cell) => cell?.bad !== undefined).length,
    };
  };
}

/**
 * Answer fidelity as a result of its own, held to 1 (every answer identical), so a disagreement fails the bench
 * rather than hiding in a note. The readers are deterministic: this checks that the encodings carry the same facts,
 * not how well a model reads them.
 */
function compare(label: string, names: readonly string[], baseline: Plain, encoded: string) {
  const fromJson = answer(names, jsonReader(JSON.parse(JSON.stringify(baseline))));
  const fromToon = answer(names, jsonReader(toonDecode(toonEncode(baseline)) as Plain));
  const fromPlantwire = answer(names, plantwireReader(encoded));
  const questions = Object.keys(fromJson);
  const agree = questions.filter(
    (question) => fromJson[question] === fromToon[question] && fromJson[question] === fromPlantwire[question],
  ).length;
  const note = `${label}: ${agree}/${questions.length} answers identical across JSON, TOON and plantwire (out of range: ${fromPlantwire["out of range"] || "none"})`;
  const fidelity = ratioResult(
    `context: ${label} answer fidelity`,
    { label: "questions (max, last, bad count, out of range)", value: questions.length, unit: "answers" },
    { label: "identical from JSON, TOON and plantwire", value: agree, unit: "answers" },
    { at: "least", ratio: 1 },
  );
  return { note, fidelity };
}

const tokens = (label: string, text: string) => ({ label, value: countTokens(text), unit: "o200k tokens" });

/**
 * A 50-tag snapshot in both layouts against JSON and TOON. The issue's ≤ 0.3× JSON holds the inline layout, the one
 * to use for a single prompt. The other bounds are ours, there so that the size cannot grow unnoticed: without shared
 * units and ranges (nothing to group) the inline layout is held to ≤ 0.35×; the header layout writes every name twice
 * (once in the stable header a provider caches across calls, once with the value), so it gets 0.1 more, and the note
 * gives the share that changes per call.
 */
function snapshotResults(variant: { descriptions: boolean; sharedRanges: boolean }): BenchResult[] {
  const tags = tagMap(50, variant.descriptions, variant.sharedRanges);
  const names = Object.keys(tags);
  const samples = new Map<string, Sample>();
  names.forEach((name, tagIndex) => {
    const high = (tags[name]?.range ?? [0, 1])[1];
    samples.set(name, goodSample(sampleValue(tagIndex, 50, high), start + 2, start));
  });
  const snapshot = new Snapshot(tags, samples, start + 5);
  const baseline = plain(tags, Object.fromEntries(samples), { time: snapshot.time });
  const json = tokens("JSON.stringify", JSON.stringify(baseline));
  const toon = tokens("TOON 4.4", toonEncode(baseline));
  const label =
    "context: snapshot of 50 tags" +
    (variant.descriptions ? "" : " without descriptions") +
    (variant.sharedRanges ? "" : ", no shared unit and range");
  const results: BenchResult[] = [];
  for (const layout of ["inline", "header"] as const) {
    const encoded = encodeSnapshot(snapshot, { layout });
    const candidate = tokens(`plantwire encodeSnapshot, ${layout} layout`, encoded.text);
    const compared = compare(`${label.replace("context: ", "")} (${layout} layout)`, names, baseline, encoded.text);
    let note = compared.note;
    if (layout === "header") {
      const body = countTokens(encoded.body);
      const header = candidate.value - body;
      note +=
        `; of these, ${header} tokens are the stable header (a cacheable prefix) and ${body} the body that ` +
        `changes between calls (${(body / json.value).toFixed(3)}× JSON)`;
    }
    const bound = (layout === "header" ? 0.1 : 0) + (variant.sharedRanges ? 0.3 : 0.35);
    results.push(ratioResult(`${label} (${layout}) vs JSON`, json, candidate, { at: "most", ratio: bound }, note));
    results.push(ratioResult(`${label} (${layout}) vs TOON`, toon, candidate, { at: "most", ratio: 1 }, note));
    results.push(compared.fidelity);
  }
  return results;
}

/** A window to measure: `tags` tags × `rows` samples `stepMs` apart, optionally with a stretch of timed-out reads. */
interface WindowCase {
  readonly tags: number;
  readonly rows: number;
  readonly stepMs: number;
  /** Rows [from, to) of every tag read as BAD(timeout). */
  readonly badStretch?: readonly [number, number];
  /** The bound on plantwire / JSON. */
  readonly bound: number;
}

const windowCases: readonly WindowCase[] = [
  { tags: 1, rows: 30, stepMs: 1000, bound: 0.3 },
  { tags: 1, rows: 60, stepMs: 1000, badStretch: [20, 28], bound: 0.3 },
  { tags: 3, rows: 60, stepMs: 1000, bound: 0.3 },
  { tags: 10, rows: 60, stepMs: 1000, bound: 0.15 },
  { tags: 50, rows: 1440, stepMs: 60_000, bound: 0.3 },
];

/** One window case against JSON and TOON, with its answer fidelity. */
function windowResults(spec: WindowCase): BenchResult[] {
  const windowTags = tagMap(spec.tags);
  const names = Object.keys(windowTags);
  const series = new Map<string, Sample[]>();
  const [badFrom, badTo] = spec.badStretch ?? [0, 0];
  names.forEach((name, tagIndex) => {
    const high = (windowTags[name]?.range ?? [0, 1])[1];
    series.set(
      name,
      Array.from({ length: spec.rows }, (_, row) => {
        const time = start + row * spec.stepMs;
        // Sources stamp a few ms apart from tag to tag, as devices read in one poll do.
        return row >= badFrom && row < badTo
          ? badSample("timeout", undefined, time)
          : goodSample(sampleValue(tagIndex, row, high), time + (tagIndex % 3), time);
      }),
    );
  });
  const window = new Window(windowTags, series, start, start + spec.rows * spec.stepMs);
  const text = encodeWindow(window).text;
  const baseline = plain(windowTags, Object.fromEntries(series), { from: window.from, to: window.to });
  const label =
    `window ${spec.tags} tag${spec.tags === 1 ? "" : "s"} × ${spec.rows} samples` +
    (spec.badStretch ? `, ${badTo - badFrom} bad in a row` : "");
  const compared = compare(label, names, baseline, text);
  const candidate = tokens("plantwire encodeWindow", text);
  const json = tokens("JSON.stringify", JSON.stringify(baseline));
  // The cost of writing decimals instead of whole steps, for those who turn scaled columns off.
  const decimals = countTokens(encodeWindow(window, { scaleColumns: false }).text);
  const note = `${compared.note}; with decimal cells (scaleColumns: false) ${decimals} tokens, ${(decimals / json.value).toFixed(3)}× JSON`;
  const { fidelity } = compared;
  return [
    ratioResult(`context: ${label} vs JSON`, json, candidate, { at: "most", ratio: spec.bound }, note),
    ratioResult(
      `context: ${label} vs TOON`,
      tokens("TOON 4.4", toonEncode(baseline)),
      candidate,
      { at: "most", ratio: 1 },
      note,
    ),
    fidelity,
  ];
}

export default async function contextBench(): Promise<BenchResult[]> {
  return [
    ...windowCases.flatMap(windowResults),
    ...snapshotResults({ descriptions: true, sharedRanges: true }),
    ...snapshotResults({ descriptions: false, sharedRanges: true }),
    ...snapshotResults({ descriptions: true, sharedRanges: false }),
  ];
}
