/** Errors of the model bridge. Both keep the codes of their base classes, so `error.code` switches stay simple. */
import { ProtocolError, ValidationError } from "../errors.js";
import type { ModelUsage } from "./model-types.js";

const outputMarker = Symbol.for("plantwire.error.model-output");
const endpointMarker = Symbol.for("plantwire.error.model-endpoint");

/**
 * A model's answer (or tool call) failed parsing or validation: truncated JSON, wrong types, extra fields, an unknown
 * tool, a write proposal for a tag that is not writable. It carries the raw text; nothing it contained is acted on.
 */
export class ModelOutputError extends ValidationError {
  /** The model's text (or tool-call arguments) exactly as received. */
  readonly rawText: string;
  /** What was wrong, one line per problem. */
  readonly issues: readonly string[];

  constructor(
    message: string,
    rawText: string,
    issues: readonly string[] = [],
    options: { cause?: unknown; field?: string } = {},
  ) {
    super(issues.length > 0 ? `${message}:\n${issues.map((issue) => `  - ${issue}`).join("\n")}` : message, options);
    this.rawText = rawText;
    this.issues = issues;
    Object.defineProperty(this, outputMarker, { value: true });
  }

  /** True for a model-output error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is ModelOutputError {
    return ValidationError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[outputMarker] === true;
  }
}

/** The model endpoint refused a request (a 4xx other than 429, or a 5xx/429 after every retry). */
export class ModelEndpointError extends ProtocolError {
  /** The HTTP status, when there was one. */
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, options: { cause?: unknown } = {}) {
    super(message, options);
    this.status = status;
    Object.defineProperty(this, endpointMarker, { value: true });
  }

  /** True for a model-endpoint error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is ModelEndpointError {
    return ProtocolError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[endpointMarker] === true;
  }
}

const usageMarker = Symbol.for("plantwire.error.model-usage");

/** Records on a failed call's error what the call cost before it failed (what a budget and metrics charge). */
export function attachUsage(error: unknown, usage: ModelUsage): void {
  if (typeof error === "object" && error !== null && !Object.hasOwn(error, usageMarker))
    Object.defineProperty(error, usageMarker, { value: usage });
}

/** What a failed model call cost, when the model recorded it on the error. */
export function usageOfError(error: unknown): ModelUsage | undefined {
  return typeof error === "object" && error !== null
    ? ((error as Record<symbol, unknown>)[usageMarker] as ModelUsage | undefined)
    : undefined;
}

/** The system or network code behind a failed request (ECONNREFUSED, ENOTFOUND…), searched through its causes. */
export function networkCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (typeof current !== "object" || current === null || seen.has(current)) continue;
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z]+|UND_ERR_[A-Z_]+|ERR_TLS_[A-Z_]+|[A-Z_]*CERT[A-Z_]*)$/.test(code))
      return code;
    queue.push((current as { cause?: unknown }).cause);
    const inner = (current as { errors?: unknown }).errors;
    if (Array.isArray(inner)) queue.push(...inner);
  }
  return undefined;
}

const unreachableFixes: readonly [RegExp, string][] = [
  [/^(ENOTFOUND|EAI_AGAIN)$/, "fix the host name in baseURL (OPENAI_BASE_URL)"],
  [
    /^(ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT)$/,
    "check the network path to the server, or fix baseURL",
  ],
  [/^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/, "check that baseURL points at an OpenAI-compatible server (http or https)"],
  [/CERT|TLS/, "give the server a certificate this machine trusts (NODE_EXTRA_CA_CERTS), or fix the host in baseURL"],
];

/**
 * One line for a model endpoint that could not be reached, with its fix, e.g.
 * `model http://127.0.0.1:11434/v1 unreachable (ECONNREFUSED): start the model server or fix baseURL (OPENAI_BASE_URL)`.
 */
export function unreachableMessage(endpoint: string, error: unknown): string {
  const code = networkCode(error);
  const why = code ?? ((error as Error | undefined)?.message ?? String(error)).replace(/\.+$/, "");
  const fix =
    unreachableFixes.find(([pattern]) => code !== undefined && pattern.test(code))?.[1] ??
    "start the model server or fix baseURL (OPENAI_BASE_URL)";
  return `model ${endpoint} unreachable (${why}): ${fix}`;
}
