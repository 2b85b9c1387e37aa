/**
 * The guard's book of proposals: the ones it holds in memory (the only copy it trusts), what it shows approvers in
 * its store, and how a proposal is settled (withdrawn from the store, its result recorded, old entries pruned).
 */
import type { ApprovalStore, PendingProposal } from "./approval-store.js";
import { publicCopy } from "./guard-proposal.js";
import type { Proposal } from "./guard-types.js";

const keptSettled = 1000;

/** The proposals one guard holds. */
export interface ProposalBook {
  add(proposal: Proposal): void;
  get(id: string): Proposal | undefined;
  pending(): Proposal[];
  /** The pending proposal for a tag, if any (there is at most one: a newer one supersedes it). */
  pendingFor(tag: string): Proposal | undefined;
  /** Shows a pending proposal to approvers (again, e.g. after a first approval). */
  show(proposal: Proposal): void;
  /** Takes a decided proposal out of the store and records its result; returns a frozen copy. */
  settle(proposal: Proposal, detail: string): Proposal;
}

/** What approvers are shown: the digest's fields and the context around them, never the digest itself. */
function shown(proposal: Proposal, guard: string): PendingProposal {
  return {
    id: proposal.id,
    tag: proposal.tag,
    value: proposal.value,
    current: proposal.current,
    reason: proposal.reason,
    createdAt: proposal.createdAt,
    expiresAt: proposal.expiresAt,
    guard,
    approvalsRequired: proposal.approvalsRequired,
    approvedBy: proposal.approvals.map((approval) => approval.by),
    ...(proposal.origin.loop ? { loop: proposal.origin.loop } : {}),
    ...(proposal.origin.modelId ? { modelId: proposal.origin.modelId } : {}),
    ...(proposal.origin.source ? { source: proposal.origin.source } : {}),
    ...(proposal.origin.user ? { user: proposal.origin.user } : {}),
  };
}

/** Creates the book of a guard whose identity is `guard`. */
export function createProposalBook(store: ApprovalStore, guard: string): ProposalBook {
  const proposals = new Map<string, Proposal>();
  const isPending = (proposal: Proposal) => proposal.state === "pending";
  return {
    add: (proposal) => void proposals.set(proposal.id, proposal),
    get: (id) => proposals.get(id),
    pending: () => [...proposals.values()].filter(isPending),
    pendingFor: (tag) => [...proposals.values()].find((proposal) => isPending(proposal) && proposal.tag === tag),
    show: (proposal) => store.publish(shown(proposal, guard)),
    settle(proposal, detail) {
      store.withdraw(proposal.id);
      store.recordResult({ id: proposal.id, state: proposal.state, detail });
      const settled = [...proposals.values()].filter((item) => !isPending(item) && item.state !== "approved");
      for (const old of settled.slice(0, Math.max(0, settled.length - keptSettled))) proposals.delete(old.id);
      return publicCopy(proposal);
    },
  };
}
