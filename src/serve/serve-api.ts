/**
 * The JSON API of `plantwire serve` (shapes in api-types.ts). Every route needs a person with the role it asks for
 * (`auth.authorize`): reading needs a login or token, deciding the operator role, loops and reload the engineer role.
 * A decision goes to the guard through its login door with the person's identity and the digest they were shown.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LoginIdentity } from "../guard/guard-api.js";
import { DecisionRefused } from "../guard/guard-decisions.js";
import { handleProposalRoutes } from "../mcp/mcp-api-routes.js";
import type { RateLimiter } from "../mcp/mcp-limits.js";
import type { ProposalView, ReloadResult, SiteView, SnapshotView } from "./api-types.js";
import { BodyError, readJsonBody, sendError, sendJson } from "./auth/auth-http.js";
import type { Person, ServeAuth } from "./auth/serve-auth.js";
import { auditPage } from "./serve-audit.js";
import type { EventHub } from "./serve-events.js";
import { auditRefusal } from "./serve-refusals.js";
import { loopView, proposalView, sampleView, tagView } from "./serve-views.js";
import type { SiteRuntime } from "./site-runtime.js";

/** What the API works on. The runtime is asked for on each request: a reload replaces it. */
export interface ApiContext {
  runtime(): SiteRuntime;
  readonly auth: ServeAuth;
  readonly hub: EventHub;
  reload(person: Person): Promise<ReloadResult>;
  /** The calls-per-minute limit of proposers (shared with /mcp). */
  readonly limiter?: RateLimiter;
}

/** A proposal of the runtime as shown, with its tag's unit and write range. */
export function viewOf(runtime: SiteRuntime, proposal: Parameters<typeof proposalView>[0]): ProposalView {
  return proposalView(proposal, runtime.site.tags[proposal.tag]);
}

function siteView(runtime: SiteRuntime): SiteView {
  return {
    name: runtime.site.name,
    tags: Object.entries(runtime.site.tags).map(([name, tag]) => tagView(name, tag)),
    loops: runtime.loops.map((loop) => loop.name),
    adapters: Object.keys(runtime.site.adapters),
  };
}

function snapshotView(runtime: SiteRuntime): SnapshotView {
  const now = Date.now();
  const tags: Record<string, ReturnType<typeof sampleView>> = {};
  for (const name of Object.keys(runtime.site.tags)) {
    const sample = runtime.latest(name);
    tags[name] = sample
      ? sampleView(sample, now)
      : { value: null, quality: "bad", reason: "not-read-yet", time: now, ageMs: 0, stale: false };
  }
  return { time: now, tags };
}

const timeParameter = (text: string | null): number | undefined => {
  if (!text) return undefined;
  const number = Number(text);
  if (Number.isFinite(number)) return number;
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : parsed;
};

/** Answers the API routes; resolves false for a path that is not one (the caller answers 404). */
export async function handleApi(
  context: ApiContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<boolean> {
  const { auth } = context;
  const method = request.method ?? "GET";
  const path = url.pathname;
  let parts: string[]; // ["api", "proposals", id, "approve"]
  try {
    parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    // A malformed escape (e.g. "%E0%A4%A") is the client's mistake, not the server's failure.
    sendError(
      response,
      400,
      "bad-request",
      "the path has a malformed %-escape",
      "encode the path with encodeURIComponent",
    );
    return true;
  }
  const get = method === "GET" || method === "HEAD";
  const runtime = context.runtime();
  const read = () => {
    const person = auth.authorize(request, response, "read");
    if (person?.role !== "assistant") return person;
    // These routes show every tag, proposal and audit record: an assistant would read past the site's `mcp.expose`.
    const detail = `${person.user} has the assistant role, which reads through /mcp (only the tags exposed to assistants)`;
    auditRefusal(runtime, person, request, { status: 403, code: "forbidden", detail });
    sendError(response, 403, "forbidden", detail, "connect the MCP client to /mcp with this token");
    return undefined;
  };

  if (path === "/api/site" && get) {
    if (read()) sendJson(response, 200, siteView(runtime));
  } else if (path === "/api/snapshot" && get) {
    if (read()) sendJson(response, 200, snapshotView(runtime));
  } else if (path === "/api/history" && get) {
    if (!read()) return true;
    const tag = url.searchParams.get("tag") ?? "";
    if (!Object.hasOwn(runtime.site.tags, tag)) {
      sendError(response, 404, "not-found", `no tag "${tag}" in this site`, "GET /api/site lists the tags");
      return true;
    }
    const seconds = Math.min(Math.max(Number(url.searchParams.get("seconds") ?? 600) || 600, 1), 86_400);
    const points = runtime.plant.history(tag, { from: Date.now() - seconds * 1000 }).map((sample) => ({
      t: sample.sourceTime ?? sample.receivedTime,
      v: sampleView({ ...sample, stale: false }, 0).value,
      q: sample.quality,
    }));
    sendJson(response, 200, { tag, points });
  } else if (path === "/api/events" && get) {
    const person = read();
    if (!person) return true;
    const allowed = () => auth.personOf(request, { touch: false }) !== undefined;
    context.hub.add(request, response, allowed, person.user);
  } else if (path === "/api/proposals" && get) {
    if (!read()) return true;
    sendJson(response, 200, {
      pending: runtime.guard.pending().map((proposal) => viewOf(runtime, proposal)),
      recent: runtime.recent().map((proposal) => viewOf(runtime, proposal)),
    });
  } else if (await handleProposalRoutes(runtime, auth, request, response, url, context.limiter)) {
    // POST /api/proposals (assistant and up), GET /api/proposals/:id: the proposal door MCP clients use
  } else if (parts[0] === "api" && parts[1] === "proposals" && parts.length === 4 && method === "POST") {
    const decision = parts[3];
    if (decision !== "approve" && decision !== "reject") return false;
    await decide(context, runtime, request, response, parts[2] ?? "", decision);
  } else if (path === "/api/loops" && get) {
    if (read())
      sendJson(
        response,
        200,
        runtime.loops.map((loop) => loopView(loop.report())),
      );
  } else if (parts[0] === "api" && parts[1] === "loops" && parts.length === 4 && method === "POST") {
    const action = parts[3];
    if (action !== "pause" && action !== "resume") return false;
    const person = auth.authorize(request, response, "engineer");
    if (!person) return true;
    const loop = runtime.loops.find((candidate) => candidate.name === parts[2]);
    if (!loop) {
      const detail = `no loop "${parts[2]}" in this site`;
      auditRefusal(runtime, person, request, { status: 404, code: "not-found", detail });
      sendError(response, 404, "not-found", detail, "GET /api/loops lists the loops");
      return true;
    }
    if (action === "pause") loop.pause(person.user);
    else loop.resume();
    runtime.audit.append({
      type: "note",
      note: `loop-${action}d`,
      loop: loop.name,
      by: person.user,
      via: person.via,
      client: person.client,
    });
    sendJson(response, 200, loopView(loop.report()));
  } else if (path === "/api/audit" && get) {
    if (!read()) return true;
    const search = url.searchParams;
    const filters = {
      ...(search.get("type") ? { type: search.get("type") as string } : {}),
      ...(search.get("tag") ? { tag: search.get("tag") as string } : {}),
      ...(search.get("person") ? { person: search.get("person") as string } : {}),
      ...(timeParameter(search.get("since")) !== undefined ? { since: timeParameter(search.get("since")) } : {}),
      ...(timeParameter(search.get("until")) !== undefined ? { until: timeParameter(search.get("until")) } : {}),
      ...(search.get("limit") ? { limit: Number(search.get("limit")) || 200 } : {}),
    };
    sendJson(response, 200, auditPage(runtime.audit.file, filters));
  } else if (path === "/api/adapters" && get) {
    if (read()) sendJson(response, 200, runtime.adapters());
  } else if (path === "/api/site/reload" && method === "POST") {
    const person = auth.authorize(request, response, "engineer");
    if (!person) return true;
    const result = await context.reload(person);
    sendJson(response, "applied" in result ? 200 : 422, result);
  } else {
    return false;
  }
  return true;
}

async function decide(
  context: ApiContext,
  runtime: SiteRuntime,
  request: IncomingMessage,
  response: ServerResponse,
  id: string,
  decision: "approve" | "reject",
): Promise<void> {
  const person = context.auth.authorize(request, response, "decide");
  if (!person) return;
  // The serve's own refusals of a known person's decision are audited too (the guard records its own).
  const refuse = (status: number, message: string, fix?: string) => {
    auditRefusal(runtime, person, request, { status, code: "bad-request", detail: message });
    sendError(response, status, "bad-request", message, fix);
  };
  let body: unknown;
  try {
    body = await readJsonBody(request);
  } catch (error) {
    const status = error instanceof BodyError ? error.status : 400;
    refuse(status, error instanceof Error ? error.message : String(error));
    return;
  }
  const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const digest = typeof fields.digest === "string" ? fields.digest : undefined;
  const reason = typeof fields.reason === "string" ? fields.reason.slice(0, 2000) : undefined;
  if (!digest) {
    refuse(400, "the decision carries no digest", "send the digest of the proposal as shown");
    return;
  }
  if (decision === "reject" && !reason?.trim()) {
    refuse(400, "a rejection needs a reason", 'send { digest, reason: "why not" }');
    return;
  }
  // A token's client says whether it is the plantwire CLI; a console session is the console.
  const client = request.headers["x-plantwire-client"] === "cli" ? "cli" : "api";
  const identity: LoginIdentity = {
    via: person.via === "console" ? "console" : client,
    login: person.user,
    client: person.client,
  };
  try {
    // The person's reason goes with either decision into the audit record (the guard trims and caps it).
    const options = { by: person.user, digest, identity, ...(reason ? { reason } : {}) };
    const proposal =
      decision === "approve" ? await runtime.guard.approve(id, options) : await runtime.guard.reject(id, options);
    runtime.noteProposal(proposal.id);
    sendJson(response, 200, viewOf(runtime, proposal));
  } catch (error) {
    if (error instanceof DecisionRefused || (error as { refusal?: unknown })?.refusal !== undefined) {
      const refused = error as DecisionRefused;
      const status = refused.refusal === "unknown-proposal" ? 404 : 409;
      const fix =
        refused.refusal === "digest-mismatch"
          ? "the proposal changed since it was shown: load it again and decide on what you see"
          : undefined;
      sendError(response, status, refused.refusal, refused.message, fix);
      return;
    }
    sendError(response, 500, "internal", error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error));
  }
}
