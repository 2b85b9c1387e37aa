/**
 * An assistant's proposals, wherever the guard is (inside `plantwire serve`, or the stdio process's own): the
 * exposure is checked first (a hidden tag is refused as unknown, a tag it may not propose for as not writable, each
 * refusal one audit record), then the proposal is an ordinary guard proposal with its source and user. Nothing here
 * decides: the guard checks, records and holds it for a person.
 */

import type { Proposal, RejectionCode } from "../guard/guard-types.js";
import type { ProposerGuard } from "../guard/proposer-only.js";
import type { TagDefinitions } from "../tags.js";
import type { SiteMcpSettings } from "./mcp-settings.js";

/** What an assistant asks for. */
export interface AssistantProposal {
  readonly tag: string;
  readonly value: unknown;
  /** Its reason: untrusted text, kept in the audit and shown to the approver as such. */
  readonly reason: string;
  /** "mcp:<client name>". */
  readonly source: string;
  /** The person behind the token (or the OS user of a stdio server). */
  readonly user: string;
}

/** A proposal as the assistant is told about it (JSON): no reason echoed, no decider identity beyond the name. */
export interface ProposalSummary {
  readonly id: string;
  readonly tag: string;
  readonly value: unknown;
  readonly current: unknown;
  /** The guard's state: pending, executed, rejected, declined, refused, superseded, expired… */
  readonly state: string;
  /** The failed checks, each with the guard's code. */
  readonly refusals: readonly { readonly code: string; readonly detail: string }[];
  readonly approvalsRequired: number;
  readonly approvals: number;
  /** ISO time after which it can no longer be approved. */
  readonly expiresAt: string;
  readonly decidedBy?: string;
  readonly outcome?: { readonly write: string; readonly readBack: string; readonly readBackValue?: unknown };
}

/** The answer to a proposal or a status question: a summary, or a refusal with the guard's code. */
export type ProposalAnswer =
  | { readonly proposal: ProposalSummary }
  | { readonly refused: { readonly code: RejectionCode | "not-found"; readonly message: string } };

const jsonValue = (value: unknown) => (value instanceof Date ? value.toISOString() : value);

/** A guard proposal as the assistant sees it. */
export function proposalSummary(proposal: Proposal): ProposalSummary {
  return {
    id: proposal.id,
    tag: proposal.tag,
    value: jsonValue(proposal.value),
    current: jsonValue(proposal.current),
    state: proposal.state,
    refusals: proposal.verdicts
      .filter((verdict) => !verdict.passed)
      .map((verdict) => ({ code: verdict.code ?? "rejected", detail: verdict.detail })),
    approvalsRequired: proposal.approvalsRequired,
    approvals: proposal.approvals.length,
    expiresAt: new Date(proposal.expiresAt).toISOString(),
    ...(proposal.decidedBy ? { decidedBy: proposal.decidedBy } : {}),
    ...(proposal.outcome
      ? {
          outcome: {
            write: proposal.outcome.write,
            readBack: proposal.outcome.readBack,
            ...(proposal.outcome.readBackValue !== undefined
              ? { readBackValue: jsonValue(proposal.outcome.readBackValue) }
              : {}),
          },
        }
      : {}),
  };
}

/** Why the exposure refuses `tag`, or undefined when the assistant may propose for it. */
export function exposureRefusal(
  settings: SiteMcpSettings,
  tags: TagDefinitions,
  tag: string,
): { code: RejectionCode; message: string } | undefined {
  if (!settings.expose.includes(tag) || !Object.hasOwn(tags, tag)) {
    // A hidden tag is answered exactly like one that does not exist: the assistant learns nothing about it.
    return { code: "unknown-tag", message: `"${tag}" is not a tag this assistant can see` };
  }
  if (!settings.propose.includes(tag)) {
    return {
      code: "not-writable",
      message: `"${tag}" is read-only for assistants; proposable: ${settings.propose.join(", ") || "none"}`,
    };
  }
  return undefined;
}

/**
 * Proposes through `guard` under the exposure: a refused tag is one `rejection` audit record (the guard's
 * rejectAnswer, with source and user) and a refusal; anything else is the guard's own proposal, audited from its
 * first record and held for a person.
 */
export async function proposeUnderExposure(
  guard: Pick<ProposerGuard<TagDefinitions>, "propose" | "rejectAnswer">,
  settings: SiteMcpSettings,
  tags: TagDefinitions,
  request: AssistantProposal,
): Promise<ProposalAnswer> {
  const refusal = exposureRefusal(settings, tags, request.tag);
  if (refusal) {
    const raw = JSON.stringify({ tag: request.tag, value: request.value ?? null, reason: request.reason }) ?? "";
    guard.rejectAnswer(
      { message: `MCP proposal refused: ${refusal.message}`, rawText: raw, issues: [`tag: ${refusal.code}`] },
      { source: request.source, user: request.user },
    );
    return { refused: refusal };
  }
  const [proposal] = await guard.propose(
    { [request.tag]: request.value },
    { reason: request.reason, source: request.source, user: request.user },
  );
  if (!proposal) throw new Error(`the guard made no proposal for "${request.tag}"`);
  return { proposal: proposalSummary(proposal) };
}

/** A proposal's status for an assistant: only proposals for tags it can see. */
export function statusForAssistant(
  settings: SiteMcpSettings,
  proposal: Proposal | undefined,
  id: string,
): ProposalAnswer {
  if (!proposal || !settings.expose.includes(proposal.tag)) {
    return { refused: { code: "not-found", message: `no proposal ${id} that this assistant can see` } };
  }
  return { proposal: proposalSummary(proposal) };
}
