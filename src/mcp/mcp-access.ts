/**
 * Where an MCP server's reads and proposals go. `guardAccess`: a plant and a guard in this process (inside
 * `plantwire serve`, or a stdio server that holds the site's guard itself). `forwardAccess`: a stdio server while a
 * `plantwire serve` holds the site: it reads from its own connections and sends every proposal to the serve's guard
 * over its API with a token, so the device still has one writer.
 */
import type { ProposerGuard } from "../guard/proposer-only.js";
import type { Plant } from "../plant.js";
import { requestServe } from "../serve/serve-client.js";
import type { TagDefinitions } from "../tags.js";
import { type ProposalAnswer, proposeUnderExposure, statusForAssistant } from "./mcp-proposals.js";
import type { SiteMcpSettings } from "./mcp-settings.js";
import type { McpPlantAccess } from "./mcp-tools.js";

/** A plant and a proposer's view of its guard, asked for on each call (a serve reload replaces both). */
export interface GuardAccessParts<TTags extends TagDefinitions = TagDefinitions> {
  readonly siteName: string;
  plant(): Plant<TTags>;
  guard(): Pick<ProposerGuard<TTags>, "propose" | "rejectAnswer" | "get">;
  settings(): SiteMcpSettings;
}

/** Access through a guard in this process. */
export function guardAccess<TTags extends TagDefinitions>(typed: GuardAccessParts<TTags>): McpPlantAccess {
  // Tag names arrive as text from the client and are checked against the exposure: the map's own types add nothing.
  const parts = typed as unknown as GuardAccessParts;
  return {
    siteName: parts.siteName,
    tags: () => parts.plant().tags,
    settings: parts.settings,
    read: (names) => parts.plant().read(names),
    history: (name, range) => parts.plant().history(name, range),
    propose: (request) => proposeUnderExposure(parts.guard(), parts.settings(), parts.plant().tags, request),
    status: async (id) => statusForAssistant(parts.settings(), parts.guard().get(id), id),
  };
}

/** A running serve and the token to talk to it with. */
export interface ServeEndpoint {
  readonly url: string;
  readonly token: string;
}

async function call(endpoint: ServeEndpoint, method: string, path: string, body?: unknown): Promise<ProposalAnswer> {
  const response = await requestServe(endpoint, {
    method,
    path,
    body,
    client: "mcp",
    timeoutMs: 30_000,
    nothing: "nothing was proposed",
  });
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if ("proposal" in answer || "refused" in answer) return answer as unknown as ProposalAnswer;
  throw new Error(
    `plantwire serve at ${endpoint.url} answered ${response.status}: ${String(answer.error ?? "no answer").slice(0, 200)}`,
  );
}

/** Access that reads from `plant` and proposes through the serve at `endpoint`. */
export function forwardAccess(
  siteName: string,
  plant: Plant<TagDefinitions>,
  settings: SiteMcpSettings,
  endpoint: ServeEndpoint,
): McpPlantAccess {
  return {
    siteName,
    tags: () => plant.tags,
    settings: () => settings,
    read: (names) => plant.read(names),
    history: (name, range) => plant.history(name, range),
    propose: (request) =>
      call(endpoint, "POST", "/api/proposals", {
        tag: request.tag,
        value: request.value instanceof Date ? request.value.toISOString() : request.value,
        reason: request.reason,
        source: request.source,
      }),
    status: (id) => call(endpoint, "GET", `/api/proposals/${encodeURIComponent(id)}`),
  };
}
