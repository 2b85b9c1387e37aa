/**
 * A loop: one concrete job for one plant (explain this alarm, advise this pump's speed, write this shift report),
 * run when its trigger fires, never overlapping itself, within its budget, proposing writes only through the guard.
 */
import { BudgetExceededError, ConfigError, PlantwireError } from "../errors.js";
import { logFailure, resolveLogger } from "../logger.js";
import type { ModelOutputError } from "../model/model-errors.js";
import type { ModelUsage } from "../model/model-types.js";
import type { Plant } from "../plant.js";
import type { TagDefinitions } from "../tags.js";
import { BudgetTracker, budgetedModel } from "./loop-budget.js";
import { systemClock } from "./loop-clock.js";
import type { TriggerCause } from "./loop-triggers.js";
import { emptyMetrics, type Loop, type LoopOptions, type LoopStatus } from "./loop-types.js";
import { readOnlySnapshot, readOnlyTags } from "./read-only-tags.js";

export type {
  Loop,
  LoopGuard,
  LoopMetrics,
  LoopOptions,
  LoopReport,
  LoopRunContext,
  LoopStatus,
} from "./loop-types.js";

/** Creates a loop over a plant. Call `start()` to arm its trigger. */
export function createLoop<TTags extends TagDefinitions>(plant: Plant<TTags>, options: LoopOptions<TTags>): Loop {
  const clock = options.clock ?? systemClock;
  const now = options.now ?? clock.now;
  const logger = resolveLogger(options.logger ?? plant.logger);
  const reportError = options.onError ?? ((error: unknown) => logFailure(logger, `loop "${options.name}"`, error));
  /** A throwing error handler must not turn into an unhandled rejection. */
  const onError = (error: unknown) => {
    try {
      reportError(error);
    } catch (handlerError) {
      logFailure(logger, `loop "${options.name}": its onError handler threw`, handlerError);
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
  // A person's pause outlasts whatever runs report; only resume() ends it.
  let pausedBy: string | undefined;
  let lastRunAt: number | undefined;
  /** When the trigger last said it will fire next; event-driven triggers never say. */
  let nextRunAt: number | undefined;
  let lastError: string | undefined;
  let lastRunFailed = false;
  let stopTrigger: (() => Promise<void>) | undefined;
  let active: Promise<void> | undefined;
  let controller = new AbortController();
  const queue: TriggerCause<TTags>[] = [];
  const idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (active || queue.length > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };

  /** A stopped loop stays stopped, and a paused one paused, whatever its last run reports. */
  const setStatus = (next: LoopStatus) => {
    if (status.state !== "stopped" && pausedBy === undefined) status = next;
  };
  const errorText = (error: unknown) =>
    (PlantwireError.isInstance(error) ? `${error.code}: ${error.message}` : String(error)).split("\n")[0] ?? "";

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
    lastRunAt = started;
    metrics.runs++;
    logger.debug(`loop "${options.name}": run ${metrics.runs} started (${cause.trigger})`);
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
      lastRunFailed = false;
      logger.debug(`loop "${options.name}": run ${metrics.runs} finished in ${now() - started} ms`);
    } catch (error) {
      if (BudgetExceededError.isInstance(error)) {
        metrics.pausedRuns++;
        setStatus({ state: "paused", reason: `budget: ${error.message}` });
        logger.debug(`loop "${options.name}": paused by its budget: ${error.message}`);
      } else {
        metrics.failedRuns++;
        lastRunFailed = true;
        lastError = errorText(error);
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
    if (pausedBy !== undefined) {
      metrics.pausedRuns++;
      return;
    }
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
      status = pausedBy !== undefined ? { state: "paused", reason: `paused by ${pausedBy}` } : { state: "idle" };
      controller = new AbortController();
      nextRunAt = undefined;
      const schedule = (at: number | undefined) => {
        // A trigger stopping late must not leave a next run on a stopped loop.
        if (status.state !== "stopped") nextRunAt = typeof at === "number" && Number.isFinite(at) ? at : undefined;
      };
      stopTrigger = await options.trigger.start({ plant, clock, fire, onError, schedule });
    },
    trigger(cause = {}) {
      fire({ kind: "event", trigger: "manual", time: now(), ...cause } as TriggerCause<TTags>);
    },
    async stop({ abandonAfterMs = 10_000 } = {}) {
      if (status.state === "stopped") return;
      status = { state: "stopped" };
      nextRunAt = undefined;
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
    pause(by = "a person") {
      pausedBy = String(by).slice(0, 200) || "a person";
      if (status.state !== "stopped") status = { state: "paused", reason: `paused by ${pausedBy}` };
    },
    resume() {
      if (pausedBy === undefined) return;
      pausedBy = undefined;
      if (status.state !== "stopped") status = { state: active ? "running" : "idle" };
    },
    report() {
      const budget = tracker.spent();
      return {
        name: options.name,
        state: status.state,
        ...(status.reason ? { reason: status.reason } : {}),
        trigger: options.trigger.description,
        ...(lastRunAt !== undefined ? { lastRunAt } : {}),
        // A paused loop runs nothing when its trigger fires: it has no next run to show.
        ...(nextRunAt !== undefined && status.state !== "paused" && status.state !== "stopped" ? { nextRunAt } : {}),
        lastRunFailed,
        ...(lastError !== undefined ? { lastError } : {}),
        ...(pausedBy !== undefined ? { pausedBy } : {}),
        ...(budget ? { budget } : {}),
        modelCalls: metrics.modelRequests,
        tokens: metrics.promptTokens + metrics.completionTokens,
      };
    },
    metrics: () => metrics,
    idle: () =>
      active || queue.length > 0 ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve(),
  };
}
