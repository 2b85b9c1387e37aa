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
