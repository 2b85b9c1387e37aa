/**
 * An assistant (the MCP role: read and propose with a token, never decide) is refused a console login with a reason,
 * over real HTTP; the refusal comes only after the password check, so it says no more than a wrong password would.
 */
import { describe, expect, it } from "vitest";
import { addToken, addUser } from "../../src/serve/auth/users-changes.js";
import { updateUsersFile } from "../../src/serve/auth/users-file-lock.js";
import { call, type Harness, login, passwords, start } from "./auth-server.js";

const assistantPassword = "quiet copper lantern";

/** Adds the assistant "claude" with a token to the harness's users file; returns the token. */
async function addAssistant(h: Harness): Promise<string> {
  const token = await updateUsersFile(h.file, async (content) => {
    const added = await addUser(content, {
      name: "claude",
      role: "assistant",
      password: assistantPassword,
      scrypt: { N: 1024, r: 8, p: 1 },
    });
    const made = addToken(added, "claude", "mcp");
    return { content: made.content, result: made.token };
  });
  return token as string;
}

describe("console login of an assistant", () => {
  it("refuses the right password with 403, a reason and a fix, sets no cookie and records the refusal", async () => {
    const h = await start();
    await addAssistant(h);
    const refused = await login(h, "claude", assistantPassword);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      error: "assistant accounts are for MCP clients with a token, not for the console",
      code: "forbidden",
      fix: "ask an engineer for a viewer account to use the console",
    });
    expect(refused.setCookie).toBe("");
    expect(h.events).toEqual([
      { type: "login", outcome: "refused", reason: "assistant-role", user: "claude", client: "127.0.0.1" },
    ]);
    expect(JSON.stringify(h.events)).not.toContain(assistantPassword);
    // The same name in other capitals finds the same user and gets the same refusal.
    expect((await login(h, "Claude", assistantPassword)).status).toBe(403);
  });

  it("gives an assistant with a wrong password the answer anyone with a wrong password gets", async () => {
    const h = await start();
    await addAssistant(h);
    const assistant = await login(h, "claude", "not the password");
    const operator = await login(h, "ada", "not the password");
    const unknown = await login(h, "mallory", "not the password");
    expect(assistant.status).toBe(401);
    expect(assistant.body).toEqual(operator.body);
    expect(assistant.body).toEqual(unknown.body);
    expect(h.events[0]).toEqual({ type: "login", outcome: "failed", user: "claude", client: "127.0.0.1" });
  });

  it("slows wrong guesses at an assistant down before the role is looked at", async () => {
    const h = await start();
    await addAssistant(h);
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await login(h, "claude", `wrong ${attempt}`)).status).toBe(401);
    }
    // Even the right password is not checked while slowed down: a 403 here would confirm it.
    const slowed = await login(h, "claude", assistantPassword);
    expect(slowed.status).toBe(429);
    expect(slowed.body.code).toBe("throttled");
  });

  it("still lets the assistant's token read and propose, and never decide", async () => {
    const h = await start();
    const token = await addAssistant(h);
    expect((await call(h, "/api/snapshot", { token })).status).toBe(200);
    expect((await call(h, "/api/proposals/new", { method: "POST", token })).status).toBe(200);
    expect((await call(h, "/api/proposals/p1/approve", { method: "POST", token })).status).toBe(403);
  });

  it("keeps console logins of the other roles working", async () => {
    const h = await start();
    await addAssistant(h);
    for (const [user, password] of Object.entries(passwords)) {
      expect((await login(h, user, password)).status).toBe(200);
    }
  });
});
