/**
 * The guard's checks, in order. Pure: given the tag, the value, a fresh snapshot and the tag's write history, they
 * return every verdict. A proposal passes only when every verdict passed.
 */
import type { Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions, TagName } from "../tags.js";
import type { Interlock, RejectionCode, Verdict } from "./guard-types.js";
import { valueProblem } from "./value-check.js";

/** What the checks look at. */
export interface CheckInput<TTags extends TagDefinitions = TagDefinitions> {
  readonly tagName: string;
  readonly tag: AnyTag | undefined;
  readonly value: unknown;
  /** A snapshot read just now, for the current value and the interlocks. */
  readonly snapshot: Snapshot<TTags>;
  readonly now: number;
  /** When this tag was last written (an attempt went out), if ever. */
  readonly lastWriteTime: number | undefined;
  /** True while an earlier write's outcome is unknown and not yet read back. */
  readonly outcomeUnknown: boolean;
  readonly expiresAt: number;
  readonly interlocks: readonly Interlock<TTags>[];
}

const pass = (check: string, detail: string): Verdict => ({ check, passed: true, detail });
const fail = (check: string, code: RejectionCode, detail: string): Verdict => ({ check, passed: false, code, detail });

function writableVerdict<TTags extends TagDefinitions>(input: CheckInput<TTags>): Verdict {
  const { tag, tagName } = input;
  if (!tag) return fail("writable", "unknown-tag", `"${tagName}" is not a tag of this plant`);
  if (tag.safety === true)
    return fail("writable", "safety-class", `"${tagName}" is a safety-class tag: never writable`);
  if (!tag.write || tag.write.allowed === false) {
    return fail(
      "writable",
      "not-writable",
      `"${tagName}" is read-only (its tag has no write policy, or allowed: false)`,
    );
  }
  return pass("writable", `"${tagName}" has a write policy`);
}

function numericVerdicts<TTags extends TagDefinitions>(
  input: CheckInput<TTags>,
  tag: AnyTag & { type: "float" | "integer" },
  value: number,
): Verdict[] {
  const verdicts: Verdict[] = [];
  const policy = tag.write ?? {};
  const range = policy.range ?? tag.range;
  if (!range) {
    verdicts.push(
      fail(
        "range",
        "out-of-range",
        "no write range is declared; give the tag write.range (or range) before anything is written",
      ),
    );
  } else {
    const inside = value >= range[0] && value <= range[1];
    verdicts.push(
      inside
        ? pass("range", `${value} within [${range[0]}, ${range[1]}]`)
        : fail(
            "range",
            "out-of-range",
            `${value} outside the write range [${range[0]}, ${range[1]}] (rejected, never clamped)`,
          ),
    );
  }
  if (policy.maxStep === undefined && policy.maxRatePerSecond === undefined) return verdicts;
  const sample = input.snapshot.sample(input.tagName as TagName<TTags>);
  const current = sample.value;
  if (sample.quality === "bad" || sample.stale || typeof current !== "number") {
    const why = sample.stale
      ? "is STALE"
      : `has quality ${sample.quality}${sample.reason ? ` (${sample.reason})` : ""}`;
    verdicts.push(
      fail("fresh current value", "current-not-fresh", `the current value ${why}, so the step cannot be judged`),
    );
    return verdicts;
  }
  verdicts.push(pass("fresh current value", `current value ${current} is ${sample.quality}`));
  const step = Math.abs(value - current);
  if (policy.maxStep !== undefined) {
    verdicts.push(
      step <= policy.maxStep
        ? pass("step", `step ${round(step)} ≤ max step ${policy.maxStep}`)
        : fail("step", "step-too-large", `step ${round(step)} from ${current} exceeds max step ${policy.maxStep}`),
    );
  }
  if (policy.maxRatePerSecond !== undefined) {
    // Without an earlier write to measure from, a first write may move one second's worth of the rate.
    const seconds = input.lastWriteTime === undefined ? 1 : Math.max((input.now - input.lastWriteTime) / 1000, 1e-3);
    const rate = step / seconds;
    verdicts.push(
      rate <= policy.maxRatePerSecond
        ? pass("rate", `${round(rate)}/s ≤ ${policy.maxRatePerSecond}/s`)
        : fail("rate", "rate-too-high", `${round(rate)}/s since the last write exceeds ${policy.maxRatePerSecond}/s`),
    );
  }
  return verdicts;
}

/** Asks the tag's adapter whether the value fits what its write puts on the wire; a throw counts as a misfit. */
function wireProblem(name: string, tag: AnyTag, value: unknown): string | undefined {
  const { adapter, address } = tag.source;
  if (!adapter.checkWrite) return undefined;
  try {
    const problem = adapter.checkWrite({ name, definition: tag, address }, value);
    return problem === undefined ? undefined : `does not fit the wire: ${problem}`;
  } catch (error) {
    return `could not be checked against the wire (${error instanceof Error ? error.message : String(error)})`;
  }
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Runs every check that applies and returns the verdicts in order. */
export function evaluateProposal<TTags extends TagDefinitions>(input: CheckInput<TTags>): Verdict[] {
  const writable = writableVerdict(input);
  const verdicts: Verdict[] = [writable];
  const { tag, value } = input;
  if (!tag || !writable.passed) return verdicts;
  const problem = valueProblem(tag, value) ?? wireProblem(input.tagName, tag, value);
  verdicts.push(problem ? fail("type", "invalid-value", problem) : pass("type", `a valid ${tag.type} value`));
  if (!problem) {
    if (tag.type === "enum" && tag.write?.states && !tag.write.states.includes(value as string)) {
      verdicts.push(
        fail(
          "states",
          "state-not-allowed",
          `"${String(value)}" is not a writable state (${tag.write.states.join(", ")})`,
        ),
      );
    }
    if (tag.type === "float" || tag.type === "integer") verdicts.push(...numericVerdicts(input, tag, value as number));
  }
  const minInterval = tag.write?.minIntervalMs;
  if (minInterval !== undefined && input.lastWriteTime !== undefined) {
    const elapsed = input.now - input.lastWriteTime;
    verdicts.push(
      elapsed >= minInterval
        ? pass("interval", `${elapsed} ms since the last write ≥ ${minInterval} ms`)
        : fail(
            "interval",
            "too-soon",
            `only ${elapsed} ms since the last write; wait ${minInterval - elapsed} ms more`,
          ),
    );
  }
  for (const interlock of input.interlocks) {
    if (interlock.tags && !interlock.tags.includes(input.tagName)) continue;
    let holds = false;
    let why = "does not hold";
    try {
      holds = interlock.holds(input.snapshot) === true;
    } catch (error) {
      why = `could not be evaluated (${error instanceof Error ? error.message : String(error)}), so it counts as not holding`;
    }
    verdicts.push(
      holds ? pass(`interlock: ${interlock.name}`, "holds") : fail(`interlock: ${interlock.name}`, "interlock", why),
    );
  }
  if (input.outcomeUnknown) {
    verdicts.push(
      fail(
        "previous outcome",
        "outcome-unknown",
        "an earlier write's outcome is unknown and has not been read back yet",
      ),
    );
  }
  verdicts.push(
    input.now <= input.expiresAt
      ? pass("expiry", `valid until ${new Date(input.expiresAt).toISOString()}`)
      : fail("expiry", "expired", `expired at ${new Date(input.expiresAt).toISOString()}`),
  );
  return verdicts;
}
