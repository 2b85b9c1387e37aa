/**
 * A loop: one concrete job for one plant (explain this alarm, advise this pump's speed, write this shift report),
 * run when its trigger fires, never overlapping itself, within its budget, proposing writes only through the guard.
 */
import { BudgetExceededError, ConfigError, PlantwireError } from "../errors.js";
import type { Proposal, ProposalState } from "../guard/guard-types.js";
import type { ProposeOptions, WriteGuard } from "../guard/write-guard.js";
import type { ModelOutputError } from "../model/model-errors.js";
import type { Model, ModelUsage } from "../model/model-types.js";
import type { Plant } from "../plant.js";
import type { Snapshot } from "../sample.js";
import type { TagDefinitions, TagName } from "../tags.js";
import { BudgetTracker, budgetedModel, type LoopBudget } from "./loop-budget.js";
import { type LoopClock, systemClock } from "./loop-clock.js";
import type { Trigger, TriggerCause } from "./loop-triggers.js";
import { readOnlySnapshot, readOnlyTags } from "./read-only-tags.js";

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
  /** The guard that proposals go through. Without one, `propose` throws. */
  guard?: WriteGuard<TTags>;
  budget?: LoopBudget;
  /** Errors from runs and triggers. @default console.error */
  onError?: (error: unknown) => void;
  /**
   * The clock the trigger and the budget run on: a virtual clock replays recorded data or runs an accelerated
   * simulation in plant time. Cron triggers follow the wall clock regardless. @default the system clock
   */
  clock?: LoopClock;
  /** The time for budgets and metrics. @default clock.now */
  now?: () => number;
}

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
  metrics(): Readonly<LoopMetrics>;
  /** Resolves when no run is active or queued. */
  idle(): Promise<void>;
}

function emptyMetrics(): LoopMetrics {
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

/** Creates a loop over a plant. Call `start()` to arm its trigger. */
export function createLoop<TTags extends TagDefinitions>(plant: Plant<TTags>, options: LoopOptions<TTags>): Loop {
  const clock = options.clock ?? systemClock;
  const now = options.now ?? clock.now;
  const reportError = options.onError ?? ((error: unknown) => console.error(`[plantwire loop ${options.name}]`, error));
  /** A throwing error handler must not turn into an unhandled rejection. */
  const onError = (error: unknown) => {
    try {
      reportError(error);
    } catch (handlerError) {
      console.error(`[plantwire loop ${options.name}] onError threw`, handlerError);
    }
  };
  const metrics = emptyMetrics();
  const sealedTags = readOnlyTags(plant.tags);
  const tracker = new BudgetTracker(options.budget ?? {}, now);
  const countUsage = (usage: ModelUsage) => {
    metrics.modelRequests += usage.requests;
    metrics.promptTokens += usage.promptTokens;
    metrics.cachedTokens += usage.cachedTokens;
    metrics.completionTokens += usage.completionTokens;
  };
  // A bad answer is never acted on, and never lost: one audit record each, even when the run catches the error.
  const recordRejected = (error: ModelOutputError) => {
    metrics.rejectedAnswers++;
    try {
      options.guard?.rejectAnswer(error, { loop: options.name, modelId: options.model?.name });
    } catch (auditError) {
      onError(auditError);
    }
  };
  const model = options.model ? budgetedModel(options.model, tracker, countUsage, recordRejected) : undefined;
  let status: LoopStatus = { state: "stopped" };
  let stopTrigger: (() => Promise<void>) | undefined;
  let active: Promise<void> | undefined;
  let controller = new AbortController();
  const queue: TriggerCause<TTags>[] = [];
  const idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (active || queue.length > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };

  /** A stopped loop stays stopped, whatever its last run reports. */
  const setStatus = (next: LoopStatus) => {
    if (status.state !== "stopped") status = next;
  };

  async function runOnce(cause: TriggerCause<TTags>): Promise<void> {
    const over = tracker.exceeded();
    if (over) {
      metrics.pausedRuns++;
      setStatus({
        state: "paused",
        reason: `budget: ${over.reason}; resumes ${new Date(over.resumesAt).toISOString()}`,
      });
      return;
    }
    setStatus({ state: "running", reason: cause.trigger });
    const runSignal = controller.signal;
    const started = now();
    metrics.runs++;
    try {
      const snapshot = readOnlySnapshot(await plant.read(), sealedTags);
      await options.run({
        loop: options.name,
        snapshot,
        cause,
        model,
        signal: runSignal,
        async propose(values, proposeOptions) {
          if (runSignal.aborted) {
            throw new PlantwireError(
              "PW_CONNECTION",
              `loop ${options.name} was stopped; this run may no longer propose writes`,
            );
          }
          if (!options.guard) {
            throw new ConfigError([
              {
                path: `loops.${options.name}.guard`,
                message: "this loop has no write guard",
                fix: "pass guard: createGuard({ plant, audit }) to createLoop",
              },
            ]);
          }
          const proposals = await options.guard.propose(values, {
            loop: options.name,
            ...(model ? { modelId: model.name } : {}),
            ...proposeOptions,
          });
          for (const proposal of proposals) metrics.proposals[proposal.state]++;
          return proposals;
        },
      });
      setStatus({ state: "idle" });
    } catch (error) {
      if (BudgetExceededError.isInstance(error)) {
        metrics.pausedRuns++;
        setStatus({ state: "paused", reason: `budget: ${error.message}` });
      } else {
        metrics.failedRuns++;
        setStatus({
          state: "idle",
          reason: `last run failed: ${PlantwireError.isInstance(error) ? error.code : "error"}`,
        });
        onError(error);
      }
    } finally {
      metrics.lastRunMs = now() - started;
      metrics.totalRunMs += metrics.lastRunMs;
    }
  }

  function fire(cause: TriggerCause<TTags>): void {
    if (status.state === "stopped") return;
    if (active) {
      if ((options.overlap ?? "skip") === "queue" && queue.length < (options.queueLimit ?? 10)) queue.push(cause);
      else metrics.skippedRuns++;
      return;
    }
    active = (async () => {
      let next: TriggerCause<TTags> | undefined = cause;
      while (next && status.state !== "stopped") {
        await runOnce(next);
        next = queue.shift();
      }
    })().finally(() => {
      active = undefined;
      settleIdle();
    });
  }

  return {
    name: options.name,
    async start() {
      if (status.state !== "stopped") return;
      status = { state: "idle" };
      controller = new AbortController();
      stopTrigger = await options.trigger.start({ plant, clock, fire, onError });
    },
    trigger(cause = {}) {
      fire({ kind: "event", trigger: "manual", time: now(), ...cause } as TriggerCause<TTags>);
    },
    async stop({ abandonAfterMs = 10_000 } = {}) {
      if (status.state === "stopped") return;
      status = { state: "stopped" };
      queue.length = 0;
      const stopping = stopTrigger;
      stopTrigger = undefined;
      try {
        await stopping?.();
      } catch (error) {
        onError(error);
      }
      const running = active;
      if (running) {
        let timer: NodeJS.Timeout | undefined;
        const abandoned = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            controller.abort(new PlantwireError("PW_CONNECTION", `loop ${options.name} stopped; run abandoned`));
            resolve();
          }, abandonAfterMs);
        });
        await Promise.race([running, abandoned]);
        clearTimeout(timer);
      }
    },
    status: () => status,
    metrics: () => metrics,
    idle: () =>
      active || queue.length > 0 ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve(),
  };
}
