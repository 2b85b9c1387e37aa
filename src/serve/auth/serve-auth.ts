/**
 * `createServeAuth()`: who may do what in `plantwire serve`. Console users log in with a password and get a
 * server-side session (an HttpOnly, SameSite=Strict cookie, Secure under TLS) with a CSRF token the page must send
 * on every state-changing request; CLI and MCP clients send an API token as a bearer. Every request that changes
 * anything needs a person whose role allows it: nothing anonymous ever changes state.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { findApiToken } from "./api-tokens.js";
import { createAuditLimiter } from "./audit-limiter.js";
import {
  bearerOf,
  clientAddress,
  cookieOf,
  isSafeMethod,
  sendError,
  sendJson,
  sessionCookie,
  sessionCookieHeader,
} from "./auth-http.js";
import {
  type AuthAuditEvent,
  type Permission,
  type Person,
  rolePermissions,
  type ServeAuth,
  type ServeAuthOptions,
} from "./auth-types.js";
import { csrfHeader, csrfMatches } from "./csrf.js";
import { dummyPasswordHash, type LoginContext, loginRoute } from "./login-route.js";
import { clientThrottleKey, createLoginThrottle } from "./login-throttle.js";
import { createSessionStore, type Session } from "./sessions.js";
import { watchUsersFile } from "./users-source.js";

export type {
  AuthAuditEvent,
  Permission,
  Person,
  PersonOfOptions,
  Role,
  ServeAuth,
  ServeAuthOptions,
} from "./auth-types.js";
export { rolePermissions, roles } from "./auth-types.js";

const neededWords: Record<Permission, string> = {
  read: "looking at the plant",
  propose: "proposing a write",
  decide: "approving or rejecting a proposal (the operator or engineer role)",
  engineer: "pausing or resuming loops and reloading the site (the engineer role)",
};

/**
 * Creates the authentication of one `plantwire serve` process. Throws a ConfigError when the users file is missing,
 * readable by others or malformed.
 */
export function createServeAuth(options: ServeAuthOptions): ServeAuth {
  const now = options.now ?? Date.now;
  const idleTimeoutMs = options.idleTimeoutMs ?? 15 * 60_000;
  const floods = createAuditLimiter({ now });
  const record = (event: AuthAuditEvent): void => {
    // Anyone can send refused tokens and throttled logins by the thousand: one record per client a minute.
    let written = event;
    if (event.type === "token-refused" || (event.type === "login" && event.outcome === "throttled")) {
      const suppressed = floods.admit(`${event.type}:${clientThrottleKey(event.client)}`);
      if (suppressed === undefined) return;
      if (suppressed > 0) written = { ...event, suppressed };
    }
    // Refusals are recorded best effort: the request is refused whether or not the record is written.
    try {
      Promise.resolve(options.audit?.(written)).catch(() => {});
    } catch {}
  };
  const sessions = createSessionStore({
    idleTimeoutMs,
    absoluteLifetimeMs: options.absoluteLifetimeMs ?? 12 * 60 * 60_000,
    now,
    onEnded: (session, reason) => record({ type: "session-ended", user: session.user, reason }),
  });
  const users = watchUsersFile({
    file: options.usersFile,
    intervalMs: options.watchIntervalMs ?? 1000,
    onChange: (_before, after) =>
      sessions.endWhere((session) => {
        const user = after.users.find((candidate) => candidate.name === session.user);
        if (!user) return "user-removed";
        if (user.role !== session.role || user.password.hash !== session.passwordHash) return "user-changed";
        return undefined;
      }),
    onInvalid: (detail) => record({ type: "users-file-invalid", detail }),
  });
  const throttle = createLoginThrottle({ now });
  dummyPasswordHash().catch(() => {}); // started now so the first unknown name costs one hash, not two
  const sweeper = setInterval(() => sessions.sweep(), options.watchIntervalMs ?? 1000);
  sweeper.unref();

  /** The live cookie session of a request, if any. */
  const sessionOf = (request: IncomingMessage, touch: boolean): Session | undefined => {
    const id = cookieOf(request, sessionCookie);
    if (!id || id.length > 100) return undefined;
    users.current(); // a removed or changed user's sessions end before this one is looked up
    return sessions.get(id, touch);
  };
  const personOfSession = (session: Session, request: IncomingMessage): Person => ({
    user: session.user,
    role: session.role,
    via: "console",
    client: clientAddress(request),
  });
  /** The person behind a bearer token, or why there is none. */
  const tokenPerson = (request: IncomingMessage, token: string): Person | "unknown" | "user-removed" => {
    const stored = token ? findApiToken(users.tokens(), token) : undefined;
    if (!stored) return "unknown";
    const user = users.user(stored.user);
    if (!user) return "user-removed";
    return { user: user.name, role: user.role, via: "token", client: clientAddress(request) };
  };
  const sessionBody = (session: Session) => ({
    user: session.user,
    role: session.role,
    via: "console",
    csrf: session.csrf,
    idleTimeoutMs,
  });

  const loginContext: LoginContext = {
    users,
    sessions,
    throttle,
    secure: options.secure,
    checks: { running: 0, max: options.maxConcurrentLogins ?? 8 },
    sessionBody,
    endCurrentSession: (request) => {
      const id = cookieOf(request, sessionCookie);
      if (id) sessions.end(id);
    },
    audit: async (event) => {
      await options.audit?.(event);
    },
    record,
  };

  const auth: ServeAuth = {
    async handle(request, response, url) {
      const route = url.pathname;
      if (route !== "/api/login" && route !== "/api/logout" && route !== "/api/session") return false;
      const method = request.method ?? "GET";
      if (route === "/api/session") {
        if (method !== "GET" && method !== "HEAD") {
          sendError(response, 405, "method", "use GET /api/session", undefined, { allow: "GET" });
          return true;
        }
        const session = sessionOf(request, true);
        if (session) {
          sendJson(response, 200, sessionBody(session));
          return true;
        }
        const person = auth.personOf(request);
        if (person) sendJson(response, 200, { user: person.user, role: person.role, via: person.via });
        else sendError(response, 401, "unauthenticated", "not logged in", "log in with POST /api/login");
        return true;
      }
      if (method !== "POST") {
        sendError(response, 405, "method", `use POST ${route}`, undefined, { allow: "POST" });
        return true;
      }
      if (route === "/api/login") {
        await loginRoute(loginContext, request, response);
        return true;
      }
      // Logout changes state, so it needs the session's CSRF token like any other change.
      const session = sessionOf(request, false);
      if (!session) {
        sendError(response, 401, "unauthenticated", "not logged in", "log in with POST /api/login");
        return true;
      }
      if (!csrfMatches(session.csrf, request.headers[csrfHeader])) {
        refuse(request, response, personOfSession(session, request), "read", "csrf");
        return true;
      }
      sessions.end(session.id);
      record({ type: "logout", user: session.user, client: clientAddress(request) });
      response.writeHead(204, {
        "set-cookie": sessionCookieHeader("", options.secure, true),
        "cache-control": "no-store",
      });
      response.end();
      return true;
    },

    personOf(request, personOptions = {}) {
      const bearer = bearerOf(request);
      if (bearer !== undefined) {
        const person = tokenPerson(request, bearer);
        return typeof person === "string" ? undefined : person;
      }
      const session = sessionOf(request, personOptions.touch ?? true);
      return session ? personOfSession(session, request) : undefined;
    },

    authorize(request, response, needed) {
      const bearer = bearerOf(request);
      let person: Person;
      if (bearer !== undefined) {
        const found = tokenPerson(request, bearer);
        if (typeof found === "string") {
          record({ type: "token-refused", client: clientAddress(request), reason: found });
          sendError(
            response,
            401,
            "unauthenticated",
            "the API token is not valid (unknown, mistyped or revoked)",
            "make a new one with `plantwire users token <name>` and send it as `Authorization: Bearer <token>`",
          );
          return undefined;
        }
        person = found;
      } else {
        const session = sessionOf(request, true);
        if (!session) {
          sendError(response, 401, "unauthenticated", "not logged in", "log in with POST /api/login");
          return undefined;
        }
        person = personOfSession(session, request);
        if (!isSafeMethod(request.method) && !csrfMatches(session.csrf, request.headers[csrfHeader])) {
          refuse(request, response, person, needed, "csrf");
          return undefined;
        }
      }
      if (!rolePermissions[person.role].includes(needed)) {
        refuse(request, response, person, needed, "role");
        return undefined;
      }
      return person;
    },

    close() {
      clearInterval(sweeper);
      users.close();
      sessions.clear();
      throttle.clear();
      floods.clear();
    },
  };

  function refuse(
    request: IncomingMessage,
    response: ServerResponse,
    person: Person,
    needed: Permission,
    reason: "role" | "csrf",
  ): void {
    const path = (request.url ?? "").split("?")[0] ?? "";
    record({
      type: "request-refused",
      user: person.user,
      client: person.client,
      via: person.via,
      needed,
      reason,
      method: request.method ?? "",
      path,
    });
    if (reason === "csrf") {
      sendError(
        response,
        403,
        "csrf",
        "this request changes state and lacks the session's CSRF token",
        `send the csrf value from /api/login or /api/session in the ${csrfHeader} header`,
      );
    } else {
      sendError(
        response,
        403,
        "forbidden",
        `${person.user} has the ${person.role} role, which does not allow ${neededWords[needed]}`,
        "ask an engineer to change your role with `plantwire users`",
      );
    }
  }

  return auth;
}
