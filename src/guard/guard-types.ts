/** The write guard's vocabulary: proposals, verdicts, rejection codes, modes and outcomes. */
import type { Snapshot } from "../sample.js";
import type { TagDefinitions } from "../tags.js";

/** Why a check rejected a proposal. Stable: scripts and dashboards switch on these. */
export type RejectionCode =
  | "unknown-tag"
  | "not-writable"
  | "safety-class"
  | "invalid-value"
  | "state-not-allowed"
  | "out-of-range"
  | "current-not-fresh"
  | "step-too-large"
  | "rate-too-high"
  | "too-soon"
  | "interlock"
  | "outcome-unknown"
  | "expired";

/** One check's result. Every check runs, so the audit shows every reason at once. */
export interface Verdict {
  readonly check: string;
  readonly passed: boolean;
  /** Present when the check failed. */
  readonly code?: RejectionCode;
  /** Plain words: the limit and the value compared. */
  readonly detail: string;
}

/**
 * How guarded writes go out. `shadow`: everything evaluated and audited, nothing written. `approval`: every write
 * waits for a named person. `automatic`: tags whose policy says `approval: "automatic"` are written at once inside
 * their automatic band; everything else waits for approval.
 */
export type GuardMode = "shadow" | "approval" | "automatic";

/** Where a proposal stands. */
export type ProposalState =
  | "rejected" // a check failed; nothing will be written
  | "shadowed" // evaluated and audited only
  | "pending" // waiting for approval
  | "approved" // approved, being executed
  | "declined" // rejected by a person
  | "refused" // an approval came too late, twice, or the re-check failed
  | "executed"; // written once; see the outcome

/** The read-back after a write. */
export type ReadBackStatus = "verified" | "mismatch" | "unverified" | "unavailable";

/** What happened when an approved proposal was executed. */
export interface ExecutionOutcome {
  /** The adapter's answer: acknowledged, failed, or no answer (unknown). */
  readonly write: "written" | "failed" | "unknown";
  readonly readBack: ReadBackStatus;
  /** The value read back, if any. */
  readonly readBackValue?: unknown;
  /** Errors or notes, in plain words. */
  readonly detail?: string;
}

/** Where a proposal came from, for the audit. */
export interface ProposalOrigin {
  /** The loop that proposed it. */
  readonly loop?: string;
  /** The model that proposed it (e.g. "gpt-4.1-mini", "rule:pressure-v2"). */
  readonly modelId?: string;
  /** The prompt text; only its SHA-256 is kept. */
  readonly prompt?: string;
  /** Or its hash, when the caller already has it. */
  readonly promptHash?: string;
}

/** A proposed write of one value to one tag. */
export interface Proposal {
  readonly id: string;
  readonly tag: string;
  readonly value: unknown;
  /** Why, in the model's (or person's) words. Untrusted text: shown to approvers, never executed. */
  readonly reason: string;
  readonly origin: Omit<ProposalOrigin, "prompt">;
  readonly createdAt: number;
  /** After this (ms since the epoch) it can no longer be approved. */
  readonly expiresAt: number;
  /** The current value the checks compared against. */
  readonly current: unknown;
  readonly verdicts: readonly Verdict[];
  state: ProposalState;
  /** Who approved or rejected it. */
  decidedBy?: string;
  outcome?: ExecutionOutcome;
}

/** A condition over the current snapshot that must hold for a write, e.g. "mode is AUTO". */
export interface Interlock<TTags extends TagDefinitions = TagDefinitions> {
  /** A short name shown in verdicts and the audit, e.g. "pump in AUTO". */
  readonly name: string;
  /** The tags it protects. @default every tag */
  readonly tags?: readonly string[];
  /** True when writing is allowed. A throw (e.g. a bad or stale value) counts as false: the guard fails safe. */
  holds(snapshot: Snapshot<TTags>): boolean;
}
