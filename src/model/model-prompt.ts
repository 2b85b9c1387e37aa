/**
 * The prompt layout: instructions, output schema and the tag header first (the same bytes from call to call, so
 * providers can serve them from their prompt cache), the changing plant data after.
 */
import { encodeSnapshot } from "../context/context-snapshot.js";
import { encodeWindow } from "../context/context-window.js";
import { Snapshot, Window } from "../sample.js";
import type { ModelContext } from "./model-types.js";

/** The two parts of a prompt. */
export interface PromptParts {
  /** Stable: instructions, optional schema text, the tag header. Sent as the system message. */
  readonly system: string;
  /** Changing: the plant values. Sent as the user message. */
  readonly user: string;
}

/** Splits a context into its stable header and its changing body. */
export function contextParts(context: ModelContext | undefined): { header: string; body: string } {
  if (context === undefined) return { header: "", body: "" };
  if (typeof context === "string") return { header: "", body: context };
  if (context instanceof Snapshot) return encodeSnapshot(context);
  if (context instanceof Window) return encodeWindow(context);
  return { header: context.header, body: context.body };
}

/** Lays out instructions, schema text and context as system and user messages. */
export function buildPrompt(
  instructions: string,
  context: ModelContext | undefined,
  schemaText?: string,
  fallbackHeader = "",
): PromptParts {
  const parts = contextParts(context);
  // Without a header of its own (a string context, or none), the tools' header tells the model what the tags mean.
  const header = parts.header === "" ? fallbackHeader : parts.header;
  const body = parts.body;
  const system = [
    instructions.trim(),
    schemaText
      ? `Answer with one JSON object matching this JSON schema:\n${schemaText}`
      : "Answer with one JSON object.",
    header,
  ]
    .filter((part) => part !== "")
    .join("\n\n");
  return { system, user: body === "" ? "Answer now, as JSON." : `${body}\n\nAnswer as JSON.` };
}
