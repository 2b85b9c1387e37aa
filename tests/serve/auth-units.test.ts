/**
 * The pieces of the console's authentication on their own: scrypt hashing, API tokens, the login throttle and
 * sessions (with an injected clock), and CSRF comparison. The users file has its own test file.
 */
import { describe, expect, it } from "vitest";
import { findApiToken, newApiToken, tokenDigest } from "../../src/serve/auth/api-tokens.js";
import { csrfMatches, newCsrfToken } from "../../src/serve/auth/csrf.js";
import { createLoginThrottle } from "../../src/serve/auth/login-throttle.js";
import {
  defaultScryptParameters,
  hashPassword,
  hashProblem,
  passwordProblem,
  verifyPassword,
} from "../../src/serve/auth/password-hash.js";
import { createSessionStore } from "../../src/serve/auth/sessions.js";
import { addToken, addUser, removeUser, revokeTokens } from "../../src/serve/auth/users-changes.js";
import { emptyUsersFile } from "../../src/serve/auth/users-file.js";

const cheap = { N: 1024, r: 8, p: 1 };

describe("password hashing", () => {
  it("hashes with a random salt, keeps the parameters, and verifies only the right password", async () => {
    const first = await hashPassword("correct horse battery", cheap);
    const second = await hashPassword("correct horse battery", cheap);
    expect(first).toMatchObject({ algorithm: "scrypt", N: 1024, r: 8, p: 1, keyLength: 64 });
    expect(first.salt).not.toBe(second.salt);
    expect(first.hash).not.toBe(second.hash);
    expect(JSON.stringify(first)).not.toContain("correct horse");
    expect(await verifyPassword("correct horse battery", first)).toBe(true);
    expect(await verifyPassword("correct horse batterY", first)).toBe(false);
    expect(await verifyPassword("", first)).toBe(false);
    expect(hashProblem(first)).toBeUndefined();
  });

  it("uses the default parameters unless told otherwise", async () => {
    const hash = await hashPassword("a long enough password");
    expect(hash).toMatchObject(defaultScryptParameters);
    expect(await verifyPassword("a long enough password", hash)).toBe(true);
  });

  it("refuses short passwords and stored parameters out of bounds", async () => {
    expect(passwordProblem("short")).toMatch(/at least 12/);
    expect(passwordProblem("ada.lovelace.1815", "Ada.Lovelace.1815")).toMatch(/user name/);
    expect(passwordProblem("twelve chars")).toBeUndefined();
    const hash = await hashPassword("correct horse battery", cheap);
    expect(hashProblem({ ...hash, N: 1000 })).toMatch(/^N /);
    expect(hashProblem({ ...hash, N: 2 ** 24 })).toMatch(/^N /);
    expect(hashProblem({ ...hash, p: 0 })).toMatch(/^p /);
    expect(hashProblem({ ...hash, salt: "" })).toMatch(/^salt /);
    expect(hashProblem({ ...hash, hash: "AAAA" })).toMatch(/^hash /);
  });
});

describe("API tokens", () => {
  it("stores only the digest and finds a token by it", () => {
    const { token, stored } = newApiToken("ada", new Date(0), "mcp");
    const other = newApiToken("bob", new Date(0)).stored;
    expect(token).toMatch(/^pwt_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(stored)).not.toContain(token.slice(4));
    expect(stored.sha256).toBe(tokenDigest(token));
    expect(findApiToken([other, stored], token)).toBe(stored);
    expect(findApiToken([other, stored], `${token}x`)).toBeUndefined();
    expect(findApiToken([other], token)).toBeUndefined();
  });

  it("is tied to its user and revocable, one or all", async () => {
    let content = await addUser(emptyUsersFile, {
      name: "ada",
      role: "operator",
      password: "a long password",
      scrypt: cheap,
    });
    const first = addToken(content, "ada", "one");
    const second = addToken(first.content, "ada", "two");
    content = second.content;
    expect(() => addToken(content, "nobody")).toThrow(/no user "nobody"/);
    const one = revokeTokens(content, "ada", first.stored.id);
    expect(one.revoked).toBe(1);
    expect(findApiToken(one.content.tokens, first.token)).toBeUndefined();
    expect(findApiToken(one.content.tokens, second.token)).toBeDefined();
    expect(revokeTokens(content, "ada").content.tokens).toEqual([]);
    expect(removeUser(content, "ada").tokens).toEqual([]);
  });
});

describe("login throttle", () => {
  it("lets five wrong passwords through, then makes the next attempt wait, longer each time", () => {
    let clock = 1_000_000;
    const throttle = createLoginThrottle({ now: () => clock });
    const keys = ["user:ada", "client:10.0.0.1"];
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = throttle.begin(keys);
      expect(answer.allowed).toBe(true);
      if (answer.allowed) answer.attempt.failed();
    }
    const refused = throttle.begin(keys);
    expect(refused).toEqual({ allowed: false, retryAfterMs: 30_000 });
    clock += 29_999;
    expect(throttle.begin(keys).allowed).toBe(false);
    clock += 1;
    const sixth = throttle.begin(keys);
    expect(sixth.allowed).toBe(true);
    if (sixth.allowed) sixth.attempt.failed();
    expect(throttle.begin(keys)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    // Another user from another address is not slowed down.
    expect(throttle.begin(["user:bob", "client:10.0.0.2"]).allowed).toBe(true);
  });

  it("counts an attempt from its start, so parallel guesses cannot slip through", () => {
    const throttle = createLoginThrottle({ now: () => 0 });
    const started = Array.from({ length: 8 }, () => throttle.begin(["user:ada", "client:a"]));
    expect(started.filter((answer) => answer.allowed)).toHaveLength(5);
  });

  it("slows an address down across user names, and a good login clears only the user", () => {
    const clock = 0;
    const throttle = createLoginThrottle({ now: () => clock });
    for (const user of ["a", "b", "c", "d"]) {
      const answer = throttle.begin([`user:${user}`, "client:x"]);
      if (answer.allowed) answer.attempt.failed();
    }
    const good = throttle.begin(["user:ada", "client:x"]);
    expect(good.allowed).toBe(true);
    if (good.allowed) good.attempt.succeeded();
    const fifth = throttle.begin(["user:e", "client:x"]);
    if (fifth.allowed) fifth.attempt.failed();
    expect(throttle.begin(["user:ada", "client:x"]).allowed).toBe(false);
    expect(throttle.begin(["user:ada", "client:y"]).allowed).toBe(true);
  });

  it("forgets failures after an hour and bounds what it tracks", () => {
    let clock = 0;
    const throttle = createLoginThrottle({ now: () => clock, maxEntries: 3 });
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = throttle.begin(["user:ada"]);
      if (answer.allowed) answer.attempt.failed();
    }
    expect(throttle.begin(["user:ada"]).allowed).toBe(false);
    clock += 60 * 60_000 + 1;
    expect(throttle.begin(["user:ada"]).allowed).toBe(true);
    for (const key of ["user:b", "user:c", "user:d", "user:e"]) throttle.begin([key]);
    // ada was the least recently failed and is forgotten once four other keys came in.
    for (let attempt = 0; attempt < 4; attempt++) expect(throttle.begin(["user:ada"]).allowed).toBe(true);
  });
});

describe("sessions", () => {
  it("end after the idle timeout unless used, and at the absolute lifetime", () => {
    let clock = 0;
    const ended: string[] = [];
    const store = createSessionStore({
      idleTimeoutMs: 1000,
      absoluteLifetimeMs: 5000,
      now: () => clock,
      onEnded: (session, reason) => ended.push(`${session.user}:${reason}`),
    });
    const busy = store.create("ada", "operator", "127.0.0.1", "h");
    const quiet = store.create("bob", "viewer", "127.0.0.1", "h");
    expect(busy.id).not.toBe(quiet.id);
    expect(busy.csrf).not.toBe(quiet.csrf);
    clock = 900;
    expect(store.get(busy.id, true)).toBe(busy);
    clock = 1000;
    expect(store.get(quiet.id, true)).toBeUndefined();
    for (clock = 1800; clock < 5000; clock += 900) expect(store.get(busy.id, true)).toBe(busy);
    clock = 5000;
    expect(store.get(busy.id, true)).toBeUndefined();
    expect(ended).toEqual(["bob:idle", "ada:lifetime"]);
  });

  it("a look without touch does not keep a session alive", () => {
    let clock = 0;
    const store = createSessionStore({ idleTimeoutMs: 1000, absoluteLifetimeMs: 10_000, now: () => clock });
    const session = store.create("ada", "operator", "::1", "h");
    clock = 600;
    expect(store.get(session.id, false)).toBe(session);
    clock = 1000;
    expect(store.get(session.id, false)).toBeUndefined();
  });

  it("a sweep ends sessions nobody comes back to, and tells why", () => {
    let clock = 0;
    const ended: string[] = [];
    const store = createSessionStore({
      idleTimeoutMs: 1000,
      absoluteLifetimeMs: 10_000,
      now: () => clock,
      onEnded: (session, reason) => ended.push(`${session.user}:${reason}`),
    });
    store.create("ada", "operator", "::1", "h");
    const kept = store.create("bob", "viewer", "::1", "h");
    clock = 999;
    store.get(kept.id, true);
    clock = 1500;
    store.sweep();
    expect(ended).toEqual(["ada:idle"]);
    expect(store.size).toBe(1);
  });
});

describe("CSRF tokens", () => {
  it("match only the same token", () => {
    const token = newCsrfToken();
    expect(csrfMatches(token, token)).toBe(true);
    expect(csrfMatches(token, newCsrfToken())).toBe(false);
    expect(csrfMatches(token, token.slice(1))).toBe(false);
    expect(csrfMatches(token, undefined)).toBe(false);
    expect(csrfMatches(token, [token])).toBe(false);
    expect(csrfMatches(token, "")).toBe(false);
  });
});
