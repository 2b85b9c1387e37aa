/** The in-memory approval store: decisions through the API only (and whatever shares this object). */
import type {
  ApprovalStore,
  DecisionAck,
  FiledDecision,
  GuardPresence,
  PendingProposal,
  ProposalResult,
} from "./approval-types.js";

/** An in-memory store: decisions through the API only (and whatever shares this object). */
export function memoryApprovalStore(): ApprovalStore {
  const pending = new Map<string, PendingProposal>();
  // Keyed by "<id>.<nonce>", in the order filed (a Map keeps insertion order).
  const decisions = new Map<string, FiledDecision>();
  const acks = new Map<string, DecisionAck>();
  const results = new Map<string, ProposalResult>();
  let presence: GuardPresence | undefined;
  const key = (id: string, nonce: string) => `${id}.${nonce}`;
  return {
    publish: (proposal) => void pending.set(proposal.id, proposal),
    withdraw: (id) => void pending.delete(id),
    pending: () => [...pending.values()].sort((a, b) => a.createdAt - b.createdAt),
    sweep: () => {},
    submit(decision) {
      if (decisions.has(key(decision.id, decision.nonce))) return false;
      decisions.set(key(decision.id, decision.nonce), structuredClone(decision));
      return true;
    },
    waiting: () => [...decisions.values()].map(({ id, nonce }) => ({ id, nonce })),
    take(id, nonce) {
      const decision = decisions.get(key(id, nonce));
      if (!decision) return undefined;
      decisions.delete(key(id, nonce));
      return { id, content: decision };
    },
    withdrawDecision: (id, nonce) => decisions.delete(key(id, nonce)),
    acknowledge: (ack) => void acks.set(key(ack.id, ack.nonce), ack),
    acknowledgement: (id, nonce) => acks.get(key(id, nonce)),
    recordResult: (result) => void results.set(result.id, result),
    result: (id) => results.get(id),
    announce: (next) => {
      presence = next;
    },
    presence: () => presence,
    leave(guard) {
      if (presence?.guard === guard) presence = undefined;
    },
  };
}
