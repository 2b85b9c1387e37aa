/**
 * Console sessions, kept on the server: a random id in the cookie points to the user, role, client address and CSRF
 * token held here. A session ends when unused for the idle timeout, at its absolute lifetime, at logout, or when its
 * user is removed or changed in the users file.
 */
import { randomBytes } from "node:crypto";
import type { Role } from "./auth-types.js";
import { newCsrfToken } from "./csrf.js";

/** One logged-in console session. */
export interface Session {
  readonly id: string;
  readonly user: string;
  readonly role: Role;
  readonly client: string;
  readonly csrf: string;
  readonly createdAt: number;
  lastUsedAt: number;
  /** The user's password hash at login: a changed password ends the session. */
  readonly passwordHash: string;
}

/** Why a session ended on its own. */
export type SessionEndReason = "idle" | "lifetime" | "user-removed" | "user-changed" | "superseded";

/** Options of `createSessionStore()`. */
export interface SessionStoreOptions {
  idleTimeoutMs: number;
  absoluteLifetimeMs: number;
  now: () => number;
  /** Told when a session ends for any reason but logout. */
  onEnded?: (session: Session, reason: SessionEndReason) => void;
  /** At most this many sessions; the least recently used go first. @default 10000 */
  maxSessions?: number;
  /**
   * At most this many sessions per user; a new login ends that user's oldest ("superseded"). Without it, one account
   * logging in again and again would push every other person's session out of the store. @default 20
   */
  maxSessionsPerUser?: number;
}

/** The sessions of one serve process. */
export interface SessionStore {
  /** Starts a session. */
  create(user: string, role: Role, client: string, passwordHash: string): Session;
  /** The live session with this id, or undefined (an expired one is ended here). `touch` counts it as activity. */
  get(id: string, touch: boolean): Session | undefined;
  /** Ends a session (logout). */
  end(id: string): void;
  /** Ends every session past its idle timeout or lifetime (so the audit hears of it even if its user never returns). */
  sweep(): void;
  /** Ends every session for which `reasonFor` gives a reason. */
  endWhere(reasonFor: (session: Session) => SessionEndReason | undefined): void;
  /** Ends every session. */
  clear(): void;
  /** How many sessions are live. */
  readonly size: number;
}

/** Creates a session store. */
export function createSessionStore(options: SessionStoreOptions): SessionStore {
  const sessions = new Map<string, Session>();
  const maxSessions = options.maxSessions ?? 10_000;
  const maxPerUser = options.maxSessionsPerUser ?? 20;
  const expiry = (session: Session, time: number): SessionEndReason | undefined => {
    if (time - session.createdAt >= options.absoluteLifetimeMs) return "lifetime";
    if (time - session.lastUsedAt >= options.idleTimeoutMs) return "idle";
    return undefined;
  };
  const endWhere = (reasonFor: (session: Session) => SessionEndReason | undefined) => {
    for (const session of [...sessions.values()]) {
      const reason = reasonFor(session);
      if (!reason) continue;
      sessions.delete(session.id);
      options.onEnded?.(session, reason);
    }
  };
  return {
    create(user, role, client, passwordHash) {
      const time = options.now();
      endWhere((session) => expiry(session, time));
      const session: Session = {
        id: randomBytes(32).toString("base64url"),
        user,
        role,
        client,
        csrf: newCsrfToken(),
        createdAt: time,
        lastUsedAt: time,
        passwordHash,
      };
      const theirs = [...sessions.values()].filter((other) => other.user === user);
      for (const oldest of theirs.slice(0, Math.max(0, theirs.length - maxPerUser + 1))) {
        sessions.delete(oldest.id);
        options.onEnded?.(oldest, "superseded");
      }
      sessions.set(session.id, session);
      // Map order is creation order; touching does not reorder, so this drops the oldest login first.
      while (sessions.size > maxSessions) {
        const oldest = sessions.keys().next().value;
        if (oldest === undefined) break;
        sessions.delete(oldest);
      }
      return session;
    },
    get(id, touch) {
      const session = sessions.get(id);
      if (!session) return undefined;
      const time = options.now();
      const reason = expiry(session, time);
      if (reason) {
        sessions.delete(id);
        options.onEnded?.(session, reason);
        return undefined;
      }
      if (touch) session.lastUsedAt = time;
      return session;
    },
    end: (id) => void sessions.delete(id),
    sweep() {
      const time = options.now();
      endWhere((session) => expiry(session, time));
    },
    endWhere,
    clear: () => sessions.clear(),
    get size() {
      return sessions.size;
    },
  };
}
