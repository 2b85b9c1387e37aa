/**
 * The MCP server inside `plantwire serve` attacked by its own token holders, with the SDK's Client as the peer and
 * the simulator behind the serve: a client renaming itself or reconnecting to get a fresh call allowance, the same
 * allowance dodged through POST /api/proposals, a session kept after its person lost the right to propose, one
 * person's sessions ending everybody else's, and origin fields made up in a proposal's body.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxBodyBytes } from "../../src/mcp/mcp-http.js";
import { addToken, addUser, setRole } from "../../src/serve/auth/users-changes.js";
import { parseUsersFile, writeUsersFile } from "../../src/serve/auth/users-file.js";
import { type RunningServe, startServe } from "../../src/serve/serve-process.js";
import { hidden, type McpSite, mcpSite, proposalOf, textOf } from "./mcp-fixture.js";

let site: McpSite;
let serve: RunningServe;
let usersFile: string;
const tokens: Record<string, string> = {};
const clients: Client[] = [];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  site = await mcpSite({ callsPerMinute: 3 });
  // Two more assistants, so that each attack has a person of its own (the allowance is counted per person).
  usersFile = join(site.folder, ".plantwire", "users.json");
  let users = parseUsersFile(JSON.parse(readFileSync(usersFile, "utf8")));
  for (const name of ["ash", "bea"]) {
    users = await addUser(users, {
      name,
      role: "assistant",
      password: "correct horse battery staple",
      scrypt: { N: 2 ** 10, r: 8, p: 1 },
    });
    const made = addToken(users, name, "tests");
    users = made.content;
    tokens[name] = made.token;
  }
  writeUsersFile(usersFile, users);
  Object.assign(tokens, site.tokens);
  serve = await startServe({ siteFile: site.siteFile, logger: quiet });
});

afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await serve?.close();
  await site?.cleanup();
});

async function connect(token: string, name: string): Promise<Client> {
  const client = new Client({ name, version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const post = async (token: string, body: unknown) => {
  const response = await fetch(`${serve.url}/api/proposals`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe("the calls-per-minute allowance", () => {
  it("is the person's: a new session under a new client name gets no fresh allowance", async () => {
    const first = await connect(tokens.ada as string, "client-one");
    for (let call = 0; call < 3; call++) {
      expect((await first.callTool({ name: "list_tags", arguments: {} })).isError).toBeFalsy();
    }
    const renamed = await connect(tokens.ada as string, "client-two");
    const over = await renamed.callTool({ name: "list_tags", arguments: {} });
    expect(over.isError).toBe(true);
    expect(textOf(over)).toContain("calls per minute");
  });

  it("is not dodged by proposing through POST /api/proposals with the same token", async () => {
    const answer = await post(tokens.ada as string, { tag: "speedSetpoint", value: 1210, reason: "around the limit" });
    expect(answer.status).toBe(429);
    expect(answer.body.code).toBe("rate-limited");
  });
});

describe("sessions and who holds them", () => {
  it("ends a session whose person lost the right to propose: nothing is proposed through it", async () => {
    const client = await connect(tokens.ash as string, "demoted");
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain("propose_write");
    writeUsersFile(usersFile, setRole(parseUsersFile(JSON.parse(readFileSync(usersFile, "utf8"))), "ash", "viewer"));
    // The serve sees the new role before the old session is tried.
    const demoted = await waitFor(async () => {
      const session = await fetch(`${serve.url}/api/session`, { headers: { authorization: `Bearer ${tokens.ash}` } });
      return ((await session.json()) as { role?: string }).role === "viewer";
    }, 10_000);
    expect(demoted).toBe(true);
    const attempt = await client
      .callTool({ name: "propose_write", arguments: { write: { tag: "speedSetpoint", value: 1210 }, reason: "x" } })
      .then((result) => ({ proposed: !result.isError && proposalOf(result).id !== undefined }))
      .catch((error: unknown) => ({ proposed: false, error: String(error) }));
    expect(attempt.proposed).toBe(false);
    const pending = await fetch(`${serve.url}/api/proposals`, {
      headers: { authorization: `Bearer ${tokens.alice}` },
    }).then((response) => response.json() as Promise<{ pending: { origin: { user?: string } }[] }>);
    expect(pending.pending.filter((proposal) => proposal.origin.user === "ash")).toEqual([]);
  });

  it("lets no person's sessions by the dozen end another person's session", async () => {
    const victim = await connect(tokens.bea as string, "victim");
    for (let index = 0; index < 70; index++) {
      const client = new Client({ name: `flood-${index}`, version: "1" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${tokens.vera}` } },
        }),
      );
      // Dropped without goodbye: the server keeps the session until it must end one.
      await client.transport?.close();
    }
    const { tools } = await victim.listTools();
    expect(tools.map((tool) => tool.name)).toContain("list_tags");
  });
});

describe("origin fields a client makes up", () => {
  it("records the token's user and the API as the source, whatever the body claims", async () => {
    const answer = await post(tokens.alice as string, {
      tag: "speedSetpoint",
      value: 1250,
      reason: "made-up origin",
      source: "console",
      user: "erin",
      by: "erin",
      identity: { via: "console", login: "erin" },
      via: "console",
      digest: "0".repeat(64),
    });
    expect(answer.status).toBe(200);
    const id = (answer.body.proposal as { id: string }).id;
    const listed = await fetch(`${serve.url}/api/proposals`, {
      headers: { authorization: `Bearer ${tokens.alice}` },
    }).then((response) => response.json() as Promise<{ pending: { id: string; origin: unknown; state: string }[] }>);
    const proposal = listed.pending.find((item) => item.id === id);
    expect(proposal?.state).toBe("pending");
    expect(proposal?.origin).toMatchObject({ source: "api:token", user: "alice" });
  });
});

describe("request bodies", () => {
  it("refuses an MCP request body over its limit with 413 before reading it whole", async () => {
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "big", version: "1" },
        padding: "x".repeat(maxBodyBytes * 4),
      },
    };
    const response = await fetch(`${serve.url}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${tokens.alice}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify(initialize),
    });
    await response.body?.cancel();
    expect(response.status).toBe(413);
  });
});

describe("the console's read API with an assistant's token", () => {
  it("is refused, so hidden tags stay hidden; the assistant's own proposal door stays open", async () => {
    for (const path of [
      "/api/site",
      "/api/snapshot",
      "/api/history?tag=motorCurrent&seconds=60",
      "/api/events",
      "/api/proposals",
      "/api/loops",
      "/api/audit",
      "/api/adapters",
    ]) {
      const response = await fetch(`${serve.url}${path}`, { headers: { authorization: `Bearer ${tokens.bea}` } });
      const text = await response.text();
      expect(response.status, path).toBe(403);
      for (const name of hidden) expect(text, path).not.toContain(name);
    }
    const status = await fetch(`${serve.url}/api/proposals/no-such-id`, {
      headers: { authorization: `Bearer ${tokens.bea}` },
    });
    expect(status.status).toBe(404);
  });
});
