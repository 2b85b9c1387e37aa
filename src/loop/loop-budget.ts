/**
 * Per-loop spending limits: model calls per hour and tokens per day, over sliding windows. A loop over budget pauses
 * with a status instead of overspending, and resumes by itself when the window frees up.
 */
import { BudgetExceededError } from "../errors.js";
import { ModelOutputError, usageOfError } from "../model/model-errors.js";
import type { GenerateRequest, Model, ModelResult, ModelUsage } from "../model/model-types.js";

/** Limits of one loop. */
export interface LoopBudget {
  /** Most model requests in any 60 minutes. */
  modelCallsPerHour?: number;
  /** Most tokens (prompt + completion) in any 24 hours. */
  tokensPerDay?: number;
}

const hour = 3_600_000;
const day = 24 * hour;

/** Counts spending in sliding windows. */
export class BudgetTracker {
  readonly #budget: LoopBudget;
  readonly #now: () => number;
  readonly #calls: number[] = [];
  readonly #tokens: { time: number; tokens: number }[] = [];

  constructor(budget: LoopBudget, now: () => number = Date.now) {
    this.#budget = budget;
    this.#now = now;
  }

  /** Records spending. */
  charge(requests: number, tokens: number): void {
    const time = this.#now();
    for (let index = 0; index < requests; index++) this.#calls.push(time);
    if (tokens > 0) this.#tokens.push({ time, tokens });
  }

  /**
   * The tightest limit set, with what is used of it in its window (calls in the last hour, else tokens in the last
   * day); undefined without limits.
   */
  spent(): { used: number; limit: number; unit: "calls per hour" | "tokens per day" } | undefined {
    this.exceeded(); // drops what fell out of the windows
    const { modelCallsPerHour, tokensPerDay } = this.#budget;
    if (modelCallsPerHour !== undefined) {
      return { used: this.#calls.length, limit: modelCallsPerHour, unit: "calls per hour" };
    }
    if (tokensPerDay !== undefined) {
      const used = this.#tokens.reduce((sum, entry) => sum + entry.tokens, 0);
      return { used, limit: tokensPerDay, unit: "tokens per day" };
    }
    return undefined;
  }

  /** Undefined while within budget, else why not and when it frees up. */
  exceeded(): { reason: string; resumesAt: number } | undefined {
    const now = this.#now();
    while (this.#calls.length > 0 && (this.#calls[0] as number) <= now - hour) this.#calls.shift();
    while (this.#tokens.length > 0 && (this.#tokens[0] as { time: number }).time <= now - day) this.#tokens.shift();
    const { modelCallsPerHour, tokensPerDay } = this.#budget;
    if (modelCallsPerHour !== undefined && this.#calls.length >= modelCallsPerHour) {
      return {
        reason: `${this.#calls.length} model calls in the last hour (budget ${modelCallsPerHour})`,
        resumesAt: (this.#calls[0] as number) + hour,
      };
    }
    const spent = this.#tokens.reduce((sum, entry) => sum + entry.tokens, 0);
    if (tokensPerDay !== undefined && spent >= tokensPerDay) {
      return {
        reason: `${spent} tokens in the last 24 h (budget ${tokensPerDay})`,
        resumesAt: (this.#tokens[0] as { time: number }).time + day,
      };
    }
    return undefined;
  }
}

/**
 * Wraps a model so that every call is checked against, and charged to, a budget. `onUsage` gets what each call cost,
 * failed calls included; `onRejected` gets each answer that failed validation (a ModelOutputError), once, whether or
 * not the caller catches it.
 */
export function budgetedModel(
  model: Model,
  tracker: BudgetTracker,
  onUsage?: (usage: ModelUsage) => void,
  onRejected?: (error: ModelOutputError) => void,
): Model {
  const run = async <TOutput>(request: GenerateRequest<TOutput>): Promise<ModelResult<TOutput>> => {
    const over = tracker.exceeded();
    if (over) throw new BudgetExceededError(`model "${model.name}" not called: ${over.reason}`, over.resumesAt);
    const before = model.usage;
    // Reserve the request before the call, so parallel calls cannot all pass the same check.
    tracker.charge(1, 0);
    try {
      const result = await model.run(request);
      tracker.charge(Math.max(0, result.usage.requests - 1), result.usage.promptTokens + result.usage.completionTokens);
      onUsage?.(result.usage);
      return result;
    } catch (error) {
      // A failed call still cost what the provider counted: the model records it on the error; a model that does not
      // is charged the change in its running totals. At least the reserved request is charged.
      const after = model.usage;
      const recorded = usageOfError(error) ?? {
        requests: after.requests - before.requests,
        promptTokens: after.promptTokens - before.promptTokens,
        cachedTokens: after.cachedTokens - before.cachedTokens,
        completionTokens: after.completionTokens - before.completionTokens,
      };
      const cost: ModelUsage = { ...recorded, requests: Math.max(1, recorded.requests) };
      tracker.charge(cost.requests - 1, cost.promptTokens + cost.completionTokens);
      onUsage?.(cost);
      if (ModelOutputError.isInstance(error)) onRejected?.(error);
      throw error;
    }
  };
  return {
    name: model.name,
    run,
    generate: async (request) => (await run(request)).output,
    get usage() {
      return model.usage;
    },
  };
}
