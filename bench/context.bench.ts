/**
 * Context size in o200k_base tokens (gpt-tokenizer): plantwire's encoder against JSON.stringify and TOON
 * (@toon-format/toon) of the same data — tag metadata (unit, range, description) plus samples (value, quality,
 * times), values as float32 registers decode them. Also answer fidelity: a deterministic reader answers the same
 * questions (max and last per tag, which tags left their range) from each encoding; the answers must agree.
 * Run with `npx tsx bench/run.ts context`.
 */
import { decode as toonDecode, encode as toonEncode } from "@toon-format/toon";
import { countTokens, decodeContext, encodeSnapshot, encodeWindow } from "../src/context/index.js";
import { defineTags, float, goodSample, type Sample, Snapshot, Window } from "../src/index.js";
import { memoryAdapter } from "../src/testing/index.js";
import { type BenchResult, ratioResult } from "./bench-kit.js";

const memory = memoryAdapter();
const units = ["bar", "°C", "rpm", "m3/h", "mm/s", "A", "kW", "%", "pH", "kPa"];
const start = Date.UTC(2026, 10, 29, 12, 0, 0);

function tagMap(count: number, withDescriptions = true) {
  const definitions: Record<string, ReturnType<typeof float>> = {};
  for (let index = 0; index < count; index++) {
    const high = [16, 150, 1800, 400, 50, 200, 750, 100, 14, 600][index % 10] as number;
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

function naive(
  tags: Record<string, { unit?: string; range?: readonly [number, number]; description?: string }>,
  samples: Record<string, readonly Sample[]>,
) {
  const meta = Object.fromEntries(
    Object.entries(tags).map(([name, tag]) => [
      name,
      { unit: tag.unit, range: tag.range, description: tag.description },
    ]),
  );
  const data = Object.fromEntries(
    Object.entries(samples).map(([name, series]) => [
      name,
      series.map((sample) => ({
        value: sample.value,
        quality: sample.quality,
        sourceTime: sample.sourceTime,
        receivedTime: sample.receivedTime,
      })),
    ]),
  );
  return { tags: meta, samples: data };
}

type Answers = Record<string, string>;
type Reader = (name: string) => { values: number[]; range: readonly [number, number]; step: number };

function answer(names: readonly string[], read: Reader): Answers {
  const answers: Answers = {};
  const outside: string[] = [];
  for (const name of names) {
    const { values, range, step } = read(name);
    const decimals = Math.max(0, Math.round(-Math.log10(step)));
    answers[`max ${name}`] = Math.max(...values).toFixed(decimals);
    answers[`last ${name}`] = (values.at(-1) as number).toFixed(decimals);
    if (values.some((value) => value < range[0] || value > range[1])) outside.push(name);
  }
  answers["out of range"] = outside.join(",");
  return answers;
}

function jsonReader(tags: ReturnType<typeof tagMap>, parsed: ReturnType<typeof naive>): Reader {
  return (name) => ({
    values: (parsed.samples[name] ?? []).map((sample) => sample.value as number),
    range: parsed.tags[name]?.range as [number, number],
    step: (tags[name] as { resolution: number }).resolution,
  });
}

function plantwireReader(text: string, tags: ReturnType<typeof tagMap>): Reader {
  const decoded = decodeContext(text);
  return (name) => {
    const tag = decoded.tags.get(name);
    const values = decoded.snapshot
      ? [decoded.snapshot.get(name)?.value as number]
      : (decoded.rows ?? []).map((row) => row.values.get(name)?.value as number);
    // The inline layout states no step (its decimals show it); answers are compared at the tag's resolution.
    const step = tag?.step ?? (tags[name] as { resolution: number }).resolution;
    return { values, range: tag?.range as [number, number], step };
  };
}

function compare(
  label: string,
  names: readonly string[],
  tags: ReturnType<typeof tagMap>,
  plain: ReturnType<typeof naive>,
  encoded: string,
) {
  const fromJson = answer(names, jsonReader(tags, JSON.parse(JSON.stringify(plain))));
  const fromToon = answer(names, jsonReader(tags, toonDecode(toonEncode(plain)) as ReturnType<typeof naive>));
  const fromPlantwire = answer(names, plantwireReader(encoded, tags));
  const questions = Object.keys(fromJson);
  const agree = questions.filter(
    (question) => fromJson[question] === fromToon[question] && fromJson[question] === fromPlantwire[question],
  ).length;
  return `${label}: ${agree}/${questions.length} answers identical across JSON, TOON and plantwire (out of range: ${fromPlantwire["out of range"] || "none"})`;
}

export default async function contextBench(): Promise<BenchResult[]> {
  const windowTags = tagMap(10);
  const names = Object.keys(windowTags);
  const series = new Map<string, Sample[]>();
  names.forEach((name, tagIndex) => {
    const high = (windowTags[name] as unknown as { range: [number, number] }).range[1];
    series.set(
      name,
      Array.from({ length: 60 }, (_, row) =>
        goodSample(sampleValue(tagIndex, row, high), start + row * 1000 + (tagIndex % 3), start + row * 1000),
      ),
    );
  });
  const window = new Window(windowTags, series, start, start + 60_000);
  const windowText = encodeWindow(window).text;
  const windowPlain = naive(windowTags, Object.fromEntries(series));
  const windowFidelity = compare("window", names, windowTags, windowPlain, windowText);

  const snapshotTags = tagMap(50);
  const snapshotNames = Object.keys(snapshotTags);
  const samples = new Map<string, Sample>();
  snapshotNames.forEach((name, tagIndex) => {
    const high = (snapshotTags[name] as unknown as { range: [number, number] }).range[1];
    samples.set(name, goodSample(sampleValue(tagIndex, 50, high), start + 2, start));
  });
  const snapshot = new Snapshot(snapshotTags, samples, start + 5);
  const snapshotText = encodeSnapshot(snapshot).text;
  const inlineText = encodeSnapshot(snapshot, { layout: "inline" }).text;
  const snapshotPlain = naive(snapshotTags, Object.fromEntries([...samples].map(([name, sample]) => [name, [sample]])));
  const snapshotFidelity = compare(
    "snapshot (header layout)",
    snapshotNames,
    snapshotTags,
    snapshotPlain,
    snapshotText,
  );
  const inlineFidelity = compare("snapshot (inline layout)", snapshotNames, snapshotTags, snapshotPlain, inlineText);

  const tokens = (label: string, text: string) => ({ label, value: countTokens(text), unit: "o200k tokens" });
  const plantwireWindow = tokens("plantwire encodeWindow", windowText);
  const plantwireSnapshot = tokens("plantwire encodeSnapshot, header layout", snapshotText);
  const plantwireInline = tokens("plantwire encodeSnapshot, inline layout", inlineText);
  const snapshotJson = tokens("JSON.stringify", JSON.stringify(snapshotPlain));
  const snapshotToon = tokens("TOON 4.4", toonEncode(snapshotPlain));
  // The same snapshot with tags that have no description, where metadata weighs less in both encodings.
  const bareTags = tagMap(50, false);
  const bareSnapshot = new Snapshot(bareTags, samples, start + 5);
  const barePlain = naive(bareTags, Object.fromEntries([...samples].map(([name, sample]) => [name, [sample]])));
  const bareJson = countTokens(JSON.stringify(barePlain));
  const bareRatio = (layout: "header" | "inline") =>
    (countTokens(encodeSnapshot(bareSnapshot, { layout }).text) / bareJson).toFixed(3);
  const bareNote = `; without tag descriptions: inline ${bareRatio("inline")}×, header ${bareRatio("header")}× JSON`;
  const cacheNote = `; the header layout's changing part (body) is ${countTokens(encodeSnapshot(snapshot).body)} tokens, the rest a cacheable prefix`;
  return [
    ratioResult(
      "context: window 10 tags × 60 samples vs JSON",
      tokens("JSON.stringify", JSON.stringify(windowPlain)),
      plantwireWindow,
      { at: "most", ratio: 0.2 },
      windowFidelity,
    ),
    ratioResult(
      "context: window 10 tags × 60 samples vs TOON",
      tokens("TOON 4.4", toonEncode(windowPlain)),
      plantwireWindow,
      { at: "most", ratio: 1 },
      windowFidelity,
    ),
    ratioResult(
      "context: snapshot of 50 tags (inline) vs JSON",
      snapshotJson,
      plantwireInline,
      { at: "most", ratio: 0.3 },
      inlineFidelity + bareNote,
    ),
    ratioResult(
      "context: snapshot of 50 tags (inline) vs TOON",
      snapshotToon,
      plantwireInline,
      { at: "most", ratio: 1 },
      inlineFidelity,
    ),
    ratioResult(
      "context: snapshot of 50 tags (header) vs JSON",
      snapshotJson,
      plantwireSnapshot,
      { at: "most", ratio: 0.3 },
      snapshotFidelity + cacheNote + bareNote,
    ),
    ratioResult(
      "context: snapshot of 50 tags (header) vs TOON",
      snapshotToon,
      plantwireSnapshot,
      { at: "most", ratio: 1 },
      snapshotFidelity + cacheNote,
    ),
  ];
}
