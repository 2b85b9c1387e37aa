/** The shapes of a loop: what a run gets, the options, its status, report and metrics, and the running loop. */
import type { Proposal, ProposalState } from "../guard/guard-types.js";
import type { ProposeOptions, WriteGuard } from "../guard/write-guard.js";
import type { Logger } from "../logger.js";
import type { Model } from "../model/model-types.js";
import type { Snapshot } from "../sample.js";
import type { TagDefinitions, TagName } from "../tags.js";
import type { LoopBudget } from "./loop-budget.js";
import type { LoopClock } from "./loop-clock.js";
import type { Trigger, TriggerCause } from "./loop-triggers.js";

/** What a run gets. */
export interface LoopRunContext<TTags extends TagDefinitions> {
  readonly loop: string;
  /** A snapshot read when the run started. */
  readonly snapshot: Snapshot<TTags>;
  readonly cause: TriggerCause<TTags>;
  /** The loop's model, budgeted: a call over budget throws BudgetExceededError and pauses the loop. */
  readonly model: Model | undefined;
  /** Proposes writes through the loop's guard (with the loop and model filled in). */
  propose(values: { readonly [K in TagName<TTags>]?: unknown }, options: ProposeOptions): Promise<Proposal[]>;
  /** Aborted when the loop is stopped and the run is abandoned. */
  readonly signal: AbortSignal;
}

/** Options of {@link createLoop}. */
export interface LoopOptions<TTags extends TagDefinitions> {
  /** A short name for status, metrics and the audit, e.g. "pump7-speed-advisor". */
  name: string;
  trigger: Trigger<TTags>;
  run(context: LoopRunContext<TTags>): unknown | Promise<unknown>;
  /** When the trigger fires during a run: skip it, or queue it (at most `queueLimit`). @default "skip" */
  overlap?: "skip" | "queue";
  /** @default 10 */
  queueLimit?: number;
  model?: Model;
  /**
   * The guard that proposals go through (a whole guard, or a proposer-only one that cannot approve). Without one,
   * `propose` throws.
   */
  guard?: LoopGuard<TTags>;
  budget?: LoopBudget;
  /**
   * Errors from runs and triggers. @default one error line on the logger with the fix (a model that cannot be reached:
   * `loop "advisor": model http://127.0.0.1:11434/v1 unreachable (ECONNREFUSED): start the model server or fix
   * baseURL`), the stack and causes at debug
   */
  onError?: (error: unknown) => void;
  /**
   * Where the loop logs: each run's start and end at debug, failures as one error line. Any object with
   * debug/info/warn/error (console, pino, winston). @default the plant's logger
   */
  logger?: Logger;
  /**
   * The clock the trigger and the budget run on: a virtual clock replays recorded data or runs an accelerated
   * simulation in plant time. Cron triggers follow the wall clock regardless. @default the system clock
   */
  clock?: LoopClock;
  /** The time for budgets and metrics. @default clock.now */
  now?: () => number;
}

/** What a loop needs of a guard: proposing, and recording rejected model answers. Never deciding. */
export type LoopGuard<TTags extends TagDefinitions> = Pick<WriteGuard<TTags>, "propose" | "rejectAnswer">;

/** A loop's state. */
export interface LoopStatus {
  readonly state: "stopped" | "idle" | "running" | "paused";
  readonly reason?: string;
}

/** Counters for dashboards and the Prometheus endpoint. */
export interface LoopMetrics {
  runs: number;
  failedRuns: number;
  skippedRuns: number;
  pausedRuns: number;
  modelRequests: number;
  /** Model answers that failed validation (each one `rejection` record in the guard's audit). */
  rejectedAnswers: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  lastRunMs: number;
  totalRunMs: number;
  proposals: Record<ProposalState, number>;
}

/** What a status page shows of a loop. */
export interface LoopReport {
  readonly name: string;
  readonly state: LoopStatus["state"];
  readonly reason?: string;
  /** The trigger in words, e.g. "every 10 s" or "on change of pressure, vibration". */
  readonly trigger: string;
  readonly lastRunAt?: number;
  /**
   * When the trigger will next fire (ms since the epoch): a period or cron schedule knows, an `anyOf` says its earliest
   * timed trigger. Absent for an event-driven trigger (a change, a state, an outside event), and while the loop is
   * paused or stopped.
   */
  readonly nextRunAt?: number;
  /** True when the last run threw (see lastError). */
  readonly lastRunFailed: boolean;
  readonly lastError?: string;
  /** Who paused it, when a person did (not the budget). */
  readonly pausedBy?: string;
  /** The tightest budget: what is used of it in its window, and its limit. */
  readonly budget?: {
    readonly used: number;
    readonly limit: number;
    readonly unit: "calls per hour" | "tokens per day";
  };
  readonly modelCalls: number;
  readonly tokens: number;
}

/** A running loop. */
export interface Loop {
  readonly name: string;
  /** Starts the trigger. */
  start(): Promise<void>;
  /** Runs once now, as if triggered (skipped or queued like any trigger). */
  trigger(cause?: Partial<TriggerCause>): void;
  /** Stops the trigger, waits up to `abandonAfterMs` for the current run, then aborts it. @default 10000 */
  stop(options?: { abandonAfterMs?: number }): Promise<void>;
  status(): LoopStatus;
  /**
   * Holds the loop: trigger firings are not run (counted as paused runs) until `resume()`; a run in progress finishes.
   * `by` names who paused it, for the status page.
   */
  pause(by?: string): void;
  /** Lets a paused loop run again (a budget pause still holds until its window frees up). */
  resume(): void;
  /** State, trigger, last run, last error, budget, model calls and tokens, for a status page. */
  report(): LoopReport;
  metrics(): Readonly<LoopMetrics>;
  /** Resolves when no run is active or queued. */
  idle(): Promise<void>;
}

/** Metrics of a loop that has not run. */
export function emptyMetrics(): LoopMetrics {
  const proposals = {
    rejected: 0,
    shadowed: 0,
    pending: 0,
    approved: 0,
    declined: 0,
    refused: 0,
    superseded: 0,
    abandoned: 0,
    executed: 0,
  };
  return {
    runs: 0,
    failedRuns: 0,
    skippedRuns: 0,
    pausedRuns: 0,
    modelRequests: 0,
    rejectedAnswers: 0,
    promptTokens: 0,
    cachedTokens: 0,
    completionTokens: 0,
    lastRunMs: 0,
    totalRunMs: 0,
    proposals,
  };
}
