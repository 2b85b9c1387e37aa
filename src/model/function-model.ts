/**
 * A rule or a classical ML model behind the same interface as an LLM, so a loop can swap one for the other without
 * other changes. Its result is validated against the output schema exactly like an LLM's answer.
 */
import { attachUsage } from "./model-errors.js";
import { validateOutput } from "./model-output.js";
import { type GenerateRequest, type Model, type ModelContext, type ModelResult, NO_USAGE } from "./model-types.js";
import type { PlantToolSet, WriteProposalRequest } from "./plant-tools.js";

/** What a function model receives. */
export interface FunctionModelInput {
  readonly instructions: string;
  /** The context as the caller gave it: a Snapshot or Window keeps its typed values (use `featureVector` for arrays). */
  readonly context: ModelContext | undefined;
  /**
   * Proposes a write through the request's plant tools, validated like a model's tool call. Throws when the request
   * has no tools or the tag is not writable.
   */
  propose(tag: string, value: number | boolean | string, reason: string): Promise<void>;
  readonly signal: AbortSignal | undefined;
}

/** Settings of {@link functionModel}. */
export interface FunctionModelOptions {
  /** For logs. @default the function's name */
  readonly name?: string;
}

/** Wraps `compute` as a {@link Model}. */
export function functionModel(
  compute: (input: FunctionModelInput) => unknown | Promise<unknown>,
  options: FunctionModelOptions = {},
): Model {
  let calls = 0;
  async function run<TOutput>(request: GenerateRequest<TOutput>): Promise<ModelResult<TOutput>> {
    calls++;
    const proposals: WriteProposalRequest[] = [];
    const tools: PlantToolSet | undefined = request.tools;
    const usage = { ...NO_USAGE, requests: 1 };
    try {
      return await answer(request, proposals, tools, usage);
    } catch (error) {
      attachUsage(error, usage);
      throw error;
    }
  }
  async function answer<TOutput>(
    request: GenerateRequest<TOutput>,
    proposals: WriteProposalRequest[],
    tools: PlantToolSet | undefined,
    usage: ModelResult<TOutput>["usage"],
  ): Promise<ModelResult<TOutput>> {
    const result = await compute({
      instructions: request.instructions,
      context: request.context,
      signal: request.signal,
      async propose(tag, value, reason) {
        if (!tools)
          throw new TypeError("This request has no plant tools; pass `tools: plantTools({ ... })` to propose writes");
        const outcome = await tools.call("propose_write", JSON.stringify({ tag, value, reason }));
        if (outcome.proposal) proposals.push(outcome.proposal);
      },
    });
    const rawText = JSON.stringify(result) ?? "undefined";
    const output = validateOutput(request.output, result, rawText);
    await tools?.deliver(proposals);
    return { output, rawText, usage, proposals, steps: 1 };
  }
  return {
    name: `function:${options.name ?? (compute.name || "anonymous")}`,
    run,
    async generate(request) {
      return (await run(request)).output;
    },
    get usage() {
      return { ...NO_USAGE, requests: calls };
    },
  };
}
