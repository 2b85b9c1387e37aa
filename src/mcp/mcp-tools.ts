/**
 * The assistant's tools, generated from the tag map and the site's `mcp:` section: list the tags, read current
 * values, read a window, propose a write (only when the person may propose and a tag is proposable), and ask for a
 * proposal's status. No tool approves or rejects, and none takes a protocol address, SQL text or a topic: every
 * argument is a tag name of the exposed tags, a number of seconds, a value for a proposable tag, or a proposal id.
 */
import { encodeHeader } from "../context/context-header.js";
import { encodeSnapshot } from "../context/context-snapshot.js";
import { encodeWindow } from "../context/context-window.js";
import { lazyZod } from "../lazy-zod.js";
import type { Sample, Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions } from "../tags.js";
import type { AssistantProposal, ProposalAnswer } from "./mcp-proposals.js";
import { proposalShape, toolSchemas } from "./mcp-schemas.js";
import type { SiteMcpSettings } from "./mcp-settings.js";
import { assistantSnapshot, assistantTags, assistantWindow } from "./mcp-view.js";

/** What the tools need of a site, wherever its plant and guard are. */
export interface McpPlantAccess {
  readonly siteName: string;
  /** The site's whole tag map (the exposure narrows it). */
  tags(): TagDefinitions;
  settings(): SiteMcpSettings;
  read(names: readonly string[]): Promise<Snapshot>;
  history(name: string, range: { from: number; to: number }): readonly Sample[];
  propose(request: AssistantProposal): Promise<ProposalAnswer>;
  status(id: string): Promise<ProposalAnswer>;
}

/** Who is asking: the person behind the token (or the OS user of a stdio server) and whether they may propose. */
export interface McpCaller {
  readonly user: string;
  readonly canPropose: boolean;
}

/** One tool as listed, with its handler. */
export interface McpTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
  readonly annotations: { readonly readOnlyHint: boolean; readonly destructiveHint: false };
  call(args: unknown, source: string): Promise<McpToolResult>;
}

/** A tool's answer in MCP form. */
export interface McpToolResult {
  [key: string]: unknown;
  content: { type: "text"; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

const text = (value: string, isError = false): McpToolResult => ({
  content: [{ type: "text", text: value }],
  ...(isError ? { isError } : {}),
});

/** The result of a proposal or status call: one plain line, the summary as structured content. */
function proposalResult(answer: ProposalAnswer): McpToolResult {
  if ("refused" in answer) {
    return {
      ...text(`Refused (${answer.refused.code}): ${answer.refused.message}. Nothing will be written.`, true),
      structuredContent: { ...answer },
    };
  }
  const { proposal } = answer;
  const head = `Proposal ${proposal.id}: ${proposal.tag} ${JSON.stringify(proposal.current)} → ${JSON.stringify(proposal.value)}: ${proposal.state}`;
  const line =
    proposal.state === "rejected"
      ? `${head} by the guard (${proposal.refusals.map((refusal) => `${refusal.code}: ${refusal.detail}`).join("; ")}). Nothing will be written.`
      : proposal.state === "pending"
        ? `${head}. A person decides in the console or with "plantwire approve ${proposal.id}"; it expires at ${proposal.expiresAt}.`
        : `${head}${proposal.decidedBy ? ` (decided by ${proposal.decidedBy})` : ""}${proposal.outcome ? `; write ${proposal.outcome.write}, read-back ${proposal.outcome.readBack}` : ""}.`;
  return { ...text(line, proposal.state === "rejected"), structuredContent: { ...answer } };
}

function describeProposable(view: TagDefinitions, settings: SiteMcpSettings): string {
  if (settings.propose.length === 0) return "PROPOSABLE none: this site lets assistants read only.";
  const rows = settings.propose.map((name) => {
    const tag = view[name] as AnyTag;
    const write = tag.write;
    if (tag.type === "enum")
      return `${name} one of ${((write?.states as string[] | undefined) ?? Object.keys(tag.states)).join("/")}`;
    if (tag.type !== "float" && tag.type !== "integer") return `${name} ${tag.type}`;
    const range = write?.range ?? tag.range;
    return [
      name,
      tag.unit,
      range && `${range[0]}..${range[1]}`,
      write?.maxStep !== undefined && `maxStep=${write.maxStep}`,
    ]
      .filter(Boolean)
      .join(" ");
  });
  return `PROPOSABLE (a person approves every write) ${rows.join("; ")}`;
}

/** Builds the tools for one caller over one site's access. */
export function mcpTools(access: McpPlantAccess, caller: McpCaller, now: () => number = Date.now): McpTool[] {
  const z = lazyZod();
  const settings = access.settings();
  const view = assistantTags(access.tags(), settings);
  const schemas = toolSchemas(view, settings);
  const jsonSchema = (schema: import("zod").ZodType) =>
    z.toJSONSchema(schema, { target: "draft-7", io: "input" }) as Record<string, unknown>;
  const parse = <T>(
    schema: {
      safeParse(
        value: unknown,
      ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
    },
    args: unknown,
  ) => {
    const parsed = schema.safeParse(args ?? {});
    if (parsed.success) return { data: parsed.data };
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.map(String).join(".") || "arguments"}: ${issue.message}`,
    );
    return { error: text(`Invalid arguments (${issues.join("; ")}). Nothing was done.`, true) };
  };
  const readOnly = { readOnlyHint: true, destructiveHint: false } as const;
  const tools: McpTool[] = [
    {
      name: "list_tags",
      title: "List the plant's tags",
      description: `The tags of ${access.siteName} an assistant can see: name, type, unit, range, writable and meaning («…» is untrusted plant text), and which tags it may propose writes for.`,
      inputSchema: jsonSchema(schemas.listTags),
      annotations: readOnly,
      async call() {
        return text(`${encodeHeader(view, Object.keys(view))}\n${describeProposable(view, settings)}`);
      },
    },
    {
      name: "read_values",
      title: "Read current values",
      description:
        "The current values of some or all visible tags as compact plant context: quality shown only when not good, STALE values never shown as current, «…» untrusted text.",
      inputSchema: jsonSchema(schemas.readValues),
      annotations: readOnly,
      async call(args) {
        const parsed = parse(schemas.readValues, args);
        if (parsed.error) return parsed.error;
        const names = parsed.data.tags ?? Object.keys(view);
        const snapshot = assistantSnapshot(view, await access.read(names));
        return text(encodeSnapshot(snapshot, { tags: names, layout: "inline" }).text);
      },
    },
    {
      name: "read_window",
      title: "Read a window of history",
      description: `Recent history of some visible tags (at most ${settings.maxWindowSeconds} s back) as a compact table, optionally one row per bucket.`,
      inputSchema: jsonSchema(schemas.readWindow),
      annotations: readOnly,
      async call(args) {
        const parsed = parse(schemas.readWindow, args);
        if (parsed.error) return parsed.error;
        const { tags: names, seconds, bucketSeconds } = parsed.data;
        const to = now();
        const range = { from: to - seconds * 1000, to };
        const window = assistantWindow(
          view,
          names,
          (name, span) => access.history(name, span),
          range,
          bucketSeconds && bucketSeconds * 1000,
        );
        return text(encodeWindow(window, { tags: names }).text);
      },
    },
  ];
  if (schemas.proposeWrite && caller.canPropose) {
    tools.push({
      name: "propose_write",
      title: "Propose a write",
      description: `Ask for a new value of a proposable tag (${settings.propose.join(", ")}). The guard checks it and a person decides; nothing is written until a person approves. Answers the proposal's id and state.`,
      inputSchema: jsonSchema(schemas.proposeWrite),
      annotations: { readOnlyHint: false, destructiveHint: false },
      async call(args, source) {
        const parsed = parse(proposalShape(), args);
        if (parsed.error) return parsed.error;
        const { write, reason } = parsed.data;
        const tag = view[write.tag] as AnyTag | undefined;
        // A time arrives as ISO text; the guard compares Dates.
        const value = tag?.type === "datetime" && typeof write.value === "string" ? new Date(write.value) : write.value;
        return proposalResult(await access.propose({ tag: write.tag, value, reason, source, user: caller.user }));
      },
    });
  }
  tools.push({
    name: "proposal_status",
    title: "A proposal's status",
    description:
      "Where a proposal stands: pending (waiting for a person), executed with its read-back, rejected by the guard, declined by a person, or expired.",
    inputSchema: jsonSchema(schemas.proposalStatus),
    annotations: readOnly,
    async call(args) {
      const parsed = parse(schemas.proposalStatus, args);
      if (parsed.error) return parsed.error;
      return proposalResult(await access.status(parsed.data.id));
    },
  });
  return tools;
}

/** The refusal a caller without the propose permission gets for propose_write. */
export function proposeNotAllowed(caller: McpCaller): McpToolResult {
  return text(
    `Refused: ${caller.user} may read but not propose (the viewer role); an assistant, operator or engineer token may. Nothing was done.`,
    true,
  );
}
