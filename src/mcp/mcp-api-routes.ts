/**
 * The serve API's proposal door for MCP clients (and other proposers with a token): `POST /api/proposals` (role
 * assistant or higher) and `GET /api/proposals/:id`. A stdio MCP server forwards here while a serve holds the site,
 * so the serve's guard stays the one writer. A request from an assistant, or one that says it comes from an MCP
 * client, is held to the site's `mcp:` exposure; every proposal is the guard's, with its source and the token's user.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Proposal } from "../guard/guard-types.js";
import { BodyError, readJsonBody, sendError, sendJson } from "../serve/auth/auth-http.js";
import type { ServeAuth } from "../serve/auth/serve-auth.js";
import { auditRefusal } from "../serve/serve-refusals.js";
import type { SiteRuntime } from "../serve/site-runtime.js";
import type { AnyTag } from "../tags.js";
import { type RateLimiter, sourceOf } from "./mcp-limits.js";
import { type ProposalAnswer, proposalSummary, proposeUnderExposure, statusForAssistant } from "./mcp-proposals.js";
import { defaultMcpSettings, type SiteMcpSettings } from "./mcp-settings.js";

/** The site's `mcp:` settings, or the read-only defaults. */
export function mcpSettingsOf(runtime: SiteRuntime): SiteMcpSettings {
  return runtime.site.mcp ?? defaultMcpSettings(runtime.site.tags);
}

function answer(response: ServerResponse, result: ProposalAnswer): void {
  if ("proposal" in result) sendJson(response, 200, result);
  else {
    const status = result.refused.code === "not-found" ? 404 : 409;
    sendJson(response, status, { ...result, error: result.refused.message, code: result.refused.code });
  }
}

/**
 * Answers the two routes; resolves false for any other request. `limiter` is the serve's calls-per-minute limit of
 * its MCP clients: a token holder proposing here directly counts against the same allowance.
 */
export async function handleProposalRoutes(
  runtime: SiteRuntime,
  auth: ServeAuth,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  limiter?: RateLimiter,
): Promise<boolean> {
  const parts = url.pathname.split("/").filter(Boolean);
  if (url.pathname === "/api/proposals" && request.method === "POST") {
    const person = auth.authorize(request, response, "propose");
    if (!person) return true;
    const wait = limiter?.take(person.user) ?? 0;
    if (wait > 0) {
      request.resume();
      const detail = `${person.user} is over ${mcpSettingsOf(runtime).callsPerMinute} calls per minute`;
      auditRefusal(runtime, person, request, { status: 429, code: "rate-limited", detail });
      sendError(response, 429, "rate-limited", detail, `try again in ${wait} s`, { "retry-after": String(wait) });
      return true;
    }
    let body: unknown;
    try {
      body = await readJsonBody(request);
    } catch (error) {
      const status = error instanceof BodyError ? error.status : 400;
      auditRefusal(runtime, person, request, { status, code: "bad-request", detail: (error as Error).message });
      sendError(response, status, "bad-request", (error as Error).message);
      return true;
    }
    const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const { tag, value, reason } = fields;
    if (typeof tag !== "string" || typeof reason !== "string" || !reason.trim() || value === undefined) {
      const detail = "a proposal needs tag, value and reason";
      auditRefusal(runtime, person, request, { status: 400, code: "bad-request", detail });
      sendError(
        response,
        400,
        "bad-request",
        "a proposal needs tag, value and reason",
        'send { "tag": "speedSetpoint", "value": 1200, "reason": "why" }',
      );
      return true;
    }
    const fromMcp = typeof fields.source === "string" && fields.source.startsWith("mcp:");
    const source = fromMcp ? sourceOf((fields.source as string).slice(4)) : `api:${person.via}`;
    const definition = runtime.site.tags[tag] as AnyTag | undefined;
    const typed = definition?.type === "datetime" && typeof value === "string" ? new Date(value) : value;
    const request_ = { tag, value: typed, reason: reason.slice(0, 2000), source, user: person.user };
    let result: ProposalAnswer;
    if (person.role === "assistant" || fromMcp) {
      result = await proposeUnderExposure(runtime.guard, mcpSettingsOf(runtime), runtime.site.tags, request_);
    } else {
      const [proposal] = await runtime.guard.propose(
        { [tag]: typed },
        { reason: request_.reason, source, user: person.user },
      );
      result = { proposal: proposalSummary(proposal as Proposal) };
    }
    // The console's recent list shows it once decided.
    if ("proposal" in result) runtime.noteProposal(result.proposal.id);
    answer(response, result);
    return true;
  }
  if (parts.length === 3 && parts[0] === "api" && parts[1] === "proposals" && request.method === "GET") {
    const person = auth.authorize(request, response, "read");
    if (!person) return true;
    const id = decodeURIComponent(parts[2] ?? "");
    const proposal = runtime.guard.get(id);
    if (person.role === "assistant") answer(response, statusForAssistant(mcpSettingsOf(runtime), proposal, id));
    else if (proposal) answer(response, { proposal: proposalSummary(proposal) });
    else answer(response, { refused: { code: "not-found", message: `no proposal ${id} in this serve` } });
    return true;
  }
  return false;
}
