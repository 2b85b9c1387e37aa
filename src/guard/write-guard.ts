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

/** The write guard. */
export interface WriteGuard<TTags extends TagDefinitions> {
  /** Checks and audits one proposal per tag; executes or holds each as the mode and policy say. */
  propose(values: { readonly [K in TagName<TTags>]?: unknown }, options: ProposeOptions): Promise<Proposal[]>;
  /** Approves a pending proposal: re-checks against the current snapshot, then writes once and reads back. */
  approve(id: string, by: { by: string }): Promise<Proposal>;
  /** Rejects a pending proposal. */
  reject(id: string, by: { by: string; reason?: string }): Promise<Proposal>;
  /** Proposals waiting for approval. */
  pending(): Proposal[];
  /** Any proposal this guard has seen. */
  get(id: string): Proposal | undefined;
  /** Stops polling for CLI decisions and closes the audit log if the guard opened it. */
  close(): Promise<void>;
}

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
  const stateOf = (tag: string) => tagStates.get(tag) ?? tagStates.set(tag, {}).get(tag)!;

  /** Serialises everything that checks and writes one tag, so two approvals never interleave. */
  function withTagLock<T>(tag: string, run: () => Promise<T>): Promise<T> {
    const previous = tagLocks.get(tag) ?? Promise.resolve();
    const next = previous.then(run, run);
    tagLocks.set(
      tag,
      next.catch(() => undefined),
    );
    return next;
  }

  function verdictsFor(proposal: Pick<Proposal, "tag" | "value" | "expiresAt">, snapshot: Snapshot<TTags>) {
    const state = stateOf(proposal.tag);
    if (state.outcomeUnknown) {
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
      tag: plant.tags[proposal.tag] as AnyTag | undefined,
      value: proposal.value,
      snapshot,
      now: now(),
      lastWriteTime: state.lastWriteTime,
      outcomeUnknown: state.outcomeUnknown === true,
      expiresAt: proposal.expiresAt,
      interlocks: options.interlocks ?? [],
    });
  }

  function settle(proposal: Proposal, detail: string): Proposal {
    store.withdraw(proposal.id);
    store.recordResult({ id: proposal.id, state: proposal.state, detail });
    return proposal;
  }

  async function execute(proposal: Proposal, by: string): Promise<Proposal> {
    return withTagLock(proposal.tag, async () => {
      const snapshot = await plant.read();
      const verdicts = verdictsFor(proposal, snapshot);
      const failed = verdicts.filter((verdict) => !verdict.passed);
      if (failed.length > 0) {
        proposal.state = "refused";
        audit.append({
          type: "decision",
          proposalId: proposal.id,
          decision: "refused",
          by,
          verdicts,
          note: "failed the re-check at approval",
        });
        return settle(proposal, failed.map((verdict) => `${verdict.code}: ${verdict.detail}`).join("; "));
      }
      proposal.state = "approved";
      proposal.decidedBy = by;
      audit.append({ type: "decision", proposalId: proposal.id, decision: "approved", by, verdicts });
      proposal.outcome = await executeProposal(proposal, plant, audit, stateOf(proposal.tag), now);
      proposal.state = "executed";
      return settle(proposal, `write ${proposal.outcome.write}, read-back ${proposal.outcome.readBack}`);
    });
  }

  function refuse(proposal: Proposal, by: string, code: "expired", detail: string): never {
    proposal.state = "refused";
    audit.append({ type: "decision", proposalId: proposal.id, decision: "refused", by, code, detail });
    settle(proposal, `${code}: ${detail}`);
    throw new ApprovalError(proposal.id, `Proposal ${proposal.id} cannot be approved: ${detail}`);
  }

  async function decide(id: string, decision: "approve" | "reject", by: string, reason?: string): Promise<Proposal> {
    const proposal = proposals.get(id);
    if (!proposal)
      throw new ApprovalError(id, `No proposal ${id} here. Run "plantwire proposals" to list pending ones.`);
    if (
      proposal.state !== "pending" ||
      !store.claim({ id, decision, by, time: now(), ...(reason ? { reason } : {}) })
    ) {
      const recorded = store.decision(id);
      if (proposal.state === "pending" && recorded)
        return applyDecision(proposal, recorded.decision, recorded.by, recorded.time, recorded.reason);
      audit.append({
        type: "decision",
        proposalId: id,
        decision: "refused",
        by,
        code: "already-decided",
        detail: `state ${proposal.state}`,
      });
      throw new ApprovalError(
        id,
        `Proposal ${id} was already decided (${proposal.state}${proposal.decidedBy ? ` by ${proposal.decidedBy}` : ""}); an approval can be used once.`,
      );
    }
    return applyDecision(proposal, decision, by, now(), reason);
  }

  async function applyDecision(
    proposal: Proposal,
    decision: "approve" | "reject",
    by: string,
    time: number,
    reason?: string,
  ) {
    if (decision === "reject") {
      proposal.state = "declined";
      proposal.decidedBy = by;
      audit.append({ type: "decision", proposalId: proposal.id, decision: "rejected", by, reason });
      return settle(proposal, `rejected by ${by}${reason ? `: ${reason}` : ""}`);
    }
    if (time > proposal.expiresAt)
      refuse(proposal, by, "expired", `its approval window closed at ${new Date(proposal.expiresAt).toISOString()}`);
    return execute(proposal, by);
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
      if (typeof proposeOptions?.reason !== "string") {
        throw new ConfigError([
          { path: "reason", message: "missing", fix: "give every proposal a reason, e.g. { reason: advice.why }" },
        ]);
      }
      const snapshot = await plant.read();
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
        const verdicts = known
          ? verdictsFor(base, snapshot)
          : evaluateProposal({
              tagName: tag,
              tag: undefined,
              value,
              snapshot,
              now: createdAt,
              lastWriteTime: undefined,
              outcomeUnknown: false,
              expiresAt: base.expiresAt,
              interlocks: [],
            });
        const current = known ? snapshot.sample(tag as TagName<TTags>).value : undefined;
        const definition = known ? (plant.tags[tag] as AnyTag) : undefined;
        const passed = verdicts.every((verdict) => verdict.passed);
        const shadow = mode === "shadow" || definition?.write?.shadow === true;
        const band = definition?.write?.automaticRange;
        const automatic =
          mode === "automatic" &&
          definition?.write?.approval === "automatic" &&
          (!band || (typeof value === "number" && value >= band[0] && value <= band[1]));
        const proposal: Proposal = {
          ...base,
          current,
          verdicts,
          state: !passed ? "rejected" : shadow ? "shadowed" : "pending",
        };
        proposals.set(proposal.id, proposal);
        audit.append({
          type: "proposal",
          proposalId: proposal.id,
          tag,
          value,
          reason: proposal.reason,
          ...origin,
          current,
          basis: {
            time: snapshot.time,
            values: Object.fromEntries(
              snapshot
                .entries()
                .map(([name, sample]) => [
                  name,
                  sample.stale ? "STALE" : sample.quality === "bad" ? null : sample.value,
                ]),
            ),
          },
          verdicts,
          disposition: !passed ? "rejected" : shadow ? "shadow" : automatic ? "automatic" : "pending-approval",
        });
        if (passed && !shadow) {
          if (automatic) {
            store.claim({ id: proposal.id, decision: "approve", by: "automatic", time: createdAt });
            await execute(proposal, "automatic");
          } else {
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
        }
        created.push(proposal);
      }
      return created;
    },
    approve: (id, { by }) => decide(id, "approve", by),
    reject: (id, { by, reason }) => decide(id, "reject", by, reason),
    pending: () => [...proposals.values()].filter((proposal) => proposal.state === "pending"),
    get: (id) => proposals.get(id),
    async close() {
      clearInterval(poller);
      await Promise.allSettled([...tagLocks.values()]);
      if (ownsAudit) audit.close();
    },
  };
}
