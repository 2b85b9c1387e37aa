/** The write guard's public shape: its options, what proposals and decisions take, its status. */
import type { AuditLog } from "../audit/audit-log.js";
import type { Logger } from "../logger.js";
import type { Plant } from "../plant.js";
import type { TagDefinitions, TagName } from "../tags.js";
import type { ApprovalStore } from "./approval-store.js";
import type { OutputPolicies } from "./guard-outputs.js";
import type { GuardMode, Interlock, Proposal, ProposalOrigin } from "./guard-types.js";

/** Options of {@link createGuard}. */
export interface GuardOptions<TTags extends TagDefinitions> {
  plant: Plant<TTags>;
  /** The audit log: a file path (JSON lines, hash-chained) or an open log. Required: no write without a record. */
  audit: string | AuditLog;
  /** @default "approval" */
  mode?: GuardMode;
  /**
   * The tags this guard may write; proposals for any other are rejected as not writable, and no other device is
   * locked. A guard that only sends outputs (an alarm explainer) says `writable: []`. @default every writable tag
   */
  writable?: readonly TagName<TTags>[];
  /** Conditions over the current snapshot that must hold for writes. */
  interlocks?: readonly Interlock<TTags>[];
  /** How long a proposal can be approved. @default 300000 (5 minutes) */
  proposalTtlMs?: number;
  /** Where proposals wait: a folder shared with the `plantwire approve` CLI, or a store. @default in memory (API only) */
  approvals?: string | ApprovalStore;
  /** How often to look for decisions made by the CLI. @default 500 */
  decisionPollMs?: number;
  /**
   * Lets `guard.approve()` in this process approve what this process proposed. Off by default: the proposer never
   * decides its own proposals; a person does, from another process (the CLI) or a console. Turn it on only where a
   * person stands behind the call (the demo, tests); a server that logs people in uses `loginDecisions`. @default false
   */
  allowSameProcessApproval?: boolean;
  /**
   * The login door: `approve()`/`reject()` in this process accept a decision that carries a logged-in person's identity
   * (`DecideOptions.identity`, set by `plantwire serve` after its own authentication of the person: a console login
   * or an API token). Only such decisions; any other approval from this process is still refused as "same-process".
   * Whoever holds this guard object can decide, so never hand it to proposers: loops get `proposerOnly(guard)`.
   * @default false
   */
  loginDecisions?: boolean;
  /**
   * Refuses approvals filed by the guard's own OS user (the owner of the decision file), and counts two approvals
   * from one OS login as one person for two-person tags. Turn it on where the deployment separates them (a service
   * user proposes; approvers decide as themselves, see docs/deploy.md): then a script running as the service user
   * cannot approve by writing a decision file. @default false (one user on a development box)
   */
  separateApproverUsers?: boolean;
  /**
   * The machine-wide folder of device locks: one guard writes each device (a second guard on the same endpoint,
   * unit, topic or table refuses to start, naming the first). `false` turns the locks off (a test double that
   * shares no device). @default env PLANTWIRE_LOCK_DIR, else "<os temp dir>/plantwire-device-locks"
   */
  deviceLocks?: string | false;
  /**
   * Where model-produced messages and rows may go, each with its policy: e.g.
   * `{ notes: { channel: bus.messageOutput({ topics: ["site/notes"] }), perMinute: 2 } }`. Sent with `guard.send()`.
   */
  outputs?: OutputPolicies;
  /**
   * Where the guard logs: each proposal's state, decisions and rejected model answers at debug (the audit log is the
   * record; this is for following along). Any object with debug/info/warn/error. @default the plant's logger
   */
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
}

/** What a proposal says besides its values. */
export interface ProposeOptions extends ProposalOrigin {
  /** Why, in the proposer's words. */
  reason: string;
}

/** A person's decision through the API. */
export interface DecideOptions {
  /** The person deciding (not blank). */
  by: string;
  /** The digest of the proposal as shown to the person; when given, it must match. */
  digest?: string;
  /**
   * Why, in the person's words: kept in the decision's audit record (an approval's too), trimmed and capped at 2000
   * characters. Untrusted text: shown escaped, never acted on.
   */
  reason?: string;
  /**
   * The logged-in person behind the decision (the guard's `loginDecisions` door): through which door, the login
   * (which must equal `by`) and the client address. Recorded in the audit as the decider's identity.
   */
  identity?: LoginIdentity;
}

/** A person a serving process logged in: the console (a session) or a client with an API token (the CLI, an API). */
export interface LoginIdentity {
  readonly via: "console" | "cli" | "api";
  readonly login: string;
  /** The client's address, e.g. "127.0.0.1". */
  readonly client?: string;
}

/** Where the guard stands, for status pages and metrics. */
export interface GuardStatus {
  /** The guard's identity (part of every proposal's digest). */
  readonly identity: string;
  /** "failed" once the audit could not record something: every proposal is refused until a restart. */
  readonly audit: { readonly state: "ok" | "failed"; readonly code?: string; readonly reason?: string };
  readonly pending: number;
  /** The devices this guard is the one writer of. */
  readonly devices: readonly string[];
  readonly closed: boolean;
}

/** The write guard. One per plant: its interval and rate limits, locks and audit chain are its own. */
export interface WriteGuard<TTags extends TagDefinitions> {
  /** Checks and audits one proposal per tag; executes or holds each as the mode and policy say. */
  propose(values: { readonly [K in TagName<TTags>]?: unknown }, options: ProposeOptions): Promise<Proposal[]>;
  /**
   * Sends a model-produced message or row through a declared output (`outputs` option): checked (shape, allowed
   * topic or table, size, rate), audited like a write, approved by a person where its policy says so, sent once.
   * Resolves with the proposal: executed (sent), pending, or rejected with its verdicts.
   */
  send(output: string, item: unknown, options: ProposeOptions): Promise<Proposal>;
  /**
   * Approves a pending proposal: re-checks against the current snapshot, then writes once and reads back. In the
   * proposing process this needs `allowSameProcessApproval`.
   */
  approve(id: string, by: DecideOptions): Promise<Proposal>;
  /** Rejects a pending proposal. */
  reject(id: string, by: DecideOptions & { reason?: string }): Promise<Proposal>;
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
  /** Where the guard stands: its audit, pending proposals and devices. */
  status(): GuardStatus;
  /** Refuses everything from now on, waits for writes in progress, and closes the audit log if the guard opened it. */
  close(): Promise<void>;
}

/** A model answer that failed validation, as the audit keeps it (a ModelOutputError has these fields). */
export interface RejectedAnswer {
  readonly message: string;
  readonly rawText: string;
  readonly issues: readonly string[];
}
