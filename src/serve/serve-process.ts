/**
 * `startServe()`: one long-running server per site. It runs the site (site-runtime.ts), logs people in (auth/), and
 * serves the console, the JSON API and its event stream, `/metrics` and `/healthz` over plain node:http, or https
 * with the site's certificate. A reload validates the changed site file first and keeps the running configuration
 * when anything in it is wrong, answering every problem.
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { ConfigError, type ConfigIssue, MissingDependencyError } from "../errors.js";
import { type Logger, resolveLogger } from "../logger.js";
import { metricsRegistry } from "../loop/loop-metrics.js";
import type { SiteLoops } from "../loop/site-loops.js";
import { mcpSettingsOf } from "../mcp/mcp-api-routes.js";
import { createMcpMount } from "../mcp/mcp-http.js";
import { createRateLimiter } from "../mcp/mcp-limits.js";
import { type Site, type SiteServeSettings, siteDefaults } from "../site/site-config.js";
import type { HealthView, ReloadResult } from "./api-types.js";
import { sendError, sendJson } from "./auth/auth-http.js";
import { createServeAuth, type Person } from "./auth/serve-auth.js";
import { serveConsoleAsset } from "./console-assets.js";
import { handleApi } from "./serve-api.js";
import { feedChanges } from "./serve-changes.js";
import { announceServe, withdrawServe } from "./serve-discovery.js";
import { createEventHub } from "./serve-events.js";
import { hostCheck } from "./serve-hosts.js";
import { checkServeState } from "./serve-preflight.js";
import { loadSiteParts } from "./serve-reload.js";
import { sampleView } from "./serve-views.js";
import { type SiteRuntime, startSiteRuntime } from "./site-runtime.js";

/** Options of {@link startServe}. */
export interface ServeOptions {
  /** The site file. */
  siteFile: string;
  /** Overrides the site's `serve.listen`, e.g. "127.0.0.1:0" for any free port. */
  listen?: string;
  /** @default the environment's logger (PLANTWIRE_LOG) */
  logger?: Logger;
}

/** A running server. */
export interface RunningServe {
  /** Where it listens, e.g. "http://127.0.0.1:8470". */
  readonly url: string;
  /** Validates and applies the site file again (what SIGHUP and POST /api/site/reload do). */
  reload(by?: string): Promise<ReloadResult>;
  /** Stops: loops stop, the guard closes, adapters disconnect, the server closes. */
  close(): Promise<void>;
}

/** "host:port" → its parts; "[::1]:8470" for IPv6. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65_535) {
    throw new ConfigError([
      { path: "serve.listen", message: `"${listen}" is not host:port`, fix: 'write e.g. "127.0.0.1:8470"' },
    ]);
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

/**
 * The warning for a console served without TLS on an address other than loopback (undefined when there is none):
 * passwords and session cookies would cross the plant's network in clear.
 */
export function plainHttpWarning(host: string, tls: boolean): string | undefined {
  const loopback = /^127\./.test(host) || host === "::1" || host.toLowerCase() === "localhost";
  if (tls || loopback) return undefined;
  return `[plantwire serve] listening on ${host} without TLS: passwords and session cookies cross the network in clear. Fix: give serve.tls { cert, key } (docs/console.md), or keep serve on 127.0.0.1 behind a TLS reverse proxy`;
}

const urlHost = (host: string) => (host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host);

/** Starts the server for a site. Throws a ConfigError (every problem named) when the site cannot be served. */
export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const logger = resolveLogger(options.logger);
  const { site, loopsFactory } = await loadSiteParts(options.siteFile);
  const settings: SiteServeSettings = siteDefaults(site).serve;
  // Every wrong state path and a missing users file named with its fix, before anything connects or is created.
  checkServeState(options.siteFile, siteDefaults(site).guard, settings);
  const listen = parseListen(options.listen ?? settings.listen);
  const tls = settings.tls ? { cert: readFileSync(settings.tls.cert), key: readFileSync(settings.tls.key) } : undefined;
  const plain = plainHttpWarning(listen.host, tls !== undefined);
  if (plain) logger.warn(plain);
  const hub = createEventHub();
  let runtime: SiteRuntime;
  const start = (next: Site, factory: SiteLoops | undefined) =>
    startSiteRuntime(next, {
      logger,
      ...(factory ? { loopsFactory: factory } : {}),
      onSample: (change) => hub.send("sample", { tag: change.name, ...sampleView(change.sample, Date.now()) }),
      onAdapterStatus: () => {},
    });
  runtime = await start(site, loopsFactory);
  const current = () => runtime;
  let auth: ReturnType<typeof createServeAuth>;
  try {
    auth = createServeAuth({
      usersFile: settings.users,
      secure: tls !== undefined,
      idleTimeoutMs: settings.idleTimeoutMinutes * 60_000,
      // Logins, logouts and refused requests go into the site's audit chain, with the person and client address.
      audit: (event) => {
        const { type, ...fields } = event;
        runtime.audit.append({ ...fields, type: "note", note: `auth-${type}` });
      },
    });
  } catch (error) {
    await runtime.close();
    hub.close();
    throw error;
  }
  // Read at scrape time through getters: a reload replaces the loops, plant and guard.
  const registry = await metricsRegistry({
    get loops() {
      return runtime.loops;
    },
    get plant() {
      return runtime.plant;
    },
    get guards() {
      return [runtime.guard];
    },
  }).catch((error: unknown) => {
    // prom-client is an optional peer: without it the site is served all the same, and /metrics says what to install.
    if (!MissingDependencyError.isInstance(error)) throw error;
    logger.warn("[plantwire serve] /metrics is off: npm i prom-client to turn it on");
    return undefined;
  });
  const changes = feedChanges(current, hub);

  // Set once the server listens (a reload can only come after that).
  let announce = () => {};
  let reloading: Promise<ReloadResult> = Promise.resolve({ applied: true });
  const reload = (by = "SIGHUP") => {
    reloading = reloading.then(() => reloadSite(by));
    return reloading;
  };
  async function reloadSite(by: string): Promise<ReloadResult> {
    let parts: Awaited<ReturnType<typeof loadSiteParts>>;
    try {
      parts = await loadSiteParts(options.siteFile);
    } catch (error) {
      const issues: ConfigIssue[] = ConfigError.isInstance(error)
        ? [...error.issues]
        : [{ path: "site", message: String(error), fix: "correct the site file" }];
      runtime.audit.append({ type: "note", note: "site-reload-refused", by, issues: issues.slice(0, 50) });
      logger.warn(`[plantwire serve] reload refused (${issues.length} problem(s)); the running configuration stays`);
      return { issues };
    }
    const next = siteDefaults(parts.site).serve;
    const restartOnly = [
      next.listen !== settings.listen && "serve.listen",
      JSON.stringify(next.tls) !== JSON.stringify(settings.tls) && "serve.tls",
      next.users !== settings.users && "serve.users",
      next.idleTimeoutMinutes !== settings.idleTimeoutMinutes && "serve.idleTimeoutMinutes",
      JSON.stringify(next.hosts ?? []) !== JSON.stringify(settings.hosts ?? []) && "serve.hosts",
    ].filter(Boolean);
    if (restartOnly.length > 0) {
      logger.warn(`[plantwire serve] ${restartOnly.join(", ")}: changes take effect on the next start`);
    }
    const previous = runtime;
    await previous.close();
    try {
      runtime = await start(parts.site, parts.loopsFactory);
    } catch (error) {
      // The new site would not start (a device locked by another guard, an audit that will not open): back to the
      // configuration that ran, on the same adapters.
      runtime = await start(previous.site, previous.loopsFactory);
      const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
      runtime.audit.append({ type: "note", note: "site-reload-failed", by, error: message });
      return { issues: [{ path: "site", message: `could not start: ${message}`, fix: "correct it and reload again" }] };
    }
    runtime.audit.append({ type: "note", note: "site-reloaded", by, site: parts.site.name });
    if (previous.guardSettings.approvals !== runtime.guardSettings.approvals) {
      // The CLI finds this serve by the approvals folder: the old folder's discovery file goes, the new one's comes.
      withdrawServe(previous.guardSettings.approvals);
      announce();
    }
    logger.info(`[plantwire serve] site reloaded by ${by}`);
    changes.check();
    return { applied: true };
  }

  // One allowance per person for MCP calls and proposals through the API alike (no way around it by changing door).
  const limiter = createRateLimiter(() => mcpSettingsOf(runtime).callsPerMinute);
  const api = { runtime: current, auth, hub, limiter, reload: (person: Person) => reload(person.user) };
  // MCP clients with an API token, at /mcp (the SDK is loaded on the first MCP request only).
  const mcp = createMcpMount({ runtime: current, auth, logger, limiter });
  // Against DNS rebinding: set once the port is known; nothing is answered before.
  let checkHost = hostCheck(listen.host, -1, settings.hosts);
  const handler = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://serve.invalid");
    try {
      const refusal = checkHost(request.headers.host);
      if (refusal) {
        sendError(response, refusal.status, refusal.code, refusal.error, refusal.fix);
      } else if (url.pathname === "/healthz") {
        const status = runtime.guard.status();
        const adapters = Object.fromEntries(runtime.adapters().map((adapter) => [adapter.name, adapter.state]));
        const body: HealthView = {
          ok: status.audit.state === "ok" && !status.closed,
          site: runtime.site.name,
          adapters,
          guard: { audit: status.audit.state },
        };
        sendJson(response, body.ok ? 200 : 503, body);
      } else if (url.pathname === "/metrics") {
        if (!registry) {
          sendError(response, 501, "missing-dependency", "metrics need prom-client", "npm i prom-client");
        } else {
          const text = await registry.metrics();
          response.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" }).end(text);
        }
      } else if (await auth.handle(request, response, url)) {
        // login, logout, session
      } else if (await mcp.handle(request, response, url)) {
        // an MCP session's request
      } else if (url.pathname.startsWith("/api/")) {
        if (!(await handleApi(api, request, response, url))) {
          sendError(response, 404, "not-found", `no ${request.method} ${url.pathname}`, "see docs/console.md");
        } else if (request.method === "POST") {
          changes.check();
        }
      } else if (!(await serveConsoleAsset(request, response, url))) {
        sendError(response, 404, "not-found", `nothing at ${url.pathname}`);
      }
    } catch (error) {
      logger.error(`[plantwire serve] ${request.method} ${url.pathname}: ${String(error)}`);
      if (!response.headersSent) sendError(response, 500, "internal", "the server failed on this request");
      else response.end();
    }
  };
  const server: Server = tls
    ? createHttpsServer(tls, (request, response) => void handler(request, response))
    : createHttpServer((request, response) => void handler(request, response));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listen.port, listen.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    changes.stop();
    auth.close();
    hub.close();
    await runtime.close();
    throw new ConfigError(
      [
        {
          path: "serve.listen",
          message: `cannot listen on ${listen.host}:${listen.port}: ${(error as Error).message}`,
          fix: "choose a free port, or stop the process that uses it",
        },
      ],
      { file: options.siteFile, cause: error },
    );
  }
  const port = (server.address() as AddressInfo).port;
  checkHost = hostCheck(listen.host, port, settings.hosts);
  const url = `${tls ? "https" : "http"}://${urlHost(listen.host)}:${port}`;
  const startedAt = Date.now();
  announce = () =>
    announceServe(runtime.guardSettings.approvals, { url, pid: process.pid, site: runtime.site.name, startedAt });
  announce();
  logger.info(`[plantwire serve] ${runtime.site.name}: listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    reload,
    close() {
      closing ??= (async () => {
        await reloading.catch(() => {});
        withdrawServe(runtime.guardSettings.approvals);
        await mcp.close();
        changes.stop();
        hub.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await runtime.close();
        auth.close();
        server.closeAllConnections();
        await closed;
        logger.info("[plantwire serve] stopped: loops stopped, guard and audit closed, adapters closed");
      })();
      return closing;
    },
  };
}
