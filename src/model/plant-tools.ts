/**
 * Tags as model tools, generated from the tag map and nothing else: read current values, read a window, and propose
 * a write for tags whose write policy allows it. The tool set is fixed when it is created; plant data and model
 * output can neither add a tool nor make a tag writable. A proposal is only a request: nothing is written here, it
 * is validated against the tag's type and handed to `onProposal` (the write guard) once the whole answer is valid.
 */
import { encodeHeader } from "../context/context-header.js";
import { encodeSnapshot } from "../context/context-snapshot.js";
import { encodeWindow } from "../context/context-window.js";
import { ConfigError } from "../errors.js";
import { lazyZod } from "../lazy-zod.js";
import type { Snapshot, Window } from "../sample.js";
import { type AnyTag, isWritable, type TagDefinitions, type TagName } from "../tags.js";
import { ModelOutputError } from "./model-errors.js";

/** A write the model asks for. Not a write: the guard decides. */
export interface WriteProposalRequest {
  readonly tag: string;
  readonly value: number | boolean | string | Date;
  /** The model's reason, untrusted text. */
  readonly reason: string;
}

/** The part of a plant the tools need (a `Plant` fits). */
export interface ToolPlant<TTags extends TagDefinitions> {
  readonly tags: TTags;
  read(names?: readonly TagName<TTags>[]): Promise<Snapshot<TTags>>;
  window(names: readonly TagName<TTags>[], range?: { from?: number; to?: number }): Window<TTags>;
}

/** Settings of {@link plantTools}. */
export interface PlantToolsOptions<TTags extends TagDefinitions> {
  /** The plant the tools read from. */
  readonly plant: ToolPlant<TTags>;
  /** Tags the model may read. @default every tag */
  readonly readable?: readonly TagName<TTags>[];
  /** Tags the model may propose writes for; each must be writable by its policy. @default every writable tag */
  readonly writable?: readonly TagName<TTags>[];
  /** Receives each valid proposal after the model's whole answer validated (the write guard goes here). */
  readonly onProposal?: (proposal: WriteProposalRequest) => void | Promise<void>;
  /** Longest window the model may ask for, in seconds. @default 3600 */
  readonly maxWindowSeconds?: number;
  /** Clock for window ranges. @default Date.now */
  readonly now?: () => number;
}

/** A tool in Chat Completions form. */
export interface ToolDefinition {
  readonly type: "function";
  readonly function: {
    readonly name: string;
    readonly description: string;
    readonly parameters: Record<string, unknown>;
  };
}

/** The outcome of one tool call: text for the model and, for a valid proposal, the proposal. */
export interface ToolCallResult {
  readonly content: string;
  readonly proposal?: WriteProposalRequest;
}

/** A fixed set of plant tools. */
export interface PlantToolSet {
  /** The tool definitions sent to the model. Frozen. */
  readonly definitions: readonly ToolDefinition[];
  /** The tag header of the readable tags (stable), sent when the request's context carries no header of its own. */
  readonly header: string;
  /** The tags proposals may name. */
  readonly writable: readonly string[];
  /** Runs one tool call. Throws a ModelOutputError for an unknown tool, bad arguments or a non-writable tag. */
  call(name: string, argumentsText: string): Promise<ToolCallResult>;
  /** Hands accepted proposals to `onProposal`. Called by models after the final answer validated. */
  deliver(proposals: readonly WriteProposalRequest[]): Promise<void>;
}

function valueSchema(tag: AnyTag) {
  const z = lazyZod();
  switch (tag.type) {
    case "float":
      return z.number().finite();
    case "integer":
      return z.number().int();
    case "boolean":
      return z.boolean();
    case "enum":
      return z.enum(Object.keys(tag.states) as [string, ...string[]]);
    case "text":
      return z.string().max(tag.maxLength);
    case "datetime":
      // ISO 8601 with a zone, as a model writes a time; the guard receives it as a Date.
      return z.iso.datetime({ offset: true }).transform((text) => new Date(text));
  }
}

function describeWritable(name: string, tag: AnyTag): string {
  if (tag.type === "enum") return `${name} (one of ${Object.keys(tag.states).join("/")})`;
  if (tag.type === "float" || tag.type === "integer") {
    const range = tag.write?.range ?? tag.range;
    return `${name} (${tag.type}${tag.unit ? ` ${tag.unit}` : ""}${range ? `, ${range[0]}..${range[1]}` : ""})`;
  }
  if (tag.type === "datetime") return `${name} (datetime: ISO 8601 with a zone, e.g. 2024-07-01T06:00:00Z)`;
  return `${name} (${tag.type})`;
}

/** Builds the plant tools from the tag map (and only from it). */
export function plantTools<TTags extends TagDefinitions>(options: PlantToolsOptions<TTags>): PlantToolSet {
  const tags = options.plant.tags as TagDefinitions;
  const readable = [...(options.readable ?? Object.keys(tags))] as TagName<TTags>[];
  const writable = [
    ...(options.writable ?? Object.keys(tags).filter((name) => isWritable(tags[name] as AnyTag))),
  ] as TagName<TTags>[];
  const issues = [...readable, ...writable]
    .filter((name) => !(name in tags))
    .map((name) => ({ path: `tools.${name}`, message: "not a tag of this plant", fix: "name a tag of the tag map" }));
  for (const name of writable) {
    if (name in tags && !isWritable(tags[name] as AnyTag)) {
      issues.push({
        path: `tools.writable.${name}`,
        message: "the tag's write policy does not allow writes",
        fix: "give the tag a write policy or leave it out of writable",
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  const maxSeconds = options.maxWindowSeconds ?? 3600;
  const now = options.now ?? Date.now;
  const z = lazyZod();
  const tagList = z.array(z.enum(readable as [string, ...string[]])).min(1);
  const readArguments = z.strictObject({ tags: tagList.optional() });
  const windowArguments = z.strictObject({ tags: tagList, seconds: z.number().positive().max(maxSeconds) });
  const proposeArguments = z.strictObject({
    tag: z.string(),
    value: z.union([z.number(), z.boolean(), z.string()]),
    reason: z.string().max(500),
  });
  const readEnum = { type: "array", items: { type: "string", enum: readable }, minItems: 1 };
  const definitions: ToolDefinition[] = [
    {
      type: "function",
      function: {
        name: "read_current",
        description: "Read the current values of plant tags (all readable tags when `tags` is omitted).",
        parameters: { type: "object", properties: { tags: readEnum }, additionalProperties: false },
      },
    },
    {
      type: "function",
      function: {
        name: "read_window",
        description: `Read the last \`seconds\` (at most ${maxSeconds}) of history of some tags as a table.`,
        parameters: {
          type: "object",
          properties: { tags: readEnum, seconds: { type: "number", exclusiveMinimum: 0, maximum: maxSeconds } },
          required: ["tags", "seconds"],
          additionalProperties: false,
        },
      },
    },
  ];
  if (writable.length > 0) {
    definitions.push({
      type: "function",
      function: {
        name: "propose_write",
        description: `Propose a new value for a writable tag; a guard and a person decide whether it is written. Writable: ${writable.map((name) => describeWritable(name, tags[name] as AnyTag)).join("; ")}.`,
        parameters: {
          type: "object",
          properties: {
            tag: { type: "string", enum: writable },
            value: { type: ["number", "boolean", "string"] },
            reason: { type: "string", maxLength: 500 },
          },
          required: ["tag", "value", "reason"],
          additionalProperties: false,
        },
      },
    });
  }
  for (const definition of definitions) Object.freeze(definition);
  Object.freeze(definitions);
  const frozenWritable = Object.freeze([...writable]);

  function parseArguments<T>(
    schema: {
      safeParse(
        value: unknown,
      ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
    },
    name: string,
    text: string,
  ): T {
    let value: unknown;
    try {
      value = JSON.parse(text === "" ? "{}" : text);
    } catch (error) {
      throw new ModelOutputError(
        `The model called tool "${name}" with arguments that are not JSON; nothing was acted on`,
        text,
        [],
        { cause: error },
      );
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (issue) => `${issue.path.map(String).join(".") || "arguments"}: ${issue.message}`,
      );
      throw new ModelOutputError(
        `The model called tool "${name}" with invalid arguments; nothing was acted on`,
        text,
        issues,
      );
    }
    return parsed.data;
  }

  return {
    definitions,
    header: encodeHeader(tags, readable),
    writable: frozenWritable,
    async call(name, argumentsText) {
      if (name === "read_current") {
        const { tags: wanted } = parseArguments(readArguments, name, argumentsText);
        const names = (wanted ?? readable) as TagName<TTags>[];
        return { content: encodeSnapshot(await options.plant.read(names), { tags: names }).body };
      }
      if (name === "read_window") {
        const { tags: wanted, seconds } = parseArguments(windowArguments, name, argumentsText);
        const to = now();
        const window = options.plant.window(wanted as TagName<TTags>[], { from: to - seconds * 1000, to });
        return { content: encodeWindow(window, { tags: wanted }).body };
      }
      if (name === "propose_write" && frozenWritable.length > 0) {
        const proposal = parseArguments(proposeArguments, name, argumentsText);
        if (!(frozenWritable as readonly string[]).includes(proposal.tag)) {
          throw new ModelOutputError(
            `The model proposed a write to "${proposal.tag}", which is not a writable tag; nothing was acted on`,
            argumentsText,
            [`tag: writable tags are ${frozenWritable.join(", ")}`],
            { field: proposal.tag },
          );
        }
        const checked = valueSchema(tags[proposal.tag] as AnyTag).safeParse(proposal.value);
        if (!checked.success) {
          const issues = checked.error.issues.map((issue) => `value: ${issue.message}`);
          throw new ModelOutputError(
            `The model proposed a value for "${proposal.tag}" that does not fit the tag's type; nothing was acted on`,
            argumentsText,
            issues,
            { field: proposal.tag },
          );
        }
        return {
          content: "Proposal recorded; the guard decides after your final answer.",
          proposal: { tag: proposal.tag, value: checked.data, reason: proposal.reason },
        };
      }
      throw new ModelOutputError(
        `The model called a tool that does not exist: "${name}"; nothing was acted on`,
        argumentsText,
        [`tools offered: ${definitions.map((definition) => definition.function.name).join(", ")}`],
      );
    },
    async deliver(proposals) {
      for (const proposal of proposals) await options.onProposal?.(proposal);
    },
  };
}
