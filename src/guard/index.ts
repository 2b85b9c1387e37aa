/** The write guard, approvals and their stores. */
export {
  type ApprovalStore,
  type Decision,
  fileApprovalStore,
  memoryApprovalStore,
  type PendingProposal,
  type ProposalResult,
} from "./approval-store.js";
export { type CheckInput, evaluateProposal } from "./guard-checks.js";
export type {
  ExecutionOutcome,
  GuardMode,
  Interlock,
  Proposal,
  ProposalOrigin,
  ProposalState,
  ReadBackStatus,
  RejectionCode,
  Verdict,
} from "./guard-types.js";
export { valueProblem } from "./value-check.js";
export { createGuard, type GuardOptions, type ProposeOptions, type WriteGuard } from "./write-guard.js";
