/**
 * One Chat Completions request with plantwire's retry policy: the openai client's own retries are off (maxRetries 0)
 * so the policy is explicit and testable here. Only 429 and 5xx are retried, with exponential backoff (honouring a
 * Retry-After of up to 30 s); a timeout is a TimeoutError; any other refusal is a ModelEndpointError at once.
 */
import type OpenAI from "openai";
import { ConnectionError, TimeoutError } from "../errors.js";
import { ModelEndpointError } from "./model-errors.js";

/** The part of the openai client used here, so that an `AzureOpenAI` or any compatible client can be passed in. */
export interface ChatClient {
  readonly chat: {
    readonly completions: {
      create(
        body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
        options?: { timeout?: number; maxRetries?: number; signal?: AbortSignal },
      ): PromiseLike<OpenAI.Chat.ChatCompletion>;
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
      return { completion: await client.chat.completions.create(body, options), attempts: attempt };
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
        throw new ConnectionError(
          `Cannot reach the model endpoint ${endpoint}: ${(error as Error).message}. Fix: check baseURL / OPENAI_BASE_URL and that the server is running`,
          { cause: error },
        );
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
