/**
 * A local OpenAI-compatible Chat Completions server over node:http, for tests and offline demos only: it is not a
 * model. It answers `POST …/chat/completions` from a script (a list of replies, used in order) or a function, and
 * records every request, so tests drive the real openai client over real HTTP. It speaks messages, response_format,
 * tools and tool calls, usage (with a simulated prompt cache: the prefix shared with the previous request counts as
 * cached), error statuses, Retry-After and delays. Streaming is not supported.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One scripted answer. */
export interface TestReply {
  /** The assistant's text (the JSON answer). */
  readonly content?: string;
  /** Tool calls to make instead of (or with) content. */
  readonly toolCalls?: readonly { readonly name: string; readonly arguments: string; readonly id?: string }[];
  /** @default "tool_calls" with tool calls, else "stop" */
  readonly finishReason?: "stop" | "length" | "tool_calls" | "content_filter";
  /** Answer with this HTTP status and an OpenAI-style error body instead. */
  readonly status?: number;
  /** The error message for `status`. @default "scripted error" */
  readonly error?: string;
  /** Extra response headers, e.g. `{ "retry-after": "0" }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long before answering (to trigger client timeouts). */
  readonly delayMs?: number;
  /** Usage to report. @default estimated: about 4 characters per token, cache = prefix shared with the previous request */
  readonly usage?: {
    readonly promptTokens?: number;
    readonly completionTokens?: number;
    readonly cachedTokens?: number;
  };
}

/** A recorded request. */
export interface RecordedRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  // biome-ignore lint/suspicious/noExplicitAny: the request body is whatever the client sent.
  readonly body: any;
}

/** Settings of {@link startOpenAITestServer}. */
export interface OpenAITestServerOptions {
  /**
   * Replies in order, or a function of the request and its index (0-based, counting only requests that reach the
   * script). Past the script's end: HTTP 500.
   */
  readonly replies:
    | readonly TestReply[]
    | ((request: RecordedRequest, index: number) => TestReply | Promise<TestReply>);
  /** Answer 400 to `response_format: { type: "json_schema" }`, like servers without structured output. @default true */
  readonly supportsJsonSchema?: boolean;
  /** Answer 400 to `response_format: { type: "json_object" }`, like servers without JSON mode. @default true */
  readonly supportsJsonMode?: boolean;
}

/** A running test server. */
export interface OpenAITestServer {
  /** The base URL for the openai client, e.g. "http://127.0.0.1:43210/v1". */
  readonly baseURL: string;
  /** Every request received, in order (including ones answered with errors). */
  readonly requests: readonly RecordedRequest[];
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

const estimateTokens = (text: string) => Math.ceil(text.length / 4);

function sharedPrefixLength(left: string, right: string): number {
  let index = 0;
  while (index < left.length && index < right.length && left[index] === right[index]) index++;
  return index;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

/** Starts the server on 127.0.0.1 and an ephemeral port. For tests and offline demos, never production. */
export async function startOpenAITestServer(options: OpenAITestServerOptions): Promise<OpenAITestServer> {
  const requests: RecordedRequest[] = [];
  let previousPrompt = "";
  let scripted = 0;
  const server = createServer(async (request, response) => {
    try {
      const path = request.url ?? "";
      const text = await readBody(request);
      const body = text ? JSON.parse(text) : {};
      const recorded: RecordedRequest = { path, headers: request.headers, body };
      requests.push(recorded);
      if (request.method !== "POST" || !path.endsWith("/chat/completions")) {
        sendJson(response, 404, {
          error: { message: `no route ${request.method} ${path}`, type: "invalid_request_error" },
        });
        return;
      }
      if (body.stream === true) {
        sendJson(response, 400, {
          error: { message: "stream is not supported by the test server", type: "invalid_request_error" },
        });
        return;
      }
      if (options.supportsJsonSchema === false && body.response_format?.type === "json_schema") {
        sendJson(response, 400, {
          error: { message: "response_format json_schema is not supported", type: "invalid_request_error" },
        });
        return;
      }
      if (options.supportsJsonMode === false && body.response_format?.type === "json_object") {
        sendJson(response, 400, {
          error: { message: "response_format json_object is not supported", type: "invalid_request_error" },
        });
        return;
      }
      const script = options.replies;
      // Requests refused above (wrong route, streaming, unsupported json_schema) do not use up a scripted reply.
      const index = scripted++;
      const reply = typeof script === "function" ? await script(recorded, index) : script[index];
      if (!reply) {
        sendJson(response, 500, {
          error: { message: `test server script has no reply #${index + 1}`, type: "server_error" },
        });
        return;
      }
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (reply.status !== undefined && reply.status >= 400) {
        sendJson(
          response,
          reply.status,
          { error: { message: reply.error ?? "scripted error", type: "scripted" } },
          reply.headers,
        );
        return;
      }
      const prompt = JSON.stringify(body.messages ?? []);
      const cached = reply.usage?.cachedTokens ?? Math.floor(sharedPrefixLength(prompt, previousPrompt) / 4);
      previousPrompt = prompt;
      const promptTokens = reply.usage?.promptTokens ?? estimateTokens(prompt);
      const completionTokens =
        reply.usage?.completionTokens ?? estimateTokens(reply.content ?? JSON.stringify(reply.toolCalls ?? []));
      const toolCalls = reply.toolCalls?.map((call, position) => ({
        id: call.id ?? `call_${index}_${position}`,
        type: "function",
        function: { name: call.name, arguments: call.arguments },
      }));
      sendJson(
        response,
        200,
        {
          id: `chatcmpl-test-${index}`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: body.model ?? "test",
          choices: [
            {
              index: 0,
              message: {
                role: "assistant",
                content: reply.content ?? null,
                refusal: null,
                ...(toolCalls ? { tool_calls: toolCalls } : {}),
              },
              finish_reason: reply.finishReason ?? (toolCalls ? "tool_calls" : "stop"),
              logprobs: null,
            },
          ],
          usage: {
            prompt_tokens: promptTokens,
            completion_tokens: completionTokens,
            total_tokens: promptTokens + completionTokens,
            prompt_tokens_details: { cached_tokens: Math.min(cached, promptTokens) },
          },
        },
        reply.headers,
      );
    } catch (error) {
      if (!response.headersSent)
        sendJson(response, 500, {
          error: { message: `test server: ${(error as Error).message}`, type: "server_error" },
        });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
