/**
 * Over real HTTP: login throttling, API tokens, and changes to the users file while `serve` runs.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createServeAuth } from "../../src/serve/auth/serve-auth.js";
import { addToken, removeUser, revokeTokens, setRole } from "../../src/serve/auth/users-changes.js";
import { readUsersFile, writeUsersFile } from "../../src/serve/auth/users-file.js";
import { call, login, passwords, start } from "./auth-server.js";

describe("login throttling", () => {
  it("answers 429 with Retry-After after five wrong passwords for a user, even to the right password", async () => {
    const h = await start();
    for (let attempt = 0; attempt < 5; attempt++) expect((await login(h, "ada", "wrong password!")).status).toBe(401);
    const slowed = await login(h, "ada", passwords.ada);
    expect(slowed.status).toBe(429);
    expect(Number(slowed.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(slowed.body).toMatchObject({
      code: "throttled",
      retryAfterSeconds: Number(slowed.headers.get("retry-after")),
    });
    expect(h.events.at(-1)).toMatchObject({ type: "login", outcome: "throttled", user: "ada" });
    h.advance(Number(slowed.headers.get("retry-after")) * 1000);
    expect((await login(h, "ada", passwords.ada)).status).toBe(200);
  });

  it("slows a client address down across user names, known or not, alike", async () => {
    const h = await start();
    for (const user of ["x1", "x2", "ada", "x3", "x4"]) await login(h, user, "wrong password!");
    const known = await login(h, "eng", passwords.eng);
    const unknown = await login(h, "nobody", "wrong password!");
    expect(known.status).toBe(429);
    expect(unknown.status).toBe(429);
    expect(unknown.body).toEqual(known.body);
  });
});

describe("API tokens", () => {
  it("work without CSRF, keep the user's role, and are refused with 401 once revoked", async () => {
    const h = await start();
    const made = addToken(readUsersFile(h.file), "ada", "cli");
    writeUsersFile(h.file, made.content);
    const approve = await call(h, "/api/proposals/p1/approve", { method: "POST", token: made.token });
    expect(approve.status).toBe(200);
    expect(await approve.json()).toEqual({ user: "ada", role: "operator", via: "token", client: "127.0.0.1" });
    expect((await call(h, "/api/site/reload", { method: "POST", token: made.token })).status).toBe(403);
    const session = await call(h, "/api/session", { token: made.token });
    expect(await session.json()).toEqual({ user: "ada", role: "operator", via: "token" });

    writeUsersFile(h.file, revokeTokens(readUsersFile(h.file), "ada").content);
    const revoked = await call(h, "/api/proposals/p1/approve", { method: "POST", token: made.token });
    expect(revoked.status).toBe(401);
    expect((await call(h, "/api/snapshot", { token: `${made.token}x` })).status).toBe(401);
    expect(h.events).toContainEqual({ type: "token-refused", client: "127.0.0.1", reason: "unknown" });
    expect(JSON.stringify(h.events)).not.toContain(made.token);
  });
});

describe("users file changes", () => {
  it("ends a removed user's sessions and a changed role's sessions; a bad edit keeps the users in force", async () => {
    const h = await start();
    const ada = await login(h, "ada", passwords.ada);
    const vic = await login(h, "vic", passwords.vic);
    const eng = await login(h, "eng", passwords.eng);
    writeUsersFile(h.file, removeUser(readUsersFile(h.file), "ada"));
    expect((await call(h, "/api/snapshot", { cookie: ada.cookie })).status).toBe(401);
    expect((await login(h, "ada", passwords.ada)).status).toBe(401);
    writeUsersFile(h.file, setRole(readUsersFile(h.file), "vic", "operator"));
    expect((await call(h, "/api/snapshot", { cookie: vic.cookie })).status).toBe(401);
    expect(h.events).toEqual(
      expect.arrayContaining([
        { type: "session-ended", user: "ada", reason: "user-removed" },
        { type: "session-ended", user: "vic", reason: "user-changed" },
      ]),
    );
    writeFileSync(h.file, '{"version": 1, "users": [oops-salt-value', { mode: 0o600 });
    expect((await call(h, "/api/snapshot", { cookie: eng.cookie })).status).toBe(200);
    expect(h.events.at(-1)).toMatchObject({
      type: "users-file-invalid",
      detail: expect.stringMatching(/not valid JSON/),
    });
    // The audit learns where the file broke, never what it holds.
    expect(JSON.stringify(h.events)).not.toContain("oops-salt");
  });

  it("refuses to start on a users file others can read", async () => {
    const h = await start();
    if (process.platform === "win32") return;
    chmodSync(h.file, 0o644);
    expect(() => createServeAuth({ usersFile: h.file, secure: false })).toThrow(/chmod 600/);
  });
});
