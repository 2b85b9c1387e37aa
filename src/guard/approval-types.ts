/**
 * The shapes kept in an approval store: what approvers are shown, what they file, the guard's answers and presence,
 * and the store's interface (a folder shared with the CLI, or memory). See approval-store.ts for the folder layout.
 */
import type { DecisionRefusalCode } from "./guard-types.js";

/** What approvers see of a pending proposal: the fields its digest covers, and the context around them. */
export interface PendingProposal {
  readonly id: string;
  readonly tag: string;
  readonly value: unknown;
  readonly current: unknown;
  readonly reason: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The identity of the guard that holds it (part of the digest). */
  readonly guard: string;
  /** How many different people must approve it. */
  readonly approvalsRequired: 1 | 2;
  /** Who has approved it so far (the first of two). */
  readonly approvedBy: readonly string[];
  readonly loop?: string;
  readonly modelId?: string;
  /** Where it came from outside a loop, e.g. "mcp:claude-desktop", and the person whose token it came with. */
  readonly source?: string;
  readonly user?: string;
}

/** A decision as filed by a person's tool. Read back unvalidated: the guard checks every field. */
export interface FiledDecision {
  readonly id: string;
  readonly decision: "approve" | "reject";
  readonly by: string;
  /** The digest of the proposal as shown to the person. */
  readonly digest: string;
  readonly time: number;
  /** Random, chosen by the filer: it names the decision's file, and the guard's answer names it. */
  readonly nonce: string;
  readonly reason?: string;
  readonly osUser?: string;
  readonly pid?: number;
  readonly host?: string;
}

/** A filed decision waiting for the guard: the proposal it is for and the filer's nonce. */
export interface DecisionRef {
  readonly id: string;
  readonly nonce: string;
}

/** A decision file taken by the guard: its raw content and who owns the file. */
export interface TakenDecision {
  readonly id: string;
  /** The parsed JSON, or undefined when the file was not JSON (or could not be read: see `unreadable`). */
  readonly content: unknown;
  /** The owner of the decision file itself (a link is never followed). */
  readonly fileOwnerUid?: number;
  /** Why the file was not read, e.g. "is a FIFO, not a regular file": the decision is malformed. */
  readonly unreadable?: string;
}

/** The guard's first answer: it has the decision and will record what it does with it. */
export interface DecisionTaken {
  readonly id: string;
  readonly nonce: string;
  readonly stage: "taken";
  readonly time: number;
}

/** The guard's final answer to one filed decision. */
export interface DecisionAnswer {
  readonly id: string;
  readonly nonce: string;
  readonly stage: "answered";
  /** True when the guard recorded the decision and acted on it. */
  readonly accepted: boolean;
  readonly code?: DecisionRefusalCode;
  /** The proposal's state after the decision. */
  readonly state: string;
  readonly detail: string;
}

/** The guard's answer to one filed decision: taken (the outcome follows), then answered. */
export type DecisionAck = DecisionTaken | DecisionAnswer;

/** The final word on a proposal, for approvers waiting on it. */
export interface ProposalResult {
  readonly id: string;
  readonly state: string;
  readonly detail: string;
}

/** A running guard's presence beside its approvals. */
export interface GuardPresence {
  readonly guard: string;
  readonly pid: number;
  readonly host: string;
  readonly user: string;
  readonly audit: string;
  readonly startedAt: number;
  /** Refreshed while the guard runs. */
  readonly beatAt: number;
}

/** Storage for pending proposals, decisions, answers, results and the guard's presence. */
export interface ApprovalStore {
  /** Where the store keeps its files, for messages (undefined: in memory). */
  readonly location?: string;
  publish(proposal: PendingProposal): void;
  withdraw(id: string): void;
  /** The pending proposals that can be shown; anything else in the store is skipped. */
  pending(): PendingProposal[];
  /** Removes what `pending()` skips (a guard calls it on start, once it holds the store). */
  sweep(): void;
  /** Files a decision under its nonce; false when a decision with that nonce is already filed. */
  submit(decision: FiledDecision): boolean;
  /** The decisions waiting to be taken, oldest first. */
  waiting(): DecisionRef[];
  /** Takes a waiting decision (atomically: the guard or a withdrawing filer gets it, never both). */
  take(id: string, nonce: string): TakenDecision | undefined;
  /** Takes back a decision this store filed; false when the guard took it first (or this store did not file it). */
  withdrawDecision(id: string, nonce: string): boolean;
  acknowledge(ack: DecisionAck): void;
  acknowledgement(id: string, nonce: string): DecisionAck | undefined;
  recordResult(result: ProposalResult): void;
  result(id: string): ProposalResult | undefined;
  /** Announces (or refreshes) the running guard. */
  announce(presence: GuardPresence): void;
  presence(): GuardPresence | undefined;
  /** Removes the presence, if it is still this guard's. */
  leave(guard: string): void;
}
