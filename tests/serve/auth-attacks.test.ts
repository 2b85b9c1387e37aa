/**
 * The console's authentication under attack from the network, over real HTTP: throttle bypasses (a flood of logins,
 * a spray of made-up names, X-Forwarded-For, IPv6 neighbours), CSRF bypasses (method override, other content types),
 * session fixation and eviction, malformed bodies, audit flooding. Local attacks are in auth-attacks-local.test.ts.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { clientThrottleKey, createLoginThrottle } from "../../src/serve/auth/login-throttle.js";
import type { PasswordHash } from "../../src/serve/auth/password-hash.js";
import { createSessionStore } from "../../src/serve/auth/sessions.js";
import { addUser } from "../../src/serve/auth/users-changes.js";
import { readUsersFile, writeUsersFile } from "../../src/serve/auth/users-file.js";
import { type Answer, attempt, call, json, login, passwords, send, start } from "./auth-server.js";

/** A stored hash nobody's password matches, with these costs: a large N and p keep a password check busy. */
function fakeHash(N: number, p: number): PasswordHash {
  return {
    algorithm: "scrypt",
    N,
    r: 8,
    p,
    keyLength: 64,
    salt: randomBytes(16).toString("base64"),
    hash: randomBytes(64).toString("base64"),
  };
}

describe("login throttle bypasses", { timeout: 60_000 }, () => {
  it("a login refused for too many checks at once does not wipe the user's wrong-password count", async () => {
    const h = await start({ maxConcurrentLogins: 1 });
    const content = readUsersFile(h.file);
    const created = new Date().toISOString();
    // "slow" keeps the one password check busy for seconds; the probes' checks take a moment.
    const slow = { name: "slow", role: "viewer" as const, password: fakeHash(2 ** 15, 16), created };
    const probes = Array.from({ length: 40 }, (_, i) => ({
      name: `probe${i}`,
      role: "viewer" as const,
      password: fakeHash(1024, 1),
      created,
    }));
    writeUsersFile(h.file, { ...content, users: [...content.users, slow, ...probes] });
    // Four wrong passwords for ada, each from its own address so only ada's own count grows.
    for (let i = 1; i <= 4; i += 1)
      expect((await attempt(h, "ada", "wrong guess", `127.0.0.${10 + i}`)).status).toBe(401);
    let busyDone = true;
    let busy: Promise<Answer> = Promise.resolve({ status: 0, body: {}, setCookie: "" });
    let saturated = false;
    for (let i = 0; i < probes.length && !saturated; i += 1) {
      if (busyDone) {
        busyDone = false;
        busy = attempt(h, "slow", "wrong guess", `127.0.3.${i + 1}`).finally(() => {
          busyDone = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 50)); // let it reach its check before the probe
      }
      const probe = await attempt(h, `probe${i}`, "wrong guess", `127.0.1.${i + 1}`);
      saturated = probe.status === 429 && String(probe.body.error).includes("at once");
    }
    expect(saturated, "the slow check never held the only slot").toBe(true);
    // The flood: ada's attempt is turned away before any password check.
    const flooded = await attempt(h, "ada", "wrong guess", "127.0.0.21");
    expect(flooded.status).toBe(429);
    expect(String(flooded.body.error)).toContain("at once");
    expect((await busy).status).toBe(401);
    // Ada's count must still be four: the fifth wrong password is the last free one, the sixth attempt waits.
    expect((await attempt(h, "ada", "wrong guess", "127.0.0.22")).status).toBe(401);
    const after = await attempt(h, "ada", passwords.ada, "127.0.0.23");
    expect(after.status).toBe(429);
    expect(after.body.code).toBe("throttled");
  });

  it("a spray of made-up names cannot push a slowed-down user out of the throttle", () => {
    let time = 0;
    const throttle = createLoginThrottle({ maxEntries: 4, now: () => time });
    for (let i = 0; i < 5; i += 1) {
      const answer = throttle.begin(["user:ada"]);
      if (answer.allowed) answer.attempt.failed();
    }
    time += 1;
    expect(throttle.begin(["user:ada"]).allowed).toBe(false);
    for (let i = 0; i < 20; i += 1) {
      const answer = throttle.begin([`user:made-up-${i}`]);
      if (answer.allowed) answer.attempt.failed();
    }
    expect(throttle.begin(["user:ada"]).allowed).toBe(false);
  });

  it("a cancelled attempt gives back only itself", () => {
    const throttle = createLoginThrottle({ now: () => 0 });
    for (let i = 0; i < 4; i += 1) {
      const answer = throttle.begin(["user:ada", "client:a"]);
      if (answer.allowed) answer.attempt.failed();
    }
    const flood = throttle.begin(["user:ada", "client:b"]);
    if (!flood.allowed) throw new Error("the fifth attempt should be allowed");
    flood.attempt.cancelled();
    const fifth = throttle.begin(["user:ada", "client:c"]);
    if (!fifth.allowed) throw new Error("the fifth attempt should still be allowed");
    fifth.attempt.failed();
    expect(throttle.begin(["user:ada", "client:d"]).allowed).toBe(false);
  });

  it("counts IPv6 clients by their /64, so a fresh address in the same network is the same client", () => {
    expect(clientThrottleKey("2001:db8:1:2::1")).toBe(clientThrottleKey("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    expect(clientThrottleKey("2001:db8:1:2::1")).toBe(clientThrottleKey("2001:0db8:0001:0002:0:0:0:7%eth0"));
    expect(clientThrottleKey("2001:db8:1:2::1")).not.toBe(clientThrottleKey("2001:db8:1:3::1"));
    expect(clientThrottleKey("::1")).toBe(clientThrottleKey("::2"));
    expect(clientThrottleKey("192.0.2.7")).toBe("client:192.0.2.7");
    expect(clientThrottleKey("192.0.2.7")).not.toBe(clientThrottleKey("192.0.2.8"));
  });

  it("ignores X-Forwarded-For and counts case and Unicode variants of a name as the same user", async () => {
    const h = await start();
    // One address, a different forged X-Forwarded-For each time: still one client.
    for (let i = 0; i < 5; i += 1) {
      const answer = await send(h, "/api/login", {
        headers: { ...json, "x-forwarded-for": `198.51.100.${i}`, "x-real-ip": `198.51.100.${i}` },
        body: JSON.stringify({ user: `nobody${i}`, password: "wrong guess" }),
      });
      expect(answer.status).toBe(401);
    }
    const spoofed = await send(h, "/api/login", {
      headers: { ...json, "x-forwarded-for": "203.0.113.9" },
      body: JSON.stringify({ user: "nobody", password: "wrong guess" }),
    });
    expect(spoofed.status).toBe(429);
    // ADA, Ada and ada are one user, whatever address they come from.
    const h2 = await start();
    const names = ["ada", "ADA", "Ada", "aDa", "adA"];
    for (const [i, name] of names.entries())
      expect((await attempt(h2, name, "wrong guess", `127.0.2.${i + 1}`)).status).toBe(401);
    expect((await attempt(h2, "AdA", passwords.ada, "127.0.2.9")).status).toBe(429);
  });
});

describe("CSRF and sessions", () => {
  it("no method override, query or content type lets a cookie session change state without the CSRF token", async () => {
    const h = await start();
    const { cookie, csrf } = await login(h, "eng", passwords.eng);
    const forged: { path: string; headers: Record<string, string> }[] = [
      { path: "/api/site/reload", headers: { "x-http-method-override": "GET" } },
      { path: "/api/site/reload?_method=GET", headers: {} },
      { path: "/api/site/reload", headers: { "content-type": "text/plain" } },
      { path: "/api/site/reload", headers: { "content-type": "application/x-www-form-urlencoded" } },
      { path: "/api/site/reload", headers: { "x-csrf-token": `${csrf}, ${csrf}` } },
      { path: "/api/site/reload", headers: { "x-csrf-token": csrf.toUpperCase() } },
    ];
    for (const { path, headers } of forged) {
      const answer = await send(h, path, { headers: { cookie, ...headers }, body: "{}" });
      expect(answer.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
    }
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      expect((await send(h, "/api/site/reload", { method, headers: { cookie } })).status).toBe(403);
    }
    expect((await send(h, "/api/site/reload", { headers: { cookie, "x-csrf-token": csrf }, body: "{}" })).status).toBe(
      200,
    );
    // Logout is refused without the token, and GET never logs out.
    expect((await send(h, "/api/logout", { method: "GET", headers: { cookie } })).status).toBe(405);
    expect((await send(h, "/api/logout", { headers: { cookie } })).status).toBe(403);
    expect((await call(h, "/api/session", { cookie })).status).toBe(200);
  });

  it("one account logging in again and again ends only its own oldest sessions, never other people's", async () => {
    const ended: string[] = [];
    const store = createSessionStore({
      idleTimeoutMs: 60_000,
      absoluteLifetimeMs: 3_600_000,
      now: () => 0,
      maxSessions: 5,
      maxSessionsPerUser: 2,
      onEnded: (session, reason) => ended.push(`${session.user}:${reason}`),
    });
    const ada = store.create("ada", "operator", "127.0.0.1", "hash");
    const flood = Array.from({ length: 10 }, () => store.create("vic", "viewer", "127.0.0.2", "hash"));
    expect(store.get(ada.id, false)?.user).toBe("ada");
    expect(flood.filter((session) => store.get(session.id, false)).length).toBe(2);
    expect(ended).toEqual(Array(8).fill("vic:superseded"));
    // Over HTTP, with the defaults: the 21st login of one user ends its first session, and says so in the audit.
    const h = await start();
    const first = await login(h, "vic", passwords.vic);
    for (let i = 0; i < 20; i += 1) expect((await login(h, "vic", passwords.vic)).status).toBe(200);
    expect((await call(h, "/api/session", { cookie: first.cookie })).status).toBe(401);
    expect(h.events).toContainEqual({ type: "session-ended", user: "vic", reason: "superseded" });
  });

  it("never adopts a session id the client brings (no fixation) and ends the one it replaces", async () => {
    const h = await start();
    const planted = await send(h, "/api/login", {
      headers: { ...json, cookie: "pw_session=attacker-chosen-id-attacker-chosen-id-1234" },
      body: JSON.stringify({ user: "ada", password: passwords.ada }),
    });
    expect(planted.status).toBe(200);
    expect(planted.setCookie).not.toContain("attacker-chosen");
    // An attacker's own valid session, planted in a victim's browser, is ended when the victim logs in.
    const attacker = await login(h, "vic", passwords.vic);
    const victim = await send(h, "/api/login", {
      headers: { ...json, cookie: attacker.cookie },
      body: JSON.stringify({ user: "ada", password: passwords.ada }),
    });
    expect(victim.setCookie).not.toContain(attacker.cookie);
    expect((await call(h, "/api/session", { cookie: attacker.cookie })).status).toBe(401);
  });

  it("does not take a CSRF token, a session id or a Basic header as an API token", async () => {
    const h = await start();
    const { cookie, csrf } = await login(h, "eng", passwords.eng);
    const id = cookie.split("=")[1] ?? "";
    for (const authorization of [`Bearer ${csrf}`, `Bearer ${id}`, "Basic ZW5nOnNpbGVudA==", "Bearer", "Bearer a b"]) {
      const answer = await send(h, "/api/snapshot", { method: "GET", headers: { authorization, cookie } });
      expect(answer.status, authorization).toBe(401);
    }
  });
});

describe("audit flooding", { timeout: 60_000 }, () => {
  it("records refused tokens and throttled logins once a minute per client, counting the rest", async () => {
    const h = await start();
    const bogus = (from: string) =>
      send(h, "/api/snapshot", { method: "GET", headers: { authorization: `Bearer pwt_${"x".repeat(43)}` }, from });
    for (let i = 0; i < 30; i += 1) expect((await bogus("127.0.4.1")).status).toBe(401);
    expect((await bogus("127.0.4.2")).status).toBe(401);
    const refused = () => h.events.filter((event) => event.type === "token-refused");
    expect(refused()).toEqual([
      { type: "token-refused", client: "127.0.4.1", reason: "unknown" },
      { type: "token-refused", client: "127.0.4.2", reason: "unknown" },
    ]);
    h.advance(61_000);
    await bogus("127.0.4.1");
    expect(refused()[2]).toEqual({ type: "token-refused", client: "127.0.4.1", reason: "unknown", suppressed: 29 });
    // Five wrong passwords are each recorded; the throttled flood after them is one record.
    for (let i = 0; i < 5; i += 1) await attempt(h, "ada", "wrong guess", "127.0.4.3");
    for (let i = 0; i < 20; i += 1) expect((await attempt(h, "ada", "wrong guess", "127.0.4.3")).status).toBe(429);
    const logins = h.events.filter((event) => event.type === "login");
    expect(logins.filter((event) => event.type === "login" && event.outcome === "failed")).toHaveLength(5);
    expect(logins.filter((event) => event.type === "login" && event.outcome === "throttled")).toHaveLength(1);
  });
});

describe("passwords", () => {
  it("logs in with every password `users add` accepts, counted in characters (an emoji is one)", async () => {
    const h = await start();
    const password = "\u{1F511}".repeat(700); // 700 characters, 1400 UTF-16 units: within the 1024 allowed
    writeUsersFile(
      h.file,
      await addUser(readUsersFile(h.file), { name: "kim", role: "viewer", password, scrypt: { N: 1024, r: 8, p: 1 } }),
    );
    const answer = await send(h, "/api/login", { headers: json, body: JSON.stringify({ user: "kim", password }) });
    expect(answer.status).toBe(200);
    expect(answer.body.user).toBe("kim");
  });
});

describe("malformed login bodies", () => {
  it("answers every one with a 4xx and stays up", async () => {
    const h = await start();
    const bodies: { headers: Record<string, string>; body: string | Buffer; chunked?: boolean; status: number }[] = [
      { headers: json, body: "{", status: 400 },
      { headers: json, body: "null", status: 400 },
      { headers: json, body: "[]", status: 400 },
      { headers: json, body: '"ada"', status: 400 },
      { headers: json, body: JSON.stringify({ user: { toString: 1 }, password: ["x"] }), status: 400 },
      { headers: json, body: JSON.stringify({ user: "ada", password: "x".repeat(5000) }), status: 400 },
      { headers: json, body: Buffer.alloc(64 * 1024, 0x20), chunked: true, status: 413 },
      { headers: json, body: Buffer.from([0xff, 0xfe, 0x7b]), status: 400 },
      { headers: { "content-type": "application/jsonp" }, body: "{}", status: 415 },
    ];
    for (const [index, { headers, body, chunked, status }] of bodies.entries()) {
      const answer = await send(h, "/api/login", { headers, body, ...(chunked ? { chunked } : {}) }).catch(
        // A server may hang up on a body it refuses while it is still being sent; that is a refusal too.
        () => ({ status: 413, body: {}, setCookie: "" }),
      );
      expect(answer.status, `body ${index}`).toBe(status);
    }
    expect((await login(h, "ada", passwords.ada)).status).toBe(200);
  });
});
