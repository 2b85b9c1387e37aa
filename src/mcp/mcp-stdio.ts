/**
 * `plantwire mcp --site site.yaml`: the MCP server over stdio, for an assistant that starts it as a child process.
 * Standard output carries MCP and nothing else; logs go to standard error. Reads come from the site's adapters,
 * opened by this process. Proposals go to the one guard of the site:
 *  - a `plantwire serve` holds the site (its discovery file beside the approvals folder): each proposal is sent to it
 *    over its API with an API token (PLANTWIRE_TOKEN or --token-file), as that token's user;
 *  - no serve: this process opens the site's guard itself (same audit, same approvals folder, device locks make it
 *    the one writer), as the OS user, and a person decides with `plantwire approve`. It never decides.
 */
import { readFileSync } from "node:fs";
import { proposerOnly } from "../guard/proposer-only.js";
import { createGuard, type WriteGuard } from "../guard/write-guard.js";
import type { Logger } from "../logger.js";
import { loadOptionalDependency } from "../optional-dependency.js";
import { operatingSystemUser } from "../os-user.js";
import { createPlant } from "../plant.js";
import { type Role, rolePermissions } from "../serve/auth/auth-types.js";
import { findServe } from "../serve/serve-discovery.js";
import { loadSite, siteDefaults } from "../site/site-config.js";
import type { TagDefinitions } from "../tags.js";
import { forwardAccess, guardAccess, type ServeEndpoint } from "./mcp-access.js";
import { createRateLimiter } from "./mcp-limits.js";
import { createPlantMcpServer, loadMcpSdk } from "./mcp-server.js";
import { defaultMcpSettings } from "./mcp-settings.js";
import type { McpCaller, McpPlantAccess } from "./mcp-tools.js";
import { plantwireVersion } from "./mcp-version.js";

/** Options of {@link runStdioServer}. */
export interface StdioServerOptions {
  readonly siteFile: string;
  /** A file holding the API token for a running serve. @default env PLANTWIRE_TOKEN */
  readonly tokenFile?: string;
  /** Where logs go (never standard output). */
  readonly logger: Logger;
  /** Resolves when the server should stop (a signal); the server also stops when its input ends. */
  readonly stopped: Promise<unknown>;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Who the serve says the token belongs to. */
async function tokenPerson(endpoint: ServeEndpoint): Promise<McpCaller> {
  const response = await fetch(`${endpoint.url}/api/session`, {
    headers: { authorization: `Bearer ${endpoint.token}`, "x-plantwire-client": "mcp" },
    signal: AbortSignal.timeout(10_000),
  }).catch((error: unknown) => {
    throw new Error(`cannot reach plantwire serve at ${endpoint.url} (${(error as Error).message})`);
  });
  const body = (await response.json().catch(() => ({}))) as { user?: unknown; role?: unknown };
  if (response.status !== 200 || typeof body.user !== "string") {
    throw new Error(
      `plantwire serve at ${endpoint.url} refused the API token (${response.status}). Fix: make one with "plantwire users token <name>"`,
    );
  }
  const role = body.role as Role;
  return { user: body.user, canPropose: (rolePermissions[role] ?? []).includes("propose") };
}

/** Runs the stdio server until its input ends or `stopped` resolves. */
export async function runStdioServer(options: StdioServerOptions): Promise<void> {
  const { logger } = options;
  const env = options.env ?? process.env;
  await loadMcpSdk(); // a missing SDK is named before any device is opened
  const { StdioServerTransport } = await loadOptionalDependency<
    typeof import("@modelcontextprotocol/sdk/server/stdio.js")
  >("@modelcontextprotocol/sdk/server/stdio.js", "plantwire mcp", { namespace: true });
  const site = await loadSite(options.siteFile);
  const settings = site.mcp ?? defaultMcpSettings(site.tags);
  const guardSettings = siteDefaults(site).guard;
  // Where proposals go is settled first: a missing token is named before any device is opened.
  const serve = findServe(guardSettings.approvals);
  let endpoint: ServeEndpoint | undefined;
  let forwardCaller: McpCaller | undefined;
  if (serve) {
    const token = options.tokenFile ? readFileSync(options.tokenFile, "utf8").trim() : env.PLANTWIRE_TOKEN?.trim();
    if (!token) {
      throw new Error(
        `plantwire serve at ${serve.url} holds this site's guard. Fix: give an API token (PLANTWIRE_TOKEN or --token-file; "plantwire users token <name>") so proposals go to it`,
      );
    }
    endpoint = { url: serve.url.replace(/\/+$/, ""), token };
    forwardCaller = await tokenPerson(endpoint);
  }
  const plant = createPlant({ tags: site.tags, logger, pollIntervalMs: 1000 });
  const closers: (() => Promise<unknown> | unknown)[] = [() => plant.close()];
  try {
    await plant.connect();
    // Watching keeps the in-memory history that read_window answers from.
    const watcher = await plant.watch(() => {});
    closers.push(() => watcher.stop());
    let access: McpPlantAccess;
    let caller: McpCaller;
    if (serve && endpoint && forwardCaller) {
      caller = forwardCaller;
      access = forwardAccess(site.name, plant, settings, endpoint);
      logger.info(`[plantwire mcp] proposals go to plantwire serve at ${serve.url} as ${caller.user}`);
    } else {
      const guard: WriteGuard<TagDefinitions> = createGuard({
        plant,
        audit: guardSettings.audit,
        approvals: guardSettings.approvals,
        mode: guardSettings.mode,
        ...(guardSettings.writable ? { writable: guardSettings.writable } : {}),
        ...(guardSettings.proposalTtlMs ? { proposalTtlMs: guardSettings.proposalTtlMs } : {}),
        ...(guardSettings.separateApproverUsers ? { separateApproverUsers: true } : {}),
      });
      closers.push(() => guard.close());
      const proposer = proposerOnly(guard);
      caller = { user: operatingSystemUser(), canPropose: true };
      access = guardAccess({
        siteName: site.name,
        plant: () => plant,
        guard: () => proposer,
        settings: () => settings,
      });
      logger.info(
        `[plantwire mcp] this process holds the guard; decide with "plantwire approve --dir ${guardSettings.approvals}"`,
      );
    }
    const limiter = createRateLimiter(() => settings.callsPerMinute);
    const server = await createPlantMcpServer({ access, caller, limiter, version: plantwireVersion() });
    const transport = new StdioServerTransport();
    const ended = new Promise<void>((resolve) => {
      transport.onclose = () => resolve();
      process.stdin.once("end", () => resolve());
    });
    closers.push(() => server.close());
    await server.connect(transport);
    await Promise.race([ended, options.stopped]);
  } finally {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        logger.error(`[plantwire mcp] while stopping: ${String(error)}`);
      }
    }
  }
}
