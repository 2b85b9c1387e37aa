/**
 * One Chat Completions request with plantwire's retry policy: the openai client's own retries are off (maxRetries 0)
 * so the policy is explicit and testable here. Only 429 and 5xx are retried, with exponential backoff (honouring a
 * Retry-After of up to 30 s); a timeout is a TimeoutError; any other refusal is a ModelEndpointError at once.
 */
import type OpenAI from "openai";
import { ConnectionError, TimeoutError } from "../errors.js";
import { ModelEndpointError, unreachableMessage } from "./model-errors.js";

/**
 * The request fields every Chat Completions request carries (plantwire also sends response_format, tools and
 * sampling settings). Described by shape rather than imported from openai, so a consumer's type-check never needs
 * the openai package unless they use it.
 */
export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly object[];
}

/** A tool call in an answer (function calls; other kinds are refused). */
export interface ChatToolCall {
  readonly id: string;
  readonly type: string;
  readonly function?: { readonly name: string; readonly arguments: string };
}

/** The answer fields plantwire reads (a part of openai's `ChatCompletion`). */
export interface ChatAnswer {
  readonly choices: readonly {
    readonly finish_reason: string | null;
    readonly message: {
      readonly content: string | null;
      readonly refusal?: string | null;
      readonly tool_calls?: readonly ChatToolCall[];
    };
  }[];
  readonly usage?: {
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
    readonly prompt_tokens_details?: { readonly cached_tokens?: number };
  };
}

/** The part of the openai client used here, so that an `AzureOpenAI` or any compatible client can be passed in. */
export interface ChatClient {
  readonly chat: {
    readonly completions: {
      create(
        body: ChatRequest,
        options?: { timeout?: number; maxRetries?: number; signal?: AbortSignal },
      ): PromiseLike<ChatAnswer>;
    };
  };
}

/** Retry and timeout settings of one request. */
export interface CallPolicy {
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly signal?: AbortSignal;
  /** Called before each retry (for logs and tests). */
  readonly onRetry?: (attempt: number, status: number | undefined, delayMs: number) => void;
}

const sleep = (milliseconds: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

function retryAfterMs(error: unknown): number | undefined {
  const headers = (error as { headers?: Headers | Record<string, string> }).headers;
  const value = headers instanceof Headers ? headers.get("retry-after") : headers?.["retry-after"];
  const seconds = value === undefined || value === null ? Number.NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= 30 ? seconds * 1000 : undefined;
}

/** Sends one request, retrying 429/5xx; maps failures to plantwire errors naming the endpoint. */
export async function callChat(
  client: ChatClient,
  body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
  endpoint: string,
  policy: CallPolicy,
): Promise<{ completion: OpenAI.Chat.ChatCompletion; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const options = policy.signal
        ? { timeout: policy.timeoutMs, maxRetries: 0, signal: policy.signal }
        : { timeout: policy.timeoutMs, maxRetries: 0 };
      // The body is openai's full request type; the client is typed by shape only (see ChatClient).
      const completion = (await client.chat.completions.create(body, options)) as OpenAI.Chat.ChatCompletion;
      return { completion, attempts: attempt };
    } catch (error) {
      const kind = (error as Error).constructor?.name ?? "";
      if (kind === "APIConnectionTimeoutError") {
        throw new TimeoutError(
          `The model endpoint ${endpoint} did not answer within ${policy.timeoutMs} ms. Fix: raise timeoutMs or use a faster model`,
          policy.timeoutMs,
          { cause: error },
        );
      }
      if (kind === "APIUserAbortError") throw error;
      const status = (error as { status?: unknown }).status;
      if (typeof status !== "number") {
        throw new ConnectionError(unreachableMessage(endpoint, error), { cause: error });
      }
      const retryable = status === 429 || status >= 500;
      if (!retryable || attempt > policy.maxRetries) {
        const message = (error as Error).message;
        const why = retryable ? ` after ${attempt} attempts` : "";
        const fix =
          status === 401 || status === 403
            ? "check apiKey / OPENAI_API_KEY"
            : status === 404
              ? "check the model name and baseURL"
              : retryable
                ? "try again later or raise maxRetries"
                : "check the request settings";
        throw new ModelEndpointError(
          `The model endpoint ${endpoint} answered ${status}${why}: ${message}. Fix: ${fix}`,
          status,
          { cause: error },
        );
      }
      const delay = retryAfterMs(error) ?? policy.retryDelayMs * 2 ** (attempt - 1);
      policy.onRetry?.(attempt, status, delay);
      await sleep(delay, policy.signal);
    }
  }
}
