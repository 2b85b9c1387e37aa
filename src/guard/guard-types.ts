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
  | "expired"
  | "audit-failed"
  | "unknown-output" // a guarded output that was not declared
  | "too-large"; // a guarded output's item over its maxBytes

/**
 * Why a decision (an approval or a rejection) was refused and not acted on. Every refused decision is an audit
 * record with one of these; the proposal it names is left as it was.
 */
export type DecisionRefusalCode =
  | "malformed" // not a decision record at all (bad JSON, wrong field types)
  | "unknown-decision" // `decision` is not exactly "approve" or "reject"
  | "blank-approver" // no person named
  | "digest-mismatch" // the person decided on something other than the proposal as the guard holds it
  | "copied-from-another-id" // the decision names another proposal than the one it was filed for
  | "unknown-proposal" // no pending proposal with that id here (decided, expired, abandoned, or never made)
  | "already-decided" // a decision is used once
  | "expired" // after the proposal's approval window closed
  | "same-process" // the process that proposed tried to approve without allowSameProcessApproval
  | "same-person" // the second approval of a two-person tag came from the first approver (name or login)
  | "same-user" // with separateApproverUsers: filed by the guard's own OS user
  | "guard-closed"; // the guard was closing

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
  | "refused" // an approval came too late, or the re-check failed, or the audit could not record the write
  | "superseded" // a newer proposal for the same tag replaced it before anyone decided
  | "abandoned" // the guard that held it stopped; a restarted guard found it and removed it
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
  /** Where a proposal came from outside a loop, e.g. "mcp:claude-desktop" (an MCP client, by the name it gave). */
  readonly source?: string;
  /** The person whose credentials the proposal came with (an API token's user), not a decider. */
  readonly user?: string;
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
  /**
   * SHA-256 over the canonical id, tag, value, current value, expiry and the guard's identity: what a person saw.
   * A decision must carry it; one made on anything else (an edited pending file, another proposal) is refused.
   */
  readonly digest: string;
  /** How many different people must approve it (the tag's `write.approvals`). */
  readonly approvalsRequired: 1 | 2;
  /** The approvals given so far (the first one of a two-person tag, while it waits for the second). */
  approvals: readonly Approval[];
  state: ProposalState;
  /** Who approved (the last approver) or rejected it. */
  decidedBy?: string;
  outcome?: ExecutionOutcome;
}

/** How the person behind a decision was identified, as the audit keeps it. */
export interface DeciderIdentity {
  /** Through which door the decision came: the API in the guard's process, the CLI's decision file, the console. */
  readonly via: "api" | "cli" | "console" | "guard";
  /** The operating-system user of the process that made the decision, as that process reported it. */
  readonly osUser?: string;
  /** The owner (uid) of the decision file, as the file system reports it: not something the decider can claim. */
  readonly fileOwnerUid?: number;
  /** The deciding process and host, as reported. */
  readonly pid?: number;
  readonly host?: string;
  /** The logged-in user and client address (console). */
  readonly login?: string;
  readonly client?: string;
}

/** One approval of a proposal. */
export interface Approval {
  readonly by: string;
  readonly time: number;
  readonly identity: DeciderIdentity;
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
