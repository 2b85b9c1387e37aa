/** The model interface: one shape for LLMs behind an OpenAI-compatible endpoint and for plain functions. */
import type { z } from "zod";
import type { EncodedContext } from "../context/context-header.js";
import type { Snapshot, Window } from "../sample.js";
import type { PlantToolSet, WriteProposalRequest } from "./plant-tools.js";

/** What a model is given: plant data for its context. Snapshots and windows are encoded with the context encoder. */
// biome-ignore lint/suspicious/noExplicitAny: any tag map is accepted; the model only reads it.
export type ModelContext = Snapshot<any> | Window<any> | EncodedContext | string;

/** One model call. */
export interface GenerateRequest<TOutput> {
  /** What to do, in plain words. Sent first, so it is part of the cacheable prefix. */
  readonly instructions: string;
  /** The plant data. A string is sent as given. */
  readonly context?: ModelContext;
  /** The zod schema the answer must match; the answer is parsed and validated against it. */
  readonly output: z.ZodType<TOutput>;
  /** Plant tools the model may call (see `plantTools`). */
  readonly tools?: PlantToolSet;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
}

/** Token usage of one call, or of many. */
export interface ModelUsage {
  /** Requests sent to the endpoint (a tool loop sends several; retries count too). */
  readonly requests: number;
  readonly promptTokens: number;
  /** Prompt tokens the provider served from its prompt cache. */
  readonly cachedTokens: number;
  readonly completionTokens: number;
}

/** A validated answer with what it cost. */
export interface ModelResult<TOutput> {
  /** The answer, parsed and validated against `output`. */
  readonly output: TOutput;
  /** The answer's raw text. */
  readonly rawText: string;
  /** Usage of this call (every step of a tool loop). */
  readonly usage: ModelUsage;
  /** Write proposals the model made through tools, already handed to `onProposal`. Empty when none. */
  readonly proposals: readonly WriteProposalRequest[];
  /** Model turns taken (1 without tool calls). */
  readonly steps: number;
}

/** A model: an LLM (`openaiModel`) or a function (`functionModel`), interchangeable. */
export interface Model {
  /** For logs, e.g. "openai:gpt-4.1-mini" or "function:threshold-rule". */
  readonly name: string;
  /** The validated answer. Throws a ModelOutputError when the answer does not match `output`. */
  generate<TOutput>(request: GenerateRequest<TOutput>): Promise<TOutput>;
  /** The validated answer with usage, proposals and the raw text. */
  run<TOutput>(request: GenerateRequest<TOutput>): Promise<ModelResult<TOutput>>;
  /** Usage summed over every call so far. */
  readonly usage: ModelUsage;
}

/** Zero usage. */
export const NO_USAGE: ModelUsage = Object.freeze({
  requests: 0,
  promptTokens: 0,
  cachedTokens: 0,
  completionTokens: 0,
});

/** The sum of two usages. */
export function addUsage(left: ModelUsage, right: ModelUsage): ModelUsage {
  return {
    requests: left.requests + right.requests,
    promptTokens: left.promptTokens + right.promptTokens,
    cachedTokens: left.cachedTokens + right.cachedTokens,
    completionTokens: left.completionTokens + right.completionTokens,
  };
}
