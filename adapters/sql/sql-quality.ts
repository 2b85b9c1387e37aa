/**
 * How a historian's quality column maps to plantwire's good / uncertain / bad. Historians disagree (OPC DA codes,
 * vendor codes, words), so a mapping may carry its own rule: a code table, ranges, or a function.
 */
import type { Quality } from "../../src/index.js";

/** One entry of a quality rule: a code, a word, or an inclusive range of numeric codes. */
export type QualityMatch = number | string | { readonly from: number; readonly to: number };

/**
 * A quality rule: a function from the column's raw value, or lists of codes, words and ranges per class. Every value
 * no list matches is `otherwise`. "192 good, everything else bad" is `{ good: [192] }`.
 */
export type QualityRule =
  | ((raw: unknown) => Quality)
  | {
      /** Codes, words and ranges that read good. */
      readonly good?: readonly QualityMatch[];
      /** Codes, words and ranges that read uncertain. */
      readonly uncertain?: readonly QualityMatch[];
      /** Quality of every value no list matches. @default "bad" */
      readonly otherwise?: Quality;
      /** Quality of a NULL in the quality column. @default "good" */
      readonly null?: Quality;
    };

function asCode(raw: unknown): number | undefined {
  if (typeof raw === "number") return raw;
  if (typeof raw === "bigint") return Number(raw);
  if (typeof raw === "string" && raw.trim() !== "" && Number.isFinite(Number(raw))) return Number(raw);
  return undefined;
}

/**
 * The default rule: an OPC DA quality byte (0–255) by its two high bits (192–255 good, 64–127 uncertain, the rest
 * bad), the words good / uncertain / bad, NULL good. Any other code is bad: a vendor code above 255 is not an OPC
 * DA quality and must not read good by accident.
 */
export function defaultQuality(raw: unknown): Quality {
  if (raw === null || raw === undefined) return "good";
  const code = asCode(raw);
  if (code !== undefined) {
    if (!Number.isInteger(code) || code < 0 || code > 255) return "bad";
    const high = code & 0xc0;
    return high === 0xc0 ? "good" : high === 0x40 ? "uncertain" : "bad";
  }
  const text = String(raw).trim().toLowerCase();
  return text === "good" || text === "uncertain" ? text : "bad";
}

function matches(entry: QualityMatch, raw: unknown): boolean {
  const code = asCode(raw);
  if (typeof entry === "number") return code === entry;
  if (typeof entry === "string") return String(raw).trim().toLowerCase() === entry.trim().toLowerCase();
  return code !== undefined && code >= entry.from && code <= entry.to;
}

/** The function a rule stands for; undefined gives {@link defaultQuality}. A throwing rule function reads bad. */
export function qualityFunction(rule: QualityRule | undefined): (raw: unknown) => Quality {
  if (rule === undefined) return defaultQuality;
  if (typeof rule === "function") {
    return (raw) => {
      try {
        const quality = rule(raw);
        return quality === "good" || quality === "uncertain" ? quality : "bad";
      } catch {
        return "bad";
      }
    };
  }
  const good = rule.good ?? [];
  const uncertain = rule.uncertain ?? [];
  return (raw) => {
    if (raw === null || raw === undefined) return rule.null ?? "good";
    if (good.some((entry) => matches(entry, raw))) return "good";
    if (uncertain.some((entry) => matches(entry, raw))) return "uncertain";
    return rule.otherwise ?? "bad";
  };
}

const functionIds = new WeakMap<object, number>();
let nextFunctionId = 1;

/** A text that tells rules apart in grouping keys (functions by identity, since JSON drops them). */
export function qualityRuleKey(rule: QualityRule | undefined): string {
  if (typeof rule !== "function") return JSON.stringify(rule ?? null);
  let id = functionIds.get(rule);
  if (id === undefined) {
    id = nextFunctionId++;
    functionIds.set(rule, id);
  }
  return `function#${id}`;
}
