/**
 * What the serve API shows of tags, samples, proposals, loops and adapters: plain JSON (api-types.ts), built from the
 * core's objects. Values that are not JSON (a Date) become text; nothing here decides anything.
 */
import type { AdapterStatus } from "../adapter.js";
import type { Proposal } from "../guard/guard-types.js";
import type { LoopReport } from "../loop/loop-runner.js";
import { sampleAge, type TimedSample } from "../sample.js";
import { type AnyTag, isWritable } from "../tags.js";
import type { AdapterView, LoopView, ProposalView, SampleView, TagView } from "./api-types.js";

/** A value as JSON can carry it: Dates as ISO text, non-finite numbers as text. */
export function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

const numericRange = (range: readonly [number, number] | undefined) =>
  range ? { min: range[0], max: range[1] } : undefined;

/** One tag's definition as shown. */
export function tagView(name: string, tag: AnyTag): TagView {
  const numeric = tag.type === "float" || tag.type === "integer" ? tag : undefined;
  const writable = isWritable(tag);
  const writeRange = writable ? numericRange(tag.write?.range) : undefined;
  return {
    name,
    type: tag.type,
    ...(numeric?.unit ? { unit: numeric.unit } : {}),
    ...(tag.description ? { description: tag.description } : {}),
    ...(numeric?.range ? { min: numeric.range[0], max: numeric.range[1] } : {}),
    ...(tag.type === "enum" ? { states: Object.keys(tag.states) } : {}),
    ...(tag.type === "boolean" && tag.labels ? { states: [...tag.labels] } : {}),
    writable,
    ...(writeRange ? { writeRange } : {}),
    ...(writable && tag.write?.maxStep !== undefined ? { maxStep: tag.write.maxStep } : {}),
    ...(writable ? { approvals: tag.write?.approvals ?? 1 } : {}),
  };
}

/** One sample as shown, with its age at `now`. */
export function sampleView(sample: TimedSample, now: number): SampleView {
  return {
    value: jsonValue(sample.value),
    quality: sample.quality,
    ...(sample.reason ? { reason: sample.reason } : {}),
    ...(sample.detail ? { detail: sample.detail.slice(0, 500) } : {}),
    time: sample.sourceTime ?? sample.receivedTime,
    ageMs: Math.max(0, sampleAge(sample, now)),
    stale: sample.stale,
  };
}

/** A proposal as approvers see it; `tag` gives the unit and write range of the tag it is for. */
export function proposalView(proposal: Proposal, tag: AnyTag | undefined): ProposalView {
  const numeric = tag && (tag.type === "float" || tag.type === "integer") ? tag : undefined;
  const step =
    typeof proposal.value === "number" && typeof proposal.current === "number"
      ? proposal.value - proposal.current
      : undefined;
  const writeRange = numericRange(tag?.write?.range);
  const { loop, modelId, promptHash, source, user } = proposal.origin;
  return {
    id: proposal.id,
    tag: proposal.tag,
    ...(numeric?.unit ? { unit: numeric.unit } : {}),
    value: jsonValue(proposal.value),
    current: jsonValue(proposal.current),
    ...(step !== undefined && Number.isFinite(step) ? { step } : {}),
    ...(writeRange ? { writeRange } : {}),
    reason: proposal.reason,
    origin: {
      ...(loop ? { loop } : {}),
      ...(modelId ? { modelId } : {}),
      ...(promptHash ? { promptHash } : {}),
      ...(source ? { source } : {}),
      ...(user ? { user } : {}),
    },
    verdicts: proposal.verdicts.map(({ check, passed, detail }) => ({ check, passed, detail })),
    createdAt: proposal.createdAt,
    expiresAt: proposal.expiresAt,
    digest: proposal.digest,
    approvalsRequired: proposal.approvalsRequired,
    approvals: proposal.approvals.map(({ by, time }) => ({ by, time })),
    state: proposal.state,
    ...(proposal.decidedBy ? { decidedBy: proposal.decidedBy } : {}),
    ...(proposal.outcome
      ? {
          outcome: {
            readBack: proposal.outcome.readBack,
            ...(proposal.outcome.readBackValue !== undefined
              ? { readBackValue: jsonValue(proposal.outcome.readBackValue) }
              : {}),
            ...(proposal.outcome.detail ? { detail: proposal.outcome.detail } : {}),
          },
        }
      : {}),
  };
}

/** A loop as shown: armed loops are "running" (idle between runs or in one), a failed last run is "failed". */
export function loopView(report: LoopReport): LoopView {
  const state =
    report.state === "stopped"
      ? "stopped"
      : report.state === "paused"
        ? "paused"
        : report.lastRunFailed
          ? "failed"
          : "running";
  return {
    name: report.name,
    state,
    trigger: report.trigger,
    ...(report.lastRunAt !== undefined ? { lastRunAt: report.lastRunAt } : {}),
    // Absent for event-driven triggers and for paused or stopped loops (the report leaves it out).
    ...(report.nextRunAt !== undefined && state !== "paused" && state !== "stopped"
      ? { nextRunAt: report.nextRunAt }
      : {}),
    ...(report.budget ? { budget: { used: report.budget.used, limit: report.budget.limit } } : {}),
    modelCalls: report.modelCalls,
    tokens: report.tokens,
    ...(report.reason && state !== "running" ? { reason: report.reason } : {}),
    ...(report.lastError ? { lastError: report.lastError } : {}),
  };
}

/** An adapter as shown: its state, and when it is not connected, why and what to check. */
export function adapterView(name: string, kind: string, status: AdapterStatus, reconnections: number): AdapterView {
  const down = status.state !== "connected";
  return {
    name,
    kind,
    state: status.state,
    ...(down && status.reason ? { lastError: status.reason } : {}),
    ...(down && status.state !== "connecting"
      ? { fix: `check that the ${kind} peer of adapter "${name}" is running and reachable from this machine` }
      : {}),
    reconnections,
  };
}
