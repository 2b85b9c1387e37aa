/**
 * The JSON shapes of `plantwire serve`'s API and event stream: what the console, the CLI and MCP clients read.
 * Shared by the server (src/serve), the console (console/) and the CLI's serve client; change them here first.
 */

/** A JSON error answer: what went wrong, a stable code where there is one, and the fix. */
export interface ApiError {
  readonly error: string;
  /** e.g. a guard refusal code ("digest-mismatch", "already-decided") or "not-found", "bad-request". */
  readonly code?: string;
  readonly fix?: string;
}

/** GET /healthz (no auth). */
export interface HealthView {
  readonly ok: boolean;
  readonly site: string;
  /** Each adapter's state ("connected", "degraded", "disconnected", …). */
  readonly adapters: Readonly<Record<string, string>>;
  readonly guard: { readonly audit: "ok" | "failed" };
}

/** One tag as the console shows it. */
export interface TagView {
  readonly name: string;
  readonly type: string;
  readonly unit?: string;
  readonly description?: string;
  readonly min?: number;
  readonly max?: number;
  readonly states?: readonly string[];
  readonly writable: boolean;
  readonly writeRange?: { readonly min: number; readonly max: number };
  readonly maxStep?: number;
  readonly approvals?: 1 | 2;
}

/** GET /api/site. */
export interface SiteView {
  readonly name: string;
  readonly tags: readonly TagView[];
  readonly loops: readonly string[];
  readonly adapters: readonly string[];
}

/** A sample's quality as shown. */
export type QualityView = "good" | "uncertain" | "bad";

/** One sample as the console shows it. */
export interface SampleView {
  readonly value: unknown;
  readonly quality: QualityView;
  /** Why the quality is not good (e.g. "comm-failure", "out-of-range"). */
  readonly reason?: string;
  readonly detail?: string;
  /** Source time, ms since the epoch. */
  readonly time: number;
  readonly ageMs: number;
  readonly stale: boolean;
}

/** GET /api/snapshot. */
export interface SnapshotView {
  readonly time: number;
  readonly tags: Readonly<Record<string, SampleView>>;
}

/** One history point: time, value, quality. */
export interface HistoryPoint {
  readonly t: number;
  readonly v: unknown;
  readonly q: QualityView;
}

/** GET /api/history?tag=NAME&seconds=N. */
export interface HistoryView {
  readonly tag: string;
  readonly points: readonly HistoryPoint[];
}

/** A proposal as approvers see it. `reason` is untrusted text (the model's words): show it, never run it. */
export interface ProposalView {
  readonly id: string;
  readonly tag: string;
  readonly unit?: string;
  readonly value: unknown;
  readonly current: unknown;
  /** value - current, for numeric tags. */
  readonly step?: number;
  readonly writeRange?: { readonly min: number; readonly max: number };
  readonly reason: string;
  readonly origin: {
    readonly loop?: string;
    readonly modelId?: string;
    readonly promptHash?: string;
    /** Where it came from outside a loop, e.g. "mcp:claude-desktop" (untrusted: the client's own name). */
    readonly source?: string;
    /** The person whose token it came with. */
    readonly user?: string;
  };
  readonly verdicts: readonly { readonly check: string; readonly passed: boolean; readonly detail: string }[];
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Send it back with the decision: the guard refuses a decision on anything else. */
  readonly digest: string;
  readonly approvalsRequired: 1 | 2;
  readonly approvals: readonly { readonly by: string; readonly time: number }[];
  /** The guard's ProposalState: pending, executed, declined, refused, … */
  readonly state: string;
  readonly decidedBy?: string;
  readonly outcome?: { readonly readBack: string; readonly readBackValue?: unknown; readonly detail?: string };
}

/** GET /api/proposals. */
export interface ProposalsView {
  readonly pending: readonly ProposalView[];
  readonly recent: readonly ProposalView[];
}

/** POST /api/proposals/:id/approve body. */
export interface ApproveBody {
  readonly digest: string;
  readonly reason?: string;
}

/** POST /api/proposals/:id/reject body. */
export interface RejectBody {
  readonly digest: string;
  readonly reason: string;
}

/** A loop as the console shows it. */
export interface LoopView {
  readonly name: string;
  readonly state: "running" | "paused" | "stopped" | "failed";
  /** Why it is in this state, e.g. "paused by alice" or "budget: 20 model calls in the last hour". */
  readonly reason?: string;
  /** The trigger's description, e.g. "onChange(pressure)". */
  readonly trigger: string;
  readonly lastRunAt?: number;
  /** When its trigger will next fire (a period or cron schedule); absent when event-driven, paused or stopped. */
  readonly nextRunAt?: number;
  /** The model budget: tokens used in the current window and its limit. */
  readonly budget?: { readonly used: number; readonly limit: number };
  readonly modelCalls: number;
  readonly tokens: number;
  readonly lastError?: string;
}

/** One audit record, as read from the log (fields vary by type). */
export interface AuditView {
  readonly seq: number;
  readonly time: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

/** GET /api/audit?type=&tag=&person=&since=&until=&limit=. */
export interface AuditPage {
  readonly records: readonly AuditView[];
  /** The hash chain check over the whole log. */
  readonly chain: { readonly ok: boolean; readonly records: number; readonly detail?: string };
}

/** An adapter as the console shows it. */
export interface AdapterView {
  readonly name: string;
  readonly kind: string;
  readonly state: string;
  readonly lastError?: string;
  readonly fix?: string;
  readonly reconnections: number;
}

/** One problem in a site file that was not applied. */
export interface SiteIssue {
  readonly path: string;
  readonly message: string;
  readonly fix: string;
}

/** POST /api/site/reload answers. */
export type ReloadResult = { readonly applied: true } | { readonly issues: readonly SiteIssue[] };

/** The event stream (GET /api/events): each event's name and its data. */
export interface ServeEvents {
  readonly sample: SampleView & { readonly tag: string };
  readonly proposals: { readonly pending: readonly ProposalView[] };
  readonly proposal: ProposalView;
  readonly loops: readonly LoopView[];
  readonly adapters: readonly AdapterView[];
  readonly audit: AuditView;
}

/** The file a running serve writes beside its approvals folder, so the CLI finds it. */
export interface ServeDiscovery {
  /** e.g. "http://127.0.0.1:8470". */
  readonly url: string;
  readonly pid: number;
  readonly site: string;
  readonly startedAt: number;
}
