/**
 * `POST /api/login`: checks a user name and password and starts a session. Wrong names and wrong passwords get the
 * same answer after the same scrypt work (an unknown name is checked against a dummy hash), so the answer never
 * tells whether a user exists; repeated failures are slowed down per user and per client address.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyError, clientAddress, readJsonBody, sendError, sendJson, sessionCookieHeader } from "./auth-http.js";
import type { AuthAuditEvent } from "./auth-types.js";
import { clientThrottleKey, type LoginThrottle } from "./login-throttle.js";
import { hashPassword, maximumPasswordLength, type PasswordHash, verifyPassword } from "./password-hash.js";
import type { Session, SessionStore } from "./sessions.js";
import type { UsersSource } from "./users-source.js";

/** What the login route needs from `createServeAuth()`. */
export interface LoginContext {
  readonly users: UsersSource;
  readonly sessions: SessionStore;
  readonly throttle: LoginThrottle;
  readonly secure: boolean;
  /** Password checks under way and how many may run at once: scrypt is heavy, a flood must not starve the plant. */
  readonly checks: { running: number; readonly max: number };
  sessionBody(session: Session): unknown;
  /** Ends the session the request's cookie names, if any: a login always starts a fresh session id. */
  endCurrentSession(request: IncomingMessage): void;
  /** Records an event and rejects when it cannot be recorded. */
  audit(event: AuthAuditEvent): Promise<void>;
  /** Records an event, best effort. */
  record(event: AuthAuditEvent): void;
}

let dummyHash: Promise<PasswordHash> | undefined;
/**
 * A hash no password matches, with the default parameters, to spend the same work on unknown names. Made once per
 * process; `createServeAuth()` starts it early so the first unknown name does not cost twice.
 */
export function dummyPasswordHash(): Promise<PasswordHash> {
  dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
  return dummyHash;
}

const unknownUser = "(unknown user)";

/** Answers `POST /api/login`. */
export async function loginRoute(context: LoginContext, request: IncomingMessage, response: ServerResponse) {
  let body: unknown;
  try {
    body = await readJsonBody(request);
  } catch (error) {
    // A client that hangs up mid-body gets no answer; nothing else is thrown to the server.
    if (error instanceof BodyError) sendError(response, error.status, "bad-request", error.message);
    else if (!response.headersSent && !response.destroyed)
      sendError(response, 400, "bad-request", "the body could not be read");
    return;
  }
  const { user, password } = (body ?? {}) as { user?: unknown; password?: unknown };
  if (
    typeof user !== "string" ||
    typeof password !== "string" ||
    user.length === 0 ||
    user.length > 128 ||
    password.length === 0 ||
    // Counted in characters as when the password was set (an emoji is one character but two UTF-16 units).
    [...password].length > maximumPasswordLength
  ) {
    sendError(response, 400, "bad-request", "send {user, password} as JSON strings", "fill in both fields");
    return;
  }
  const client = clientAddress(request);
  // Names are unique ignoring case, so "Ada" typed on a panel's keyboard finds ada.
  const known = context.users.current().users.find((candidate) => candidate.name.toLowerCase() === user.toLowerCase());
  const named = known ? known.name : unknownUser;
  const throttled = (retryAfterMs: number, error: string) => {
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    context.record({ type: "login", outcome: "throttled", user: named, client, retryAfterSeconds });
    sendJson(
      response,
      429,
      { error, code: "throttled", retryAfterSeconds, fix: `wait ${retryAfterSeconds} s before trying again` },
      { "retry-after": String(retryAfterSeconds) },
    );
  };
  // Unknown names are throttled under the typed name as well, so a throttled answer says nothing about existence.
  const answer = context.throttle.begin([`user:${user.toLowerCase()}`, clientThrottleKey(client)]);
  if (!answer.allowed) {
    throttled(answer.retryAfterMs, "too many wrong passwords; try again later");
    return;
  }
  if (context.checks.running >= context.checks.max) {
    // Not a wrong password: take back only this attempt's count (succeeded() would clear the user's failures).
    answer.attempt.cancelled();
    throttled(1000, "too many logins at once; try again in a moment");
    return;
  }
  context.checks.running += 1;
  let matches: boolean;
  try {
    matches = await verifyPassword(password, known ? known.password : await dummyPasswordHash());
  } finally {
    context.checks.running -= 1;
  }
  // The file may have changed while the hash was computed: the user must still exist with the same password.
  const current = known ? context.users.user(known.name) : undefined;
  if (!matches || !known || !current || current.password.hash !== known.password.hash) {
    answer.attempt.failed();
    context.record({ type: "login", outcome: "failed", user: named, client });
    sendError(response, 401, "unauthenticated", "wrong user name or password", "check both and try again");
    return;
  }
  answer.attempt.succeeded();
  // Checked only after the password, so the answer tells nothing more than a wrong password would to someone who
  // does not know it. An assistant reads and proposes through its own MCP routes with a token; a console session
  // would get 403 on every page with no word why, so it is refused here with one.
  if (current.role === "assistant") {
    context.record({ type: "login", outcome: "refused", reason: "assistant-role", user: current.name, client });
    sendError(
      response,
      403,
      "forbidden",
      "assistant accounts are for MCP clients with a token, not for the console",
      "ask an engineer for a viewer account to use the console",
    );
    return;
  }
  context.endCurrentSession(request);
  const session = context.sessions.create(current.name, current.role, client, current.password.hash);
  try {
    await context.audit({ type: "login", outcome: "ok", user: current.name, client });
  } catch {
    // A login the audit cannot record is refused: every decision must name a person the audit knows logged in.
    context.sessions.end(session.id);
    sendError(response, 503, "audit", "the login could not be recorded in the audit", "check the serve log");
    return;
  }
  sendJson(response, 200, context.sessionBody(session), {
    "set-cookie": sessionCookieHeader(session.id, context.secure),
  });
}
