/**
 * A model behind any OpenAI-compatible Chat Completions endpoint: OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp
 * server. The openai package is loaded on the first call, so `import "plantwire"` does not pay for it.
 */
import type OpenAI from "openai";
import { ConfigError } from "../errors.js";
import { loadOptionalDependency } from "../optional-dependency.js";
import { attachUsage, ModelEndpointError, ModelOutputError } from "./model-errors.js";
import { isStrictCompatible, jsonSchemaOf, parseOutput } from "./model-output.js";
import { buildPrompt } from "./model-prompt.js";
import {
  addUsage,
  type GenerateRequest,
  type Model,
  type ModelResult,
  type ModelUsage,
  NO_USAGE,
} from "./model-types.js";
import { type ChatClient, callChat } from "./openai-call.js";
import type { WriteProposalRequest } from "./plant-tools.js";

/** How the answer's shape is asked for. */
export type StructuredOutputMode = "auto" | "json_schema" | "json_object" | "none";

/** Settings of {@link openaiModel}. Unset fields come from the environment. */
export interface OpenAIModelOptions {
  /** The endpoint, e.g. "http://127.0.0.1:11434/v1" for Ollama. @default OPENAI_BASE_URL, else OpenAI */
  readonly baseURL?: string;
  /** @default OPENAI_API_KEY; "not-needed" when a baseURL is set without a key (local servers) */
  readonly apiKey?: string;
  /** The model name. @default PLANTWIRE_MODEL, else OPENAI_MODEL */
  readonly model?: string;
  /** A ready client (e.g. `new AzureOpenAI(...)`); baseURL and apiKey are then ignored. */
  readonly client?: ChatClient;
  /**
   * "json_schema": structured output; "json_object": JSON mode plus validation; "none": the schema in the prompt plus
   * validation; "auto": json_schema, stepping down to json_object, then none, for good when the server answers 400
   * naming the response format. @default "auto"
   */
  readonly structuredOutput?: StructuredOutputMode;
  /** Per-request timeout in ms; an expired request is a TimeoutError. @default 60000 */
  readonly timeoutMs?: number;
  /** Retries of a 429 or 5xx answer (nothing else is retried). @default 2 */
  readonly maxRetries?: number;
  /** First backoff delay in ms, doubled on each retry (a Retry-After header wins). @default 500 */
  readonly retryDelayMs?: number;
  /** Most model turns in a tool loop. @default 6 */
  readonly maxSteps?: number;
  /** Most tokens (prompt + completion) one `generate` may use across its tool loop. @default 50000 */
  readonly maxTokens?: number;
  /** Largest completion per request. @default the server's */
  readonly maxCompletionTokens?: number;
  /** @default the server's */
  readonly temperature?: number;
  /** Environment to read settings from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Called before each retry. */
  readonly onRetry?: (attempt: number, status: number | undefined, delayMs: number) => void;
}

type Message = OpenAI.Chat.ChatCompletionMessageParam;

const usageOf = (completion: OpenAI.Chat.ChatCompletion, attempts: number): ModelUsage => ({
  requests: attempts,
  promptTokens: completion.usage?.prompt_tokens ?? 0,
  cachedTokens: completion.usage?.prompt_tokens_details?.cached_tokens ?? 0,
  completionTokens: completion.usage?.completion_tokens ?? 0,
});

/** Creates a model that calls an OpenAI-compatible endpoint. Throws a ConfigError when no model name is set. */
export function openaiModel(options: OpenAIModelOptions = {}): Model {
  const env = options.env ?? process.env;
  const model = options.model ?? env.PLANTWIRE_MODEL ?? env.OPENAI_MODEL;
  const baseURL = options.baseURL ?? env.OPENAI_BASE_URL;
  const apiKey = options.apiKey ?? env.OPENAI_API_KEY ?? (baseURL ? "not-needed" : undefined);
  const issues = [];
  if (!model)
    issues.push({
      path: "model",
      message: "no model name",
      fix: "pass { model } or set PLANTWIRE_MODEL (or OPENAI_MODEL)",
    });
  if (!apiKey && !options.client)
    issues.push({
      path: "apiKey",
      message: "no API key for OpenAI",
      fix: "pass { apiKey }, set OPENAI_API_KEY, or set OPENAI_BASE_URL to a local server",
    });
  if (issues.length > 0) throw new ConfigError(issues);
  const endpoint = options.client ? "(custom client)" : (baseURL ?? "https://api.openai.com/v1");
  let mode: StructuredOutputMode = options.structuredOutput ?? "auto";
  let client: Promise<ChatClient> | undefined = options.client ? Promise.resolve(options.client) : undefined;
  let totals = NO_USAGE;

  const getClient = () => {
    client ??= loadOptionalDependency<typeof OpenAI>("openai", "The OpenAI model").then(
      (OpenAIClient) =>
        new OpenAIClient({
          apiKey,
          baseURL,
          maxRetries: 0,
          timeout: options.timeoutMs ?? 60_000,
        }) as unknown as ChatClient,
    );
    return client;
  };

  function responseFormat(schema: Record<string, unknown>): OpenAI.Chat.ChatCompletionCreateParams["response_format"] {
    if (mode === "json_schema" || mode === "auto") {
      return { type: "json_schema", json_schema: { name: "answer", schema, strict: isStrictCompatible(schema) } };
    }
    return mode === "json_object" ? { type: "json_object" } : undefined;
  }

  async function run<TOutput>(request: GenerateRequest<TOutput>): Promise<ModelResult<TOutput>> {
    // A failed call still cost what the server counted: its error carries that, for budgets and metrics.
    const spent = { usage: NO_USAGE };
    try {
      return await runSteps(request, spent);
    } catch (error) {
      attachUsage(error, spent.usage);
      throw error;
    }
  }

  async function runSteps<TOutput>(
    request: GenerateRequest<TOutput>,
    spent: { usage: ModelUsage },
  ): Promise<ModelResult<TOutput>> {
    const chat = await getClient();
    const schema = jsonSchemaOf(request.output);
    const maxSteps = options.maxSteps ?? 6;
    const maxTokens = options.maxTokens ?? 50_000;
    let usage = NO_USAGE;
    const proposals: WriteProposalRequest[] = [];
    let messages: Message[] | undefined;
    for (let step = 1; step <= maxSteps; step++) {
      if (!messages) {
        // The schema text goes into the prompt only when the server is not told it through response_format.
        const schemaText = mode === "json_schema" || mode === "auto" ? undefined : JSON.stringify(schema);
        const prompt = buildPrompt(request.instructions, request.context, schemaText, request.tools?.header);
        messages = [
          { role: "system", content: prompt.system },
          { role: "user", content: prompt.user },
        ];
      }
      const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = { model: model as string, messages };
      const format = responseFormat(schema);
      if (format) body.response_format = format;
      if (request.tools) body.tools = request.tools.definitions as OpenAI.Chat.ChatCompletionTool[];
      if (options.temperature !== undefined) body.temperature = options.temperature;
      if (options.maxCompletionTokens !== undefined) body.max_completion_tokens = options.maxCompletionTokens;
      const policy = {
        timeoutMs: options.timeoutMs ?? 60_000,
        maxRetries: options.maxRetries ?? 2,
        retryDelayMs: options.retryDelayMs ?? 500,
        signal: request.signal,
        onRetry: options.onRetry,
      };
      let answer: Awaited<ReturnType<typeof callChat>>;
      try {
        answer = await callChat(chat, body, endpoint, policy);
      } catch (error) {
        // "auto" steps down json_schema → json_object → none when the server refuses the response format.
        const automatic = (options.structuredOutput ?? "auto") === "auto" && mode !== "none";
        if (
          automatic &&
          ModelEndpointError.isInstance(error) &&
          error.status === 400 &&
          /response_format|json_schema|json_object/i.test(error.message)
        ) {
          mode = mode === "auto" ? "json_object" : "none";
          messages = undefined;
          step--;
          continue;
        }
        throw error;
      }
      usage = addUsage(usage, usageOf(answer.completion, answer.attempts));
      spent.usage = usage;
      totals = addUsage(totals, usageOf(answer.completion, answer.attempts));
      const choice = answer.completion.choices?.[0];
      // A refusal has no content; its text is kept as the raw answer so the error shows why.
      const raw = choice?.message?.content ?? choice?.message?.refusal ?? "";
      if (usage.promptTokens + usage.completionTokens > maxTokens) {
        throw new ModelOutputError(
          `The model call used ${usage.promptTokens + usage.completionTokens} tokens, over maxTokens ${maxTokens}; nothing was acted on`,
          raw,
        );
      }
      if (!choice)
        throw new ModelOutputError(
          "The model endpoint answered without a choice; nothing was acted on",
          JSON.stringify(answer.completion),
        );
      const toolCalls = choice.message.tool_calls ?? [];
      if (toolCalls.length > 0) {
        if (!request.tools)
          throw new ModelOutputError(
            "The model called a tool although none was offered; nothing was acted on",
            JSON.stringify(toolCalls),
          );
        messages.push({ role: "assistant", content: choice.message.content ?? null, tool_calls: toolCalls });
        for (const call of toolCalls) {
          if (call.type !== "function")
            throw new ModelOutputError(
              `The model made a "${call.type}" tool call; only function tools exist`,
              JSON.stringify(call),
            );
          const result = await request.tools.call(call.function.name, call.function.arguments);
          if (result.proposal) proposals.push(result.proposal);
          messages.push({ role: "tool", tool_call_id: call.id, content: result.content });
        }
        continue;
      }
      if (choice.finish_reason === "length") {
        throw new ModelOutputError(
          "The model's answer was cut off at the completion token limit; nothing was acted on. Fix: raise maxCompletionTokens",
          raw,
        );
      }
      const output = parseOutput(request.output, raw);
      await request.tools?.deliver(proposals);
      return { output, rawText: raw, usage, proposals, steps: step };
    }
    throw new ModelOutputError(
      `The model gave no final answer within maxSteps (${maxSteps}) tool turns; nothing was acted on`,
      "",
    );
  }

  return {
    name: `openai:${model}`,
    run,
    async generate(request) {
      return (await run(request)).output;
    },
    get usage() {
      return totals;
    },
  };
}
