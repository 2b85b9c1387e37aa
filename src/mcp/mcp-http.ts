/**
 * The MCP server inside `plantwire serve`, at /mcp over Streamable HTTP: every request needs an API token (a bearer;
 * no token → 401, a console cookie is not enough), each session is bound to the token's user, a viewer's session
 * has no propose tool, and proposals go to the serve's own guard. Nothing here decides.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { MissingDependencyError } from "../errors.js";
import type { Logger } from "../logger.js";
import { loadOptionalDependency } from "../optional-dependency.js";
import { sendError } from "../serve/auth/auth-http.js";
import { rolePermissions, type ServeAuth } from "../serve/auth/serve-auth.js";
import type { SiteRuntime } from "../serve/site-runtime.js";
import { guardAccess } from "./mcp-access.js";
import { mcpSettingsOf } from "./mcp-api-routes.js";
import { createRateLimiter, type RateLimiter } from "./mcp-limits.js";
import { createPlantMcpServer, loadMcpSdk } from "./mcp-server.js";
import { plantwireVersion } from "./mcp-version.js";

type HttpModule = typeof import("@modelcontextprotocol/sdk/server/streamableHttp.js");

/** The /mcp mount of one serve. */
export interface McpMount {
  /** Answers /mcp; resolves false for any other path. */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
  /** Ends every session. */
  close(): Promise<void>;
}

interface Session {
  readonly user: string;
  /** Whether its tools were made with propose_write: a session is for the role it began with only. */
  readonly canPropose: boolean;
  readonly transport: StreamableHTTPServerTransport;
  close(): Promise<void>;
}

/** Options of {@link createMcpMount}. */
export interface McpMountOptions {
  runtime(): SiteRuntime;
  readonly auth: ServeAuth;
  readonly logger: Logger;
  readonly version?: string;
  /** The path. @default "/mcp" */
  readonly path?: string;
  /**
   * Sessions kept at once; beyond it the least recently used one ends (clients that never say goodbye), first among
   * the sessions of the person opening one, who may hold a quarter of them. @default 64
   */
  readonly maxSessions?: number;
  /** The calls-per-minute limiter, shared with the serve's POST /api/proposals. @default one of its own */
  readonly limiter?: RateLimiter;
}

/** Most bytes of one MCP request body. */
export const maxBodyBytes = 64 * 1024;

/** Creates the mount; the SDK is loaded on the first MCP request, not before. */
export function createMcpMount(options: McpMountOptions): McpMount {
  const path = options.path ?? "/mcp";
  const maxPerUser = Math.max(1, Math.floor((options.maxSessions ?? 64) / 4));
  const sessions = new Map<string, Session>();
  const limiter = options.limiter ?? createRateLimiter(() => mcpSettingsOf(options.runtime()).callsPerMinute);
  let closed = false;

  async function open(request: IncomingMessage, response: ServerResponse, user: string, canPropose: boolean) {
    await loadMcpSdk();
    const http = await loadOptionalDependency<HttpModule>(
      "@modelcontextprotocol/sdk/server/streamableHttp.js",
      "The MCP server",
      { namespace: true },
    );
    const runtime = options.runtime;
    const access = guardAccess({
      siteName: runtime().site.name,
      plant: () => runtime().plant,
      guard: () => runtime().guard,
      settings: () => mcpSettingsOf(runtime()),
    });
    const server = await createPlantMcpServer({
      access,
      caller: { user, canPropose },
      limiter,
      version: options.version ?? plantwireVersion(),
    });
    const transport: StreamableHTTPServerTransport = new http.StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // The SDK reads up to 4 MiB a request; the tools' largest arguments (a reason, a list of tag names) are a few KiB.
      maxRequestBodySize: maxBodyBytes,
      onsessioninitialized: (id) => {
        sessions.set(id, { user, canPropose, transport, close: () => server.close() });
        // The least recently used session of the same person ends first: one token holder opening sessions by the
        // dozen must not end everybody else's.
        const own = [...sessions].filter(([, session]) => session.user === user).map(([key]) => key);
        const all = [...sessions.keys()];
        const oldest = own.length > maxPerUser ? own[0] : all.length > (options.maxSessions ?? 64) ? all[0] : undefined;
        if (oldest !== undefined) {
          void sessions.get(oldest)?.close();
          sessions.delete(oldest);
        }
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(request, response);
    // A first request that was not an initialize made no session: nothing to keep.
    if (!transport.sessionId || !sessions.has(transport.sessionId)) await server.close();
  }

  return {
    async handle(request, response, url) {
      if (url.pathname !== path) return false;
      if (closed) {
        sendError(response, 503, "closing", "the server is stopping");
        return true;
      }
      const person = options.auth.authorize(request, response, "read");
      if (!person) return true;
      if (person.via !== "token") {
        sendError(
          response,
          401,
          "unauthenticated",
          "MCP clients need an API token",
          "send Authorization: Bearer <token> (plantwire users token <name>)",
        );
        return true;
      }
      const id = request.headers["mcp-session-id"];
      if (typeof id === "string") {
        const session = sessions.get(id);
        if (!session) {
          sendError(
            response,
            404,
            "unknown-session",
            "no such MCP session (the server restarted, or it ended)",
            "initialize again",
          );
        } else if (session.user !== person.user) {
          sendError(
            response,
            403,
            "forbidden",
            "this MCP session belongs to another user",
            "use the token the session began with",
          );
        } else if (session.canPropose !== rolePermissions[person.role].includes("propose")) {
          // The person's role changed since the session began: its tools are the old role's, so it ends here.
          sessions.delete(id);
          void session.close();
          sendError(
            response,
            404,
            "unknown-session",
            `${person.user}'s role changed to ${person.role}: this MCP session has ended`,
            "initialize again",
          );
        } else {
          // Most recently used last: the map's order is the order to end sessions in.
          sessions.delete(id);
          sessions.set(id, session);
          await session.transport.handleRequest(request, response);
        }
        return true;
      }
      if (request.method !== "POST") {
        sendError(response, 400, "bad-request", "no MCP session", "begin with an initialize request (POST)");
        return true;
      }
      try {
        await open(request, response, person.user, rolePermissions[person.role].includes("propose"));
      } catch (error) {
        if (!MissingDependencyError.isInstance(error) || response.headersSent) throw error;
        // The console and API run without the SDK; only /mcp needs it, and says what to install.
        options.logger.warn(`[plantwire serve] /mcp: ${error.message}`);
        sendError(response, 501, "missing-dependency", error.message, error.install);
      }
      return true;
    },
    async close() {
      closed = true;
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(all.map((session) => session.close()));
    },
  };
}
