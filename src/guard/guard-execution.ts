/**
 * Executes one approved proposal: records the attempt, writes once through the tag's adapter, records the outcome,
 * and reads the value back. Never retries a write.
 */
import type { AuditLog } from "../audit/audit-log.js";
import type { AuditEntry } from "../audit/audit-record.js";
import type { Plant } from "../plant.js";
import type { AnyTag, TagDefinitions, TagName } from "../tags.js";
import type { ExecutionOutcome, Proposal, ReadBackStatus } from "./guard-types.js";

/** The write history the guard keeps per tag. */
export interface TagWriteState {
  lastWriteTime?: number;
  /** Set while a write's outcome is unknown and no read-back has settled it. */
  outcomeUnknown?: boolean;
}

function sameValue(name: string, tag: AnyTag, expected: unknown, actual: unknown): boolean {
  const { adapter, address } = tag.source;
  const onWire = adapter.sameOnWire?.({ name, definition: tag, address }, expected, actual);
  if (onWire !== undefined) return onWire;
  if (typeof expected === "number" && typeof actual === "number") {
    const resolution = tag.type === "float" || tag.type === "integer" ? (tag.resolution ?? 0) : 0;
    return Math.abs(expected - actual) <= Math.max(resolution / 2, Math.abs(expected) * 1e-9, 1e-12);
  }
  // A date-time reads back as a new Date object: compare the instants.
  if (expected instanceof Date && actual instanceof Date) return expected.getTime() === actual.getTime();
  return Object.is(expected, actual);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the write and read-back of an approved proposal, auditing before and after. `before` are records that go to
 * disk in the same append as the attempt (the decision, and in automatic mode the proposal), so a guarded write costs
 * two or three flushes, not five. If that append fails, it throws and nothing is written.
 */
export async function executeProposal<TTags extends TagDefinitions>(
  proposal: Proposal,
  definition: AnyTag,
  plant: Plant<TTags>,
  audit: AuditLog,
  state: TagWriteState,
  now: () => number,
  before: readonly AuditEntry[] = [],
): Promise<ExecutionOutcome> {
  const { adapter, address, label } = definition.source;
  audit.appendBatch([
    ...before,
    {
      type: "attempt",
      proposalId: proposal.id,
      tag: proposal.tag,
      value: proposal.value,
      adapter: adapter.name,
      source: label,
    },
  ]);
  state.lastWriteTime = now();
  let write: ExecutionOutcome["write"];
  let detail: string | undefined;
  let unverified: string | undefined;
  if (!adapter.write || !adapter.capabilities.write) {
    write = "failed";
    detail = `adapter "${adapter.name}" cannot write`;
  } else {
    try {
      const result = await adapter.write({ name: proposal.tag, definition, address }, proposal.value);
      write = result.outcome;
      detail = result.error?.message;
      unverified = result.unverified;
    } catch (error) {
      // An adapter that throws broke its contract; we cannot know whether the value went out.
      write = "unknown";
      detail = `adapter threw: ${describe(error)}`;
    }
  }
  let readBack: ReadBackStatus = "unavailable";
  let readBackValue: unknown;
  try {
    if (write === "written" && unverified !== undefined) {
      readBack = "unverified";
      detail = unverified;
    } else {
      const snapshot = await plant.read([proposal.tag as TagName<TTags>]);
      const sample = snapshot.sample(proposal.tag as TagName<TTags>);
      if (sample.quality !== "bad" && sample.value !== undefined) {
        readBackValue = sample.value;
        readBack = sameValue(proposal.tag, definition, proposal.value, sample.value) ? "verified" : "mismatch";
      } else {
        detail = [detail, `read-back failed: ${sample.reason ?? "no value"}${sample.detail ? ` ${sample.detail}` : ""}`]
          .filter(Boolean)
          .join("; ");
      }
    }
  } catch (error) {
    detail = [detail, `read-back failed: ${describe(error)}`].filter(Boolean).join("; ");
  }
  // Whatever happened above, the outcome is recorded and an unsettled write blocks the tag.
  state.outcomeUnknown = write === "unknown" && readBack === "unavailable";
  const outcome: ExecutionOutcome = {
    write,
    readBack,
    ...(readBackValue !== undefined ? { readBackValue } : {}),
    ...(detail ? { detail } : {}),
  };
  try {
    audit.append({ type: "outcome", proposalId: proposal.id, tag: proposal.tag, ...outcome });
  } catch (error) {
    // The write went out and is on record as an attempt; the log has latched failed, so no further write follows.
    return {
      ...outcome,
      detail: [outcome.detail, `the outcome could not be recorded: ${describe(error)}`].filter(Boolean).join("; "),
    };
  }
  return outcome;
}
