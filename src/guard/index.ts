/** The write guard, approvals and their stores. */
export {
  type ApprovalStore,
  type DecisionAck,
  type DecisionAnswer,
  type DecisionRef,
  type DecisionTaken,
  type FiledDecision,
  fileApprovalStore,
  type GuardPresence,
  isPresent,
  memoryApprovalStore,
  type PendingProposal,
  type ProposalResult,
  presenceTimeoutMs,
  type TakenDecision,
} from "./approval-store.js";
export { type DeviceLockOptions, type DeviceLocks, defaultDeviceLockFolder, lockDevices } from "./device-locks.js";
export { type CheckInput, evaluateProposal } from "./guard-checks.js";
export { DecisionRefused } from "./guard-decisions.js";
export type { OutputPolicies, OutputPolicy } from "./guard-outputs.js";
export type {
  Approval,
  DeciderIdentity,
  DecisionRefusalCode,
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
export { type DigestFields, proposalDigest } from "./proposal-digest.js";
export { type ProposerGuard, proposerOnly } from "./proposer-only.js";
export { valueProblem } from "./value-check.js";
export {
  createGuard,
  type DecideOptions,
  type GuardOptions,
  type GuardStatus,
  type LoginIdentity,
  type ProposeOptions,
  type WriteGuard,
} from "./write-guard.js";
