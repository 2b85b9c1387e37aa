/**
 * The write guard: the one path from a proposal to a device. Every proposal is checked, audited, and then shadowed,
 * rejected, executed automatically inside a tag's automatic band, or held for a named person's approval.
 */
import { randomUUID } from "node:crypto";
import { AuditLog } from "../audit/audit-log.js";
import { sha256 } from "../audit/audit-record.js";
import { ApprovalError, ConfigError } from "../errors.js";
import type { Plant } from "../plant.js";
import type { Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions, TagName } from "../tags.js";
import { type ApprovalStore, fileApprovalStore, memoryApprovalStore } from "./approval-store.js";
import { evaluateProposal } from "./guard-checks.js";
import { executeProposal, type TagWriteState } from "./guard-execution.js";
import { auditProposal, dispositionOf, publicCopy } from "./guard-proposal.js";
import type { GuardMode, Interlock, Proposal, ProposalOrigin } from "./guard-types.js";

/** Options of {@link createGuard}. */
export interface GuardOptions<TTags extends TagDefinitions> {
  plant: Plant<TTags>;
  /** The audit log: a file path (JSON lines, hash-chained) or an open log. Required: no write without a record. */
  audit: string | AuditLog;
  /** @default "approval" */
  mode?: GuardMode;
  /** Conditions over the current snapshot that must hold for writes. */
  interlocks?: readonly Interlock<TTags>[];
  /** How long a proposal can be approved. @default 300000 (5 minutes) */
  proposalTtlMs?: number;
  /** Where proposals wait: a folder shared with the `plantwire approve` CLI, or a store. @default in memory (API only) */
  approvals?: string | ApprovalStore;
  /** How often to look for decisions made by the CLI. @default 500 */
  decisionPollMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** What a proposal says besides its values. */
export interface ProposeOptions extends ProposalOrigin {
  /** Why, in the proposer's words. */
  reason: string;
}

/** The write guard. One per plant: its interval and rate limits, locks and audit chain are its own. */
export interface WriteGuard<TTags extends TagDefinitions> {
  /** Checks and audits one proposal per tag; executes or holds each as the mode and policy say. */
  propose(values: { readonly [K in TagName<TTags>]?: unknown }, options: ProposeOptions): Promise<Proposal[]>;
  /** Approves a pending proposal: re-checks against the current snapshot, then writes once and reads back. */
  approve(id: string, by: { by: string }): Promise<Proposal>;
  /** Rejects a pending proposal. */
  reject(id: string, by: { by: string; reason?: string }): Promise<Proposal>;
  /** Proposals waiting for approval (copies). */
  pending(): Proposal[];
  /** A proposal this guard has seen recently (a copy). */
  get(id: string): Proposal | undefined;
  /**
   * Records a model answer that failed validation (a ModelOutputError: truncated JSON, wrong types, extra fields, a
   * tool call for an unknown or read-only tag): one `rejection` audit record with the problems, the raw text (capped
   * at 4000 characters) and its SHA-256. Nothing in the answer is proposed. Loops call this for their model's answers.
   */
  rejectAnswer(answer: RejectedAnswer, origin: ProposalOrigin): void;
  /** Refuses everything from now on, waits for writes in progress, and closes the audit log if the guard opened it. */
  close(): Promise<void>;
}

/** A model answer that failed validation, as the audit keeps it (a ModelOutputError has these fields). */
export interface RejectedAnswer {
  readonly message: string;
  readonly rawText: string;
  readonly issues: readonly string[];
}

const keptRawText = 4000;

const keptSettled = 1000;

/** Creates the write guard for a plant. */
export function createGuard<TTags extends TagDefinitions>(options: GuardOptions<TTags>): WriteGuard<TTags> {
  const { plant } = options;
  const now = options.now ?? Date.now;
  const mode = options.mode ?? "approval";
  const ttl = options.proposalTtlMs ?? 300_000;
  const ownsAudit = typeof options.audit === "string";
  const audit = typeof options.audit === "string" ? AuditLog.open(options.audit, { now }) : options.audit;
  const store =
    typeof options.approvals === "string"
      ? fileApprovalStore(options.approvals)
      : (options.approvals ?? memoryApprovalStore());
  const proposals = new Map<string, Proposal>();
  const tagStates = new Map<string, TagWriteState>();
  const tagLocks = new Map<string, Promise<unknown>>();
  let closed = false;
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

  function refuseWhenClosed(id = "-"): void {
    if (closed) throw new ApprovalError(id, "The write guard is closed; nothing more is proposed or written.");
  }

  /** Serialises everything that checks and writes one tag, so two approvals never interleave. */
  function withTagLock<T>(tag: string, run: () => Promise<T>): Promise<T> {
    const next = (tagLocks.get(tag) ?? Promise.resolve()).then(run, run);
    tagLocks.set(
      tag,
      next.catch(() => undefined),
    );
    return next;
  }

  function verdictsFor(proposal: Pick<Proposal, "tag" | "value" | "expiresAt">, snapshot: Snapshot<TTags>) {
    const known = Object.hasOwn(plant.tags, proposal.tag);
    const state = known ? stateOf(proposal.tag) : {};
    if (known && state.outcomeUnknown) {
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
      tag: known ? (plant.tags[proposal.tag] as AnyTag) : undefined,
      value: proposal.value,
      snapshot,
      now: now(),
      lastWriteTime: state.lastWriteTime,
      outcomeUnknown: state.outcomeUnknown === true,
      expiresAt: proposal.expiresAt,
      interlocks: known ? (options.interlocks ?? []) : [],
    });
  }

  function settle(proposal: Proposal, detail: string): Proposal {
    store.withdraw(proposal.id);
    store.recordResult({ id: proposal.id, state: proposal.state, detail });
    const settled = [...proposals.values()].filter((item) => item.state !== "pending");
    for (const old of settled.slice(0, Math.max(0, settled.length - keptSettled))) proposals.delete(old.id);
    return publicCopy(proposal);
  }

  /** Runs an approved proposal. The caller has already moved it out of "pending", synchronously. */
  function execute(proposal: Proposal, by: string): Promise<Proposal> {
    return withTagLock(proposal.tag, async () => {
      const snapshot = await plant.read();
      const verdicts = verdictsFor(proposal, snapshot);
      const failed = verdicts.filter((verdict) => !verdict.passed);
      if (failed.length > 0 || closed) {
        proposal.state = "refused";
        const note = closed ? "the guard closed before the write" : "failed the re-check at approval";
        audit.append({ type: "decision", proposalId: proposal.id, decision: "refused", by, verdicts, note });
        return settle(proposal, failed.map((verdict) => `${verdict.code}: ${verdict.detail}`).join("; ") || note);
      }
      audit.append({ type: "decision", proposalId: proposal.id, decision: "approved", by, verdicts });
      proposal.outcome = await executeProposal(proposal, plant, audit, stateOf(proposal.tag), now);
      proposal.state = "executed";
      return settle(proposal, `write ${proposal.outcome.write}, read-back ${proposal.outcome.readBack}`);
    });
  }

  /** Applies a decision to a pending proposal. Synchronous up to `execute`, so nothing can decide it twice. */
  function applyDecision(
    proposal: Proposal,
    decision: "approve" | "reject",
    by: string,
    time: number,
    reason?: string,
  ) {
    if (proposal.state !== "pending") {
      audit.append({
        type: "decision",
        proposalId: proposal.id,
        decision: "refused",
        by,
        code: "already-decided",
        detail: `state ${proposal.state}`,
      });
      throw new ApprovalError(
        proposal.id,
        `Proposal ${proposal.id} was already decided (${proposal.state}${proposal.decidedBy ? ` by ${proposal.decidedBy}` : ""}); an approval can be used once.`,
      );
    }
    proposal.decidedBy = by;
    if (decision === "reject") {
      proposal.state = "declined";
      audit.append({ type: "decision", proposalId: proposal.id, decision: "rejected", by, reason });
      return Promise.resolve(settle(proposal, `rejected by ${by}${reason ? `: ${reason}` : ""}`));
    }
    if (time > proposal.expiresAt) {
      proposal.state = "refused";
      const detail = `its approval window closed at ${new Date(proposal.expiresAt).toISOString()}`;
      audit.append({ type: "decision", proposalId: proposal.id, decision: "refused", by, code: "expired", detail });
      settle(proposal, `expired: ${detail}`);
      throw new ApprovalError(proposal.id, `Proposal ${proposal.id} cannot be approved: ${detail}`);
    }
    proposal.state = "approved";
    return execute(proposal, by);
  }

  async function decide(id: string, decision: "approve" | "reject", by: string, reason?: string): Promise<Proposal> {
    refuseWhenClosed(id);
    if (typeof by !== "string" || by.trim().length === 0) {
      throw new ApprovalError(id, 'An approval or rejection needs the name of the person deciding: { by: "alice" }.');
    }
    const proposal = proposals.get(id);
    if (!proposal)
      throw new ApprovalError(id, `No proposal ${id} here. Run "plantwire proposals" to list pending ones.`);
    if (
      proposal.state === "pending" &&
      !store.claim({ id, decision, by, time: now(), ...(reason ? { reason } : {}) })
    ) {
      // Decided elsewhere (the CLI) but not yet picked up: apply that decision, then refuse this one.
      const recorded = store.decision(id);
      if (recorded)
        await applyDecision(proposal, recorded.decision, recorded.by, recorded.time, recorded.reason).catch(() => {});
    }
    return applyDecision(proposal, decision, by.trim(), now(), reason);
  }

  // Decisions made by the CLI in another process arrive through the store.
  const poller = setInterval(() => {
    for (const proposal of proposals.values()) {
      if (proposal.state !== "pending") continue;
      const recorded = store.decision(proposal.id);
      if (recorded) {
        applyDecision(proposal, recorded.decision, recorded.by, recorded.time, recorded.reason).catch(() => {});
      } else if (now() > proposal.expiresAt) {
        proposal.state = "refused";
        audit.append({
          type: "decision",
          proposalId: proposal.id,
          decision: "refused",
          by: "guard",
          code: "expired",
          detail: "no decision within its TTL",
        });
        settle(proposal, "expired: no decision within its TTL");
      }
    }
  }, options.decisionPollMs ?? 500);
  poller.unref();

  return {
    async propose(values, proposeOptions) {
      refuseWhenClosed();
      if (typeof proposeOptions?.reason !== "string") {
        throw new ConfigError([
          { path: "reason", message: "missing", fix: "give every proposal a reason, e.g. { reason: advice.why }" },
        ]);
      }
      const snapshot = await plant.read();
      refuseWhenClosed();
      const created: Proposal[] = [];
      const promptHash =
        proposeOptions.promptHash ?? (proposeOptions.prompt ? sha256(proposeOptions.prompt) : undefined);
      const origin = { loop: proposeOptions.loop, modelId: proposeOptions.modelId, promptHash };
      for (const [tag, value] of Object.entries(values as Record<string, unknown>)) {
        const createdAt = now();
        const base = {
          id: randomUUID(),
          tag,
          value,
          reason: proposeOptions.reason.slice(0, 2000),
          origin,
          createdAt,
          expiresAt: createdAt + ttl,
        };
        const known = Object.hasOwn(plant.tags, tag);
        const verdicts = verdictsFor(base, snapshot);
        const definition = known ? (plant.tags[tag] as AnyTag) : undefined;
        const disposition = dispositionOf(verdicts, mode, definition, value);
        const current = known ? snapshot.sample(tag as TagName<TTags>).value : undefined;
        const state = disposition === "rejected" ? "rejected" : disposition === "shadow" ? "shadowed" : "pending";
        const proposal: Proposal = { ...base, current, verdicts, state };
        proposals.set(proposal.id, proposal);
        auditProposal(audit, proposal, snapshot, disposition);
        if (disposition === "automatic") {
          store.claim({ id: proposal.id, decision: "approve", by: "automatic", time: createdAt });
          created.push(await applyDecision(proposal, "approve", "automatic", createdAt));
          continue;
        }
        if (disposition === "pending-approval") {
          store.publish({
            id: proposal.id,
            tag,
            value,
            current,
            reason: proposal.reason,
            createdAt,
            expiresAt: proposal.expiresAt,
            ...(origin.loop ? { loop: origin.loop } : {}),
            ...(origin.modelId ? { modelId: origin.modelId } : {}),
          });
        }
        created.push(publicCopy(proposal));
      }
      return created;
    },
    approve: (id, { by }) => decide(id, "approve", by),
    reject: (id, { by, reason }) => decide(id, "reject", by, reason),
    pending: () => [...proposals.values()].filter((proposal) => proposal.state === "pending").map(publicCopy),
    get: (id) => {
      const proposal = proposals.get(id);
      return proposal ? publicCopy(proposal) : undefined;
    },
    rejectAnswer(answer, origin) {
      refuseWhenClosed();
      const raw = String(answer.rawText);
      const promptHash = origin.promptHash ?? (origin.prompt ? sha256(origin.prompt) : undefined);
      audit.append({
        type: "rejection",
        ...(origin.loop ? { loop: origin.loop } : {}),
        ...(origin.modelId ? { modelId: origin.modelId } : {}),
        ...(promptHash ? { promptHash } : {}),
        error: String(answer.message).split("\n")[0],
        issues: answer.issues.slice(0, 50).map((issue) => String(issue).slice(0, 500)),
        rawText: raw.slice(0, keptRawText),
        rawTextLength: raw.length,
        rawTextHash: sha256(raw),
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(poller);
      await Promise.allSettled([...tagLocks.values()]);
      if (ownsAudit) audit.close();
    },
  };
}
