/** Loops: triggers, budgets, metrics and shutdown. */
export { BudgetTracker, budgetedModel, type LoopBudget } from "./loop-budget.js";
export { type LoopClock, systemClock, type VirtualClock, virtualClock } from "./loop-clock.js";
export { type MetricsOptions, type MetricsRegistry, metricsRegistry, serveMetrics } from "./loop-metrics.js";
export {
  createLoop,
  type Loop,
  type LoopGuard,
  type LoopMetrics,
  type LoopOptions,
  type LoopReport,
  type LoopRunContext,
  type LoopStatus,
} from "./loop-runner.js";
export { type ShutdownOptions, shutdown, shutdownOnSignals } from "./loop-shutdown.js";
export {
  anyOf,
  cron,
  every,
  type OnChangeOptions,
  onChange,
  onEvent,
  parseDuration,
  type Trigger,
  type TriggerCause,
  type TriggerContext,
  type WhenTagOptions,
  whenTag,
} from "./loop-triggers.js";
export type { SiteLoops, SiteLoopsContext } from "./site-loops.js";
