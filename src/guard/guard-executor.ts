/**
 * The executing part of the guard: the checks against a fresh snapshot, one lock per tag so two writes of one tag
 * never interleave, the write history that interval and rate limits use (from the audit, so it survives a restart),
 * and the run of an approved proposal: re-check, record, write once, read back.
 */
import type { AuditLog } from "../audit/audit-log.js";
import type { AuditEntry } from "../audit/audit-record.js";
import type { Plant } from "../plant.js";
import type { Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions, TagName } from "../tags.js";
import { evaluateProposal } from "./guard-checks.js";
import { executeProposal, type TagWriteState } from "./guard-execution.js";
import { type GuardOutputs, outputPrefix } from "./guard-outputs.js";
import { policyOf } from "./guard-policy.js";
import type { Interlock, Proposal, Verdict } from "./guard-types.js";

/** What the executor works with. */
export interface ExecutorParts<TTags extends TagDefinitions> {
  readonly plant: Plant<TTags>;
  readonly audit: AuditLog;
  /** The guard's frozen copy of every tag's policy. */
  readonly policies: Readonly<Record<string, AnyTag>>;
  readonly interlocks: readonly Interlock<TTags>[];
  readonly outputs: GuardOutputs;
  readonly now: () => number;
}

/** How an approved proposal ended, for the decision's acknowledgement. */
export type ExecutionStart = { readonly recorded: true } | { readonly recorded: false; readonly detail: string };

/** The guard's executor. */
export interface Executor<TTags extends TagDefinitions> {
  /** Every check of a proposal against a snapshot read just now. */
  verdictsFor(proposal: Pick<Proposal, "tag" | "value" | "expiresAt">, snapshot: Snapshot<TTags>): Verdict[];
  /**
   * Runs an approved proposal under its tag's lock. `decision` is its decision record, `carry` records that go to
   * disk with it (the proposal, in automatic mode). `started` is told once the decision is on record (or why not).
   * Resolves with the detail its result is settled with; the proposal's state is set.
   */
  execute(
    proposal: Proposal,
    decision: AuditEntry,
    carry: readonly AuditEntry[],
    isClosed: () => boolean,
    started?: (start: ExecutionStart) => void,
  ): Promise<string>;
  /** Resolves when every write in progress has finished. */
  drain(): Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Creates the executor of one guard. */
export function createExecutor<TTags extends TagDefinitions>(parts: ExecutorParts<TTags>): Executor<TTags> {
  const { plant, audit, policies, now } = parts;
  const tagStates = new Map<string, TagWriteState>();
  const tagLocks = new Map<string, Promise<unknown>>();

  // Interval and rate limits survive a restart: the last write of each tag comes from the audit log.
  const stateOf = (tag: string) => {
    let state = tagStates.get(tag);
    if (!state) {
      const last = audit.lastAttempts.get(tag);
      state = last === undefined ? {} : { lastWriteTime: last };
      tagStates.set(tag, state);
    }
    return state;
  };

  function withTagLock<T>(tag: string, run: () => Promise<T>): Promise<T> {
    const next = (tagLocks.get(tag) ?? Promise.resolve()).then(run, run);
    tagLocks.set(
      tag,
      next.catch(() => undefined),
    );
    return next;
  }

  function verdictsFor(proposal: Pick<Proposal, "tag" | "value" | "expiresAt">, snapshot: Snapshot<TTags>) {
    const definition = policyOf(policies, proposal.tag);
    const state = definition ? stateOf(proposal.tag) : {};
    if (definition && state.outcomeUnknown) {
      const sample = snapshot.sample(proposal.tag as TagName<TTags>);
      if (sample.quality !== "bad" && sample.value !== undefined && !sample.stale) {
        state.outcomeUnknown = false;
        audit.append({
          type: "note",
          tag: proposal.tag,
          note: "read back after an unknown outcome",
          value: sample.value,
        });
      }
    }
    return evaluateProposal({
      tagName: proposal.tag,
      tag: definition,
      value: proposal.value,
      snapshot,
      now: now(),
      lastWriteTime: state.lastWriteTime,
      outcomeUnknown: state.outcomeUnknown === true,
      expiresAt: proposal.expiresAt,
      interlocks: definition ? parts.interlocks : [],
    });
  }

  async function run(
    proposal: Proposal,
    decision: AuditEntry,
    carry: readonly AuditEntry[],
    isClosed: () => boolean,
    started: (start: ExecutionStart) => void,
  ): Promise<string> {
    const output = proposal.tag.startsWith(outputPrefix) ? proposal.tag.slice(outputPrefix.length) : undefined;
    const verdicts =
      output === undefined
        ? verdictsFor(proposal, await plant.read())
        : parts.outputs.verdictsFor(output, proposal.value, proposal.expiresAt);
    const failed = verdicts.filter((verdict) => !verdict.passed);
    const definition = policyOf(policies, proposal.tag);
    if (failed.length > 0 || isClosed() || (!definition && output === undefined)) {
      proposal.state = "refused";
      const note = isClosed() ? "the guard closed before the write" : "failed the re-check at approval";
      const detail = failed.map((verdict) => `${verdict.code}: ${verdict.detail}`).join("; ") || note;
      audit.appendBatch([
        ...carry,
        { ...decision, decision: "refused", code: isClosed() ? "guard-closed" : "re-check", verdicts, note },
      ]);
      started({ recorded: true });
      return detail;
    }
    try {
      const before = [...carry, { ...decision, verdicts }];
      proposal.outcome = definition
        ? await executeProposal(proposal, definition, plant, audit, stateOf(proposal.tag), now, before)
        : await parts.outputs.deliver(proposal, before);
    } catch (error) {
      // The decision and attempt could not be put on record: nothing was written, and the log has latched failed.
      proposal.state = "refused";
      const detail = `nothing was written: the audit could not record the attempt (${describe(error)})`;
      started({ recorded: false, detail });
      return detail;
    }
    started({ recorded: true });
    proposal.state = "executed";
    return `write ${proposal.outcome.write}, read-back ${proposal.outcome.readBack}`;
  }

  return {
    verdictsFor,
    execute(proposal, decision, carry, isClosed, started = () => {}) {
      return withTagLock(proposal.tag, async () => {
        try {
          return await run(proposal, decision, carry, isClosed, started);
        } catch (error) {
          proposal.state = "refused";
          const detail = `nothing was written: ${describe(error)}`;
          started({ recorded: false, detail });
          return detail;
        }
      });
    },
    async drain() {
      await Promise.allSettled([...tagLocks.values()]);
    },
  };
}
