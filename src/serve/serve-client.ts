/**
 * The CLI's side of "one place to decide": `plantwire proposals/approve/reject` talk to the running `plantwire serve`
 * that holds the approvals folder (found through its discovery file, or named with --serve), with the person's API
 * token (PLANTWIRE_TOKEN, or --token-file). The guard in that process takes the decision and answers it at once;
 * the file-based path stays for guards inside glue scripts.
 */
import { readFileSync } from "node:fs";
import type { CliIo } from "../cli/cli-command.js";
import { terminalSafe, terminalText } from "../cli/terminal-text.js";
import type { ProposalsView, ProposalView } from "./api-types.js";
import { findServe } from "./serve-discovery.js";

/** A serve to talk to, with the token to talk with. */
export interface ServeTarget {
  readonly url: string;
  readonly token: string;
}

/** Where to look for a serve and a token. */
export interface ServeLookup {
  /** The approvals folder the command was given (--dir). */
  readonly dir: string;
  /** --serve URL: use this serve, whatever the folder says. */
  readonly serve?: string;
  /** --token-file: a file holding the token (mode 600). */
  readonly tokenFile?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The serve to decide through, or why not: `{ target }` when one runs (or is named) and a token is at hand;
 * `{ note }` when one runs but there is no token (the command goes on through the folder and says so); `{}` when no
 * serve holds the folder.
 */
export function serveTarget(lookup: ServeLookup): { target?: ServeTarget; note?: string } {
  const env = lookup.env ?? process.env;
  const url = lookup.serve ?? findServe(lookup.dir)?.url;
  if (!url) return {};
  const token = lookup.tokenFile ? readFileSync(lookup.tokenFile, "utf8").trim() : env.PLANTWIRE_TOKEN?.trim();
  if (!token) {
    if (lookup.serve) throw new Error(`--serve needs your API token: set PLANTWIRE_TOKEN or give --token-file.`);
    return {
      note:
        `plantwire serve at ${url} holds this folder; without an API token (PLANTWIRE_TOKEN or --token-file) ` +
        "the decision goes through the approval folder, as your OS user.",
    };
  }
  return { target: { url: url.replace(/\/+$/, ""), token } };
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * One request to a running serve with a bearer token (the CLI's decisions, an MCP stdio process's proposals). A serve
 * that cannot be reached is an Error that says what did not happen (`nothing`, e.g. "nothing was decided").
 */
export async function requestServe(
  target: { readonly url: string; readonly token: string },
  request: { method: string; path: string; body?: unknown; client: string; timeoutMs: number; nothing: string },
): Promise<Response> {
  const { body } = request;
  try {
    return await fetch(`${target.url}${request.path}`, {
      method: request.method,
      headers: {
        authorization: `Bearer ${target.token}`,
        "x-plantwire-client": request.client,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new Error(`cannot reach plantwire serve at ${target.url} (${cause}); ${request.nothing}`);
  }
}

async function call(target: ServeTarget, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await requestServe(target, {
    method,
    path,
    body,
    client: "cli",
    timeoutMs: 130_000,
    nothing: "nothing was decided",
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { error: text.slice(0, 200) };
  }
  return { status: response.status, body: (parsed ?? {}) as Record<string, unknown> };
}

const refusal = (answer: Answer) => {
  const code = typeof answer.body.code === "string" ? ` (${terminalSafe(answer.body.code)})` : "";
  const fix = typeof answer.body.fix === "string" ? `\nFix: ${terminalSafe(answer.body.fix)}` : "";
  return `${code}: ${terminalText(answer.body.error ?? `HTTP ${answer.status}`, 300).replace(/^"|"$/g, "")}${fix}`;
};

const valueText = (value: unknown) => terminalSafe(JSON.stringify(value) ?? String(value));

/** A proposal for the terminal, as `plantwire proposals` shows one from the folder. */
function describe(proposal: ProposalView, now: number): string {
  const left = Math.round((proposal.expiresAt - now) / 1000);
  const origin = [
    proposal.origin.loop && `loop ${terminalSafe(proposal.origin.loop)}`,
    proposal.origin.modelId && `model ${terminalSafe(proposal.origin.modelId)}`,
    proposal.origin.source && `from ${terminalText(proposal.origin.source, 70)}`,
    proposal.origin.user && `for ${terminalText(proposal.origin.user, 70)}`,
  ]
    .filter(Boolean)
    .join(", ");
  const approved = proposal.approvals.map((approval) => terminalText(approval.by, 40)).join(", ");
  const two =
    proposal.approvalsRequired === 2 ? `; two people must approve${approved ? ` (approved by ${approved})` : ""}` : "";
  const unit = proposal.unit ? ` ${terminalSafe(proposal.unit)}` : "";
  return [
    `${terminalSafe(proposal.id)}  ${terminalSafe(proposal.tag)}: ${valueText(proposal.current)} → ${valueText(proposal.value)}${unit}`,
    `    reason (from the proposer, unverified): ${terminalText(proposal.reason, 300)}`,
    `    ${left > 0 ? `expires in ${left} s` : "EXPIRED"}${origin ? `; ${origin}` : ""}${two}`,
  ].join("\n");
}

/** `plantwire proposals` through serve. */
export async function listThroughServe(target: ServeTarget, io: CliIo): Promise<number> {
  const answer = await call(target, "GET", "/api/proposals");
  if (answer.status !== 200) {
    io.err(`plantwire serve refused the listing${refusal(answer)}\n`);
    return 1;
  }
  const { pending } = answer.body as unknown as ProposalsView;
  io.out(`Proposals held by plantwire serve at ${terminalSafe(target.url)}:\n`);
  if (pending.length === 0) io.out("No proposals are waiting.\n");
  for (const proposal of pending) io.out(`${describe(proposal, Date.now())}\n`);
  return 0;
}

/** `plantwire approve|reject <id>` through serve: shown, decided on exactly what was shown, answered by the guard. */
export async function decideThroughServe(
  target: ServeTarget,
  io: CliIo,
  request: { id: string; decision: "approve" | "reject"; by: string; reason?: string },
): Promise<number> {
  const { id, decision, by } = request;
  const session = await call(target, "GET", "/api/session");
  if (session.status !== 200) {
    io.err(`plantwire serve refused your token${refusal(session)}\nNothing was decided.\n`);
    return 1;
  }
  const user = String(session.body.user);
  if (user !== by) {
    io.err(
      `Your API token is ${terminalSafe(user)}'s, not ${terminalText(by, 60)}'s: through plantwire serve, the person ` +
        `deciding is the token's user. Give --by ${terminalSafe(user)}, or use your own token. Nothing was decided.\n`,
    );
    return 2;
  }
  const listed = await call(target, "GET", "/api/proposals");
  if (listed.status !== 200) {
    io.err(`plantwire serve refused the listing${refusal(listed)}\nNothing was decided.\n`);
    return 1;
  }
  const { pending, recent } = listed.body as unknown as ProposalsView;
  const proposal = pending.find((item) => item.id === id);
  if (!proposal) {
    const known = recent.find((item) => item.id === id);
    io.err(
      known
        ? `Proposal ${terminalSafe(id)} is no longer pending (${terminalSafe(known.state)}${known.decidedBy ? ` by ${terminalText(known.decidedBy, 40)}` : ""}); a decision is used once.\n`
        : `No pending proposal ${terminalSafe(id)} in plantwire serve at ${terminalSafe(target.url)}. Run "plantwire proposals".\n`,
    );
    return 1;
  }
  io.out(`${decision === "approve" ? "Approving" : "Rejecting"} (plantwire serve at ${terminalSafe(target.url)}):\n`);
  io.out(`${describe(proposal, Date.now())}\n`);
  const body = { digest: proposal.digest, ...(request.reason ? { reason: request.reason } : {}) };
  const answer = await call(target, "POST", `/api/proposals/${encodeURIComponent(id)}/${decision}`, body);
  if (answer.status !== 200) {
    io.err(`Refused${refusal(answer)}\nNothing will be written for this decision.\n`);
    return 1;
  }
  const result = answer.body as unknown as ProposalView;
  const who = terminalSafe(user);
  const outcome = result.outcome
    ? `; read back ${terminalSafe(result.outcome.readBack)}${result.outcome.readBackValue !== undefined ? ` (${valueText(result.outcome.readBackValue)})` : ""}`
    : "";
  if (result.state === "executed" || result.state === "declined" || result.state === "pending") {
    const word =
      decision === "reject" ? "Rejected" : result.state === "pending" ? "First approval recorded" : "Approved";
    io.out(`${word} by ${who}. Result: ${terminalSafe(result.state)}${outcome}\n`);
    return 0;
  }
  io.err(
    `The ${decision === "approve" ? "approval" : "rejection"} by ${who} was recorded. Result: ${terminalSafe(result.state)}${outcome}\n`,
  );
  return 1;
}
