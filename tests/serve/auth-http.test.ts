/**
 * The console's logins, sessions, CSRF and roles over real HTTP (see auth-server.ts for the server the tests talk to).
 */
import { describe, expect, it } from "vitest";
import { call, login, passwords, start } from "./auth-server.js";

describe("login and session", () => {
  it("logs in with a server-side session in an HttpOnly, SameSite=Strict cookie", async () => {
    const h = await start();
    const ok = await login(h, "ada", passwords.ada);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ user: "ada", role: "operator", idleTimeoutMs: 60_000 });
    expect(ok.csrf.length).toBeGreaterThanOrEqual(40);
    expect(ok.cookie).toMatch(/^pw_session=[A-Za-z0-9_-]{40,}$/);
    const flags = ok.setCookie.split(";").map((part) => part.trim());
    expect(flags).toEqual(expect.arrayContaining(["HttpOnly", "SameSite=Strict", "Path=/"]));
    expect(flags).not.toContain("Secure");
    expect(ok.headers.get("cache-control")).toBe("no-store");
    const session = await call(h, "/api/session", { cookie: ok.cookie });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ user: "ada", role: "operator", csrf: ok.csrf });
    expect((await call(h, "/api/session", {})).status).toBe(401);
    expect((await call(h, "/api/session", { cookie: "pw_session=forged" })).status).toBe(401);
    expect(h.events).toContainEqual({ type: "login", outcome: "ok", user: "ada", client: "127.0.0.1" });
    // Names are unique ignoring case: a panel keyboard's capital still finds the user, by the stored name.
    const capital = await login(h, "Ada", passwords.ada);
    expect(capital.body).toMatchObject({ user: "ada" });
    expect(capital.cookie).not.toBe(ok.cookie);
  });

  it("marks the cookie Secure under TLS", async () => {
    const h = await start({ secure: true });
    const ok = await login(h, "ada", passwords.ada);
    expect(ok.setCookie.split(";").map((part) => part.trim())).toContain("Secure");
  });

  it("gives unknown users and wrong passwords the same answer, and records neither password nor name typed", async () => {
    const h = await start();
    const wrong = await login(h, "ada", "not the password");
    const unknown = await login(h, "mallory", "not the password");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.setCookie).toBe("");
    expect(h.events).toEqual([
      { type: "login", outcome: "failed", user: "ada", client: "127.0.0.1" },
      { type: "login", outcome: "failed", user: "(unknown user)", client: "127.0.0.1" },
    ]);
    expect(JSON.stringify(h.events)).not.toContain("not the password");
  });

  it("refuses a login body that is not JSON, or misses a field", async () => {
    const h = await start();
    const form = await fetch(`${h.base}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `user=ada&password=${encodeURIComponent(passwords.ada)}`,
    });
    expect(form.status).toBe(415);
    const broken = await fetch(`${h.base}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(broken.status).toBe(400);
    expect((await login(h, "ada", "")).status).toBe(400);
    expect((await fetch(`${h.base}/api/login`)).status).toBe(405);
  });

  it("ends a session after the idle timeout, and keeps it while it is used", async () => {
    const h = await start();
    const ok = await login(h, "ada", passwords.ada);
    h.advance(50_000);
    expect((await call(h, "/api/snapshot", { cookie: ok.cookie })).status).toBe(200);
    h.advance(50_000);
    expect((await call(h, "/api/snapshot", { cookie: ok.cookie })).status).toBe(200);
    h.advance(60_000);
    expect((await call(h, "/api/snapshot", { cookie: ok.cookie })).status).toBe(401);
    expect(h.events).toContainEqual({ type: "session-ended", user: "ada", reason: "idle" });
  });

  it("logout needs the CSRF token, ends the session on the server and clears the cookie", async () => {
    const h = await start();
    const ok = await login(h, "ada", passwords.ada);
    expect((await call(h, "/api/logout", { method: "POST", cookie: ok.cookie })).status).toBe(403);
    expect((await call(h, "/api/session", { cookie: ok.cookie })).status).toBe(200);
    const out = await call(h, "/api/logout", { method: "POST", cookie: ok.cookie, csrf: ok.csrf });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^pw_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0$/);
    // The old cookie replayed after logout is worthless: the session is gone on the server.
    expect((await call(h, "/api/session", { cookie: ok.cookie })).status).toBe(401);
    expect(
      (await call(h, "/api/proposals/p1/approve", { method: "POST", cookie: ok.cookie, csrf: ok.csrf })).status,
    ).toBe(401);
    expect(h.events).toContainEqual({ type: "logout", user: "ada", client: "127.0.0.1" });
  });

  it("refuses a login that the audit cannot record", async () => {
    const h = await start({
      audit: (event) => {
        if (event.type === "login" && event.outcome === "ok") throw new Error("disk full");
      },
    });
    const refused = await login(h, "ada", passwords.ada);
    expect(refused.status).toBe(503);
    expect(refused.setCookie).toBe("");
  });
});

describe("CSRF and roles", () => {
  it("refuses a state-changing request without the session's CSRF token, or with a wrong one", async () => {
    const h = await start();
    const ok = await login(h, "ada", passwords.ada);
    const approve = (csrf?: string) =>
      call(h, "/api/proposals/p1/approve", {
        method: "POST",
        cookie: ok.cookie,
        ...(csrf === undefined ? {} : { csrf }),
      });
    const missing = await approve();
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ code: "csrf" });
    expect((await approve("wrong")).status).toBe(403);
    const other = await login(h, "eng", passwords.eng);
    expect((await approve(other.csrf)).status).toBe(403);
    const done = await approve(ok.csrf);
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ user: "ada", role: "operator", via: "console", client: "127.0.0.1" });
    expect(h.events.filter((event) => event.type === "request-refused")).toHaveLength(3);
    // Reading needs no CSRF token.
    expect((await call(h, "/api/snapshot", { cookie: ok.cookie })).status).toBe(200);
  });

  it("refuses a viewer's decision with 403, an operator's reload, and any anonymous request with 401", async () => {
    const h = await start();
    const viewer = await login(h, "vic", passwords.vic);
    const decide = await call(h, "/api/proposals/p1/approve", {
      method: "POST",
      cookie: viewer.cookie,
      csrf: viewer.csrf,
    });
    expect(decide.status).toBe(403);
    expect(await decide.json()).toMatchObject({
      code: "forbidden",
      error: expect.stringMatching(/vic has the viewer role/),
    });
    expect((await call(h, "/api/snapshot", { cookie: viewer.cookie })).status).toBe(200);
    const operator = await login(h, "ada", passwords.ada);
    expect(
      (await call(h, "/api/site/reload", { method: "POST", cookie: operator.cookie, csrf: operator.csrf })).status,
    ).toBe(403);
    const engineer = await login(h, "eng", passwords.eng);
    expect(
      (await call(h, "/api/site/reload", { method: "POST", cookie: engineer.cookie, csrf: engineer.csrf })).status,
    ).toBe(200);
    for (const path of ["/api/proposals/p1/approve", "/api/site/reload", "/api/proposals/new"]) {
      expect((await call(h, path, { method: "POST" })).status).toBe(401);
    }
    expect((await call(h, "/api/snapshot", {})).status).toBe(401);
    expect(h.events).toContainEqual(
      expect.objectContaining({ type: "request-refused", user: "vic", needed: "decide", reason: "role" }),
    );
  });
});
