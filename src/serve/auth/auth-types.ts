/**
 * The shapes shared by `plantwire serve` and its console: who a request comes from, what each role may do, and the
 * audit events logins produce. The implementation is `createServeAuth()` in serve-auth.ts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** What a person may do. An assistant (an MCP client) reads and proposes, never decides. */
export type Role = "viewer" | "operator" | "engineer" | "assistant";

/** Every role, for validation and help texts. */
export const roles: readonly Role[] = ["viewer", "operator", "engineer", "assistant"];

/**
 * What a request needs: `read` (look), `propose` (ask the guard for a write), `decide` (approve or reject a proposal),
 * `engineer` (pause and resume loops, reload the site).
 */
export type Permission = "read" | "propose" | "decide" | "engineer";

/** The permissions each role holds. */
export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ["read"],
  assistant: ["read", "propose"],
  operator: ["read", "propose", "decide"],
  engineer: ["read", "propose", "decide", "engineer"],
};

/** The person behind a request: a console session or an API token, and the client address it came from. */
export interface Person {
  /** The user's name from the users file. */
  readonly user: string;
  readonly role: Role;
  /** `console`: a cookie session from the login form; `token`: `Authorization: Bearer <token>` (CLI, MCP). */
  readonly via: "console" | "token";
  /** The remote address of the connection. */
  readonly client: string;
}

/** What the audit hook receives. Never carries a password, a token or a session id. */
export type AuthAuditEvent =
  | {
      readonly type: "login";
      /** "refused": the password was right but the role may not use the console (an assistant: MCP only). */
      readonly outcome: "ok" | "failed" | "throttled" | "refused";
      /** The user's name when it is a known user, else "(unknown user)": a mistyped password is never recorded. */
      readonly user: string;
      readonly client: string;
      /** For "throttled": seconds until the next attempt is allowed. */
      readonly retryAfterSeconds?: number;
      /** For "refused": why, e.g. "assistant-role". */
      readonly reason?: string;
      /** For "throttled": how many throttled attempts from this client went unrecorded since the last record. */
      readonly suppressed?: number;
    }
  | { readonly type: "logout"; readonly user: string; readonly client: string }
  | {
      readonly type: "session-ended";
      readonly user: string;
      /** "superseded": the user logged in more often than sessions are kept per user, and this was the oldest. */
      readonly reason: "idle" | "lifetime" | "user-removed" | "user-changed" | "superseded";
    }
  | {
      readonly type: "token-refused";
      readonly client: string;
      /** "unknown": no such token (or revoked); "user-removed": its user is gone. */
      readonly reason: "unknown" | "user-removed";
      /** How many refused tokens from this client went unrecorded since the last record (one a minute is kept). */
      readonly suppressed?: number;
    }
  | {
      readonly type: "request-refused";
      readonly user: string;
      readonly client: string;
      readonly via: "console" | "token";
      readonly needed: Permission;
      /** "role": the role lacks `needed`; "csrf": a cookie session's state-changing request without the right token. */
      readonly reason: "role" | "csrf";
      readonly method: string;
      readonly path: string;
    }
  | {
      readonly type: "users-file-invalid";
      /** Why the changed users file was not applied (the previous users stay in force). */
      readonly detail: string;
    };

/** Options of `createServeAuth()`. */
export interface ServeAuthOptions {
  /** The users file (`serve.users` in the site file), JSON, mode 600, managed by `plantwire users`. */
  usersFile: string;
  /** True when served over TLS: the session cookie gets `Secure`. */
  secure: boolean;
  /** A session unused this long ends. @default 900000 (15 minutes) */
  idleTimeoutMs?: number;
  /** A session ends this long after login, used or not. @default 43200000 (12 hours) */
  absoluteLifetimeMs?: number;
  /** The clock, for tests. @default Date.now */
  now?: () => number;
  /**
   * Receives login, logout and refusal events; `plantwire serve` writes them to the audit. A successful login whose
   * event cannot be recorded (the hook throws or rejects) is refused.
   */
  audit?: (event: AuthAuditEvent) => void | Promise<void>;
  /** How many password checks may run at once; more logins meanwhile get 429 and cost no guess. @default 8 */
  maxConcurrentLogins?: number;
  /** How often the users file is checked for changes besides on each request, in ms. @default 1000 */
  watchIntervalMs?: number;
}

/** Options of `personOf()`. */
export interface PersonOfOptions {
  /**
   * False to look without counting the request as activity (an event stream checking its session is still valid
   * must not keep it alive forever). @default true
   */
  touch?: boolean;
}

/** Logins, sessions, CSRF, roles and tokens for `plantwire serve`. */
export interface ServeAuth {
  /**
   * Answers `POST /api/login`, `POST /api/logout` and `GET /api/session`; resolves true when it answered, false when
   * the URL is not one of these (the caller goes on routing).
   */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
  /** The person behind a request (session cookie or bearer token), or undefined. Writes nothing. */
  personOf(request: IncomingMessage, options?: PersonOfOptions): Person | undefined;
  /**
   * The person behind a request when it may do `needed`. Otherwise writes 401 (no valid session or token) or 403 (the
   * role lacks `needed`, or a state-changing request on a cookie session lacks the right `X-CSRF-Token` header) as
   * JSON `{error, code, fix?}`, and returns undefined: the caller just returns.
   */
  authorize(request: IncomingMessage, response: ServerResponse, needed: Permission): Person | undefined;
  /** Stops watching the users file and ends every session. */
  close(): void;
}
