/**
 * The deciding part of the guard: what a person's decision does to a proposal. A decision is used once; a rejection
 * settles the proposal; an approval of a two-person tag waits for a second, different person; the last approval runs
 * the proposal through the executor. Every refusal is an audit record with its code. Synchronous up to the executor,
 * so nothing can decide one proposal twice.
 */
import type { AuditLog } from "../audit/audit-log.js";
import type { AuditEntry } from "../audit/audit-record.js";
import { ApprovalError } from "../errors.js";
import type { TagDefinitions } from "../tags.js";
import type { ProposalBook } from "./guard-book.js";
import type { ExecutionStart, Executor } from "./guard-executor.js";
import { publicCopy } from "./guard-proposal.js";
import type { Approval, DeciderIdentity, DecisionRefusalCode, Proposal } from "./guard-types.js";

/** A decision that passed its checks of form, ready to apply. */
export interface Decision {
  readonly decision: "approve" | "reject";
  readonly by: string;
  readonly identity: DeciderIdentity;
  readonly reason?: string;
}

/** What the decider needs. */
export interface DeciderParts<TTags extends TagDefinitions> {
  readonly audit: AuditLog;
  readonly book: ProposalBook;
  readonly executor: Executor<TTags>;
  readonly isClosed: () => boolean;
  /** Two approvals from one OS login (or console login) count as one person. */
  readonly separateApproverUsers: boolean;
}

/** An ApprovalError that carries the refusal code, so callers can answer with it. */
export class DecisionRefused extends ApprovalError {
  readonly refusal: DecisionRefusalCode;
  constructor(id: string, refusal: DecisionRefusalCode, message: string) {
    super(id, message);
    this.refusal = refusal;
  }
}

/** The guard's decider. */
export interface Decider {
  /** Records a refused decision (one audit record). */
  refuse(
    proposalId: string,
    code: DecisionRefusalCode,
    detail: string,
    by: string | undefined,
    identity: DeciderIdentity,
  ): void;
  /**
   * Applies a decision. Throws a DecisionRefused (after recording it) when it cannot be used. `started` hears when
   * the decision is on record (for an approval that runs, after its decision, attempt and write).
   */
  apply(
    proposal: Proposal,
    decision: Decision,
    time: number,
    started?: (start: ExecutionStart) => void,
  ): Promise<Proposal>;
}

/** The most of a decision's reason the audit keeps, in characters. */
export const maxDecisionReason = 2000;

/** A decision's reason as recorded: text only (anything else is dropped), trimmed, capped; blank is none. */
export function decisionReason(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  // Capped by characters, not UTF-16 units, so a cut never leaves half of an emoji in the record.
  const text = Array.from(value.slice(0, maxDecisionReason * 2).trim())
    .slice(0, maxDecisionReason)
    .join("")
    .trim();
  return text || undefined;
}

/** A name as a person is told apart: compatibility-normalised, case-folded, without invisible or format characters. */
function personKey(name: string): string {
  return name
    .normalize("NFKC")
    .replace(/[\p{Cf}\p{Cc}\p{Z}]+/gu, " ")
    .trim()
    .toLowerCase();
}

/** True when two approvals come from one person: the same name, or with separate users the same login. */
function samePerson(first: Approval, second: Decision, byLogin: boolean): boolean {
  if (personKey(first.by) === personKey(second.by)) return true;
  if (!byLogin) return false;
  const a = first.identity;
  const b = second.identity;
  if (a.fileOwnerUid !== undefined && a.fileOwnerUid === b.fileOwnerUid) return true;
  return a.login !== undefined && a.login === b.login;
}

/** Creates the decider of one guard. */
export function createDecider<TTags extends TagDefinitions>(parts: DeciderParts<TTags>): Decider {
  const { audit, book, executor } = parts;
  const record = (proposal: Proposal, decision: Decision, extra: Record<string, unknown>): AuditEntry => ({
    type: "decision",
    proposalId: proposal.id,
    by: decision.by,
    identity: decision.identity,
    ...(decision.reason ? { reason: decision.reason } : {}),
    ...extra,
  });

  function refuse(
    proposalId: string,
    code: DecisionRefusalCode,
    detail: string,
    by: string | undefined,
    identity: DeciderIdentity,
  ): void {
    // With the audit failed, the refusal cannot be recorded; it is still a refusal (nothing is written either way).
    if (audit.failure) return;
    audit.append({ type: "decision", proposalId, decision: "refused", code, detail, ...(by ? { by } : {}), identity });
  }

  function refused(proposal: Proposal, decision: Decision, code: DecisionRefusalCode, detail: string): never {
    refuse(proposal.id, code, detail, decision.by, decision.identity);
    throw new DecisionRefused(proposal.id, code, `Proposal ${proposal.id}: ${detail}`);
  }

  return {
    refuse,
    async apply(proposal, given, time, started = () => {}) {
      // The reason is a person's or a client's own words (untrusted): kept as a capped note, never acted on.
      const { reason: givenReason, ...rest } = given;
      const reason = decisionReason(givenReason);
      const decision: Decision = reason ? { ...rest, reason } : rest;
      if (parts.isClosed()) refused(proposal, decision, "guard-closed", "the write guard is closed");
      if (proposal.state !== "pending") {
        const who = proposal.decidedBy ? ` by ${proposal.decidedBy}` : "";
        refused(
          proposal,
          decision,
          "already-decided",
          `already decided (${proposal.state}${who}); a decision is used once`,
        );
      }
      if (decision.decision === "reject") {
        proposal.state = "declined";
        proposal.decidedBy = decision.by;
        audit.append(record(proposal, decision, { decision: "rejected" }));
        started({ recorded: true });
        return book.settle(proposal, `rejected by ${decision.by}${decision.reason ? `: ${decision.reason}` : ""}`);
      }
      if (time > proposal.expiresAt) {
        const detail = `its approval window closed at ${new Date(proposal.expiresAt).toISOString()}`;
        proposal.state = "refused";
        refuse(proposal.id, "expired", detail, decision.by, decision.identity);
        book.settle(proposal, `expired: ${detail}`);
        throw new DecisionRefused(proposal.id, "expired", `Proposal ${proposal.id} cannot be approved: ${detail}`);
      }
      const first = proposal.approvals[0];
      if (first && samePerson(first, decision, parts.separateApproverUsers)) {
        refused(proposal, decision, "same-person", `${first.by} already approved it; a second, different person must`);
      }
      const approval = { by: decision.by, time, identity: decision.identity };
      if (proposal.approvals.length + 1 < proposal.approvalsRequired) {
        proposal.approvals = [...proposal.approvals, approval];
        audit.append(record(proposal, decision, { decision: "first-approval", of: proposal.approvalsRequired }));
        book.show(proposal);
        started({ recorded: true });
        return publicCopy(proposal);
      }
      proposal.approvals = [...proposal.approvals, approval];
      proposal.state = "approved";
      proposal.decidedBy = decision.by;
      const detail = await executor.execute(
        proposal,
        record(proposal, decision, {
          decision: "approved",
          ...(first ? { approvedBy: proposal.approvals.map((item) => item.by) } : {}),
        }),
        [],
        parts.isClosed,
        started,
      );
      return book.settle(proposal, detail);
    },
  };
}
