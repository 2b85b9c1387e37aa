/**
 * The MCP server in this process (the SDK's Client over its in-memory transport) on a memory plant with a real guard:
 * schemas for several proposable kinds of tag (a union on the tag name), the call limit per client, a wrong-typed
 * value reaching the guard as an audited refusal, and windows bucketed as asked.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createGuard, createPlant, defineTags, enumeration, float, goodSample, type WriteGuard } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardAccess } from "../../src/mcp/mcp-access.js";
import { createRateLimiter } from "../../src/mcp/mcp-limits.js";
import { createPlantMcpServer } from "../../src/mcp/mcp-server.js";
import type { SiteMcpSettings } from "../../src/mcp/mcp-settings.js";
import { assistantWindow } from "../../src/mcp/mcp-view.js";
import { proposalOf, schemaOf, textOf } from "./mcp-fixture.js";

const folder = mkdtempSync(join(tmpdir(), "plantwire-mcp-server-"));
const drive = memoryAdapter({ name: "drive", values: { speed: 1000, mode: "AUTO", temperature: 40 } });
const tags = defineTags({
  speed: float({
    unit: "rpm",
    range: [0, 1800],
    resolution: 1,
    source: drive.key("speed"),
    write: { range: [600, 1500], maxStep: 100 },
  }),
  mode: enumeration({
    states: { OFF: 0, AUTO: 1, MANUAL: 2 },
    source: drive.key("mode"),
    write: { states: ["AUTO", "MANUAL"] },
  }),
  temperature: float({ unit: "°C", range: [0, 120], source: drive.key("temperature") }),
});
const settings: SiteMcpSettings = {
  expose: ["speed", "mode", "temperature"],
  propose: ["speed", "mode"],
  callsPerMinute: 4,
  maxWindowSeconds: 600,
};
const plant = createPlant({ tags });
let guard: WriteGuard<typeof tags>;
let client: Client;

beforeAll(async () => {
  guard = createGuard({ plant, audit: join(folder, "audit.jsonl"), deviceLocks: false });
  const access = guardAccess({
    siteName: "memory-site",
    plant: () => plant,
    guard: () => guard,
    settings: () => settings,
  });
  const server = await createPlantMcpServer({
    access,
    caller: { user: "ada", canPropose: true },
    limiter: createRateLimiter(() => settings.callsPerMinute),
    version: "test",
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: "in-memory", version: "1" });
  await client.connect(clientSide);
});

afterAll(async () => {
  await client?.close();
  await guard?.close();
  await plant.close();
  rmSync(folder, { recursive: true, force: true });
});

describe("the MCP server on a memory plant", () => {
  it("makes the proposal a union on the tag name, each value typed by its tag's write policy", async () => {
    const write = schemaOf((await client.listTools()).tools, "propose_write").properties?.write;
    const variants = write?.oneOf ?? write?.anyOf ?? [];
    expect(variants.map((variant) => variant.properties?.tag?.const)).toEqual(["speed", "mode"]);
    expect(variants[0]?.properties?.value).toMatchObject({ type: "number", minimum: 600, maximum: 1500 });
    expect(variants[1]?.properties?.value?.enum).toEqual(["AUTO", "MANUAL"]);
  });

  it("hands a wrong-typed value to the guard, which refuses and records it", async () => {
    const result = await client.callTool({
      name: "propose_write",
      arguments: { write: { tag: "mode", value: 7 }, reason: "r" },
    });
    const proposal = proposalOf(result);
    expect(proposal.state).toBe("rejected");
    expect(proposal.refusals.length).toBeGreaterThan(0);
    const records = readFileSync(join(folder, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(records.find((record) => record.proposalId === proposal.id)).toMatchObject({
      type: "proposal",
      source: "mcp:in-memory",
      user: "ada",
    });
  });

  it("refuses calls over the limit per client per minute, naming the wait", async () => {
    const answers = [];
    for (let call = 0; call < 4; call++) answers.push(await client.callTool({ name: "list_tags", arguments: {} }));
    const refused = answers.filter((answer) => answer.isError);
    expect(refused.length).toBeGreaterThan(0);
    expect(textOf(refused[0] as object)).toMatch(/over 4 calls per minute for this client; try again in \d+ s/);
    await expect(client.readResource({ uri: "plantwire://site/snapshot" })).rejects.toThrow(/calls per minute/);
  });
});

describe("assistant windows", () => {
  it("keeps one sample per bucket, the bucket's last good one, stamped at its end", () => {
    const from = 1_000_000;
    const samples = [
      goodSample(1, from + 100),
      goodSample(2, from + 900),
      { ...goodSample(9, from + 950), quality: "bad" as const },
      goodSample(3, from + 1500),
    ];
    const window = assistantWindow(tags, ["speed"], () => samples, { from, to: from + 1800 }, 1000);
    expect(window.series("speed").map((sample) => [sample.value, sample.receivedTime])).toEqual([
      [2, from + 1000],
      [3, from + 1800],
    ]);
  });
});
