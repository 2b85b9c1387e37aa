/**
 * Tokens (o200k_base, gpt-tokenizer) of the MCP read tool's answer for 50 tags, against the JSON a typical OPC UA MCP
 * server answers for the same values: per node its node id, value (float32 as read, with its decimal tail), status
 * code and source and server timestamps, compact JSON.stringify. Our answer is the real tool result, taken through
 * the SDK's Client from the server over its in-memory transport, and it carries more: each tag's unit, range,
 * meaning (fenced) and writability. Run with `npx tsx bench/run.ts mcp`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { countTokens } from "../src/context/index.js";
import { createGuard, createPlant, defineTags, float } from "../src/index.js";
import { guardAccess } from "../src/mcp/mcp-access.js";
import { createRateLimiter } from "../src/mcp/mcp-limits.js";
import { createPlantMcpServer } from "../src/mcp/mcp-server.js";
import type { AnyTag } from "../src/tags.js";
import { memoryAdapter } from "../src/testing/index.js";
import { type BenchResult, ratioResult } from "./bench-kit.js";

const kinds = [
  ["pressure", "bar", 16, 0.01, "outlet pressure"],
  ["temperature", "°C", 150, 0.1, "bearing temperature"],
  ["speed", "rpm", 1800, 1, "pump speed"],
  ["flow", "m3/h", 400, 0.1, "feed flow"],
  ["vibration", "mm/s", 50, 0.01, "motor vibration"],
  ["current", "A", 200, 0.1, "motor current"],
  ["power", "kW", 750, 0.1, "drive power"],
  ["valve", "%", 100, 0.1, "valve position"],
  ["ph", "pH", 14, 0.01, "tank pH"],
  ["level", "m", 6, 0.01, "tank level"],
] as const;

export default async function mcpBench(): Promise<BenchResult[]> {
  const memory = memoryAdapter({ name: "line" });
  const definitions: Record<string, AnyTag> = {};
  const nodes: { name: string; nodeId: string; key: string }[] = [];
  for (let index = 0; index < 50; index++) {
    const [kind, unit, high, resolution, meaning] = kinds[index % 10] as (typeof kinds)[number];
    const line = 1 + Math.floor(index / 10);
    const name = `line${line}_${kind}`;
    const key = `k${index}`;
    definitions[name] = float({
      unit,
      range: [0, high],
      resolution,
      description: `Line ${line} ${meaning}`,
      source: memory.key(key),
    });
    // Float32 as a register or an OPC UA Float delivers it: a long decimal tail naive JSON keeps.
    memory.set(key, Math.fround(high * (0.3 + 0.4 * Math.abs(Math.sin(index * 1.7)))));
    nodes.push({ name, nodeId: `ns=2;s=Line${line}.${kind[0]?.toUpperCase()}${kind.slice(1)}.PV`, key });
  }
  const tags = defineTags(definitions);
  const plant = createPlant({ tags });
  const folder = mkdtempSync(join(tmpdir(), "plantwire-mcp-bench-"));
  const guard = createGuard({ plant, audit: join(folder, "audit.jsonl"), deviceLocks: false, writable: [] });
  const names = Object.keys(tags);
  const settings = { expose: names, propose: [], callsPerMinute: 1000, maxWindowSeconds: 600 };
  const server = await createPlantMcpServer({
    access: guardAccess({ siteName: "bench", plant: () => plant, guard: () => guard, settings: () => settings }),
    caller: { user: "bench", canPropose: false },
    limiter: createRateLimiter(() => 1000),
    version: "bench",
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(clientSide);
  try {
    const result = await client.callTool({ name: "read_values", arguments: {} });
    const text = (result.content as { type: string; text: string }[]).map((item) => item.text).join("\n");
    const snapshot = await plant.read();
    const time = new Date(snapshot.time).toISOString();
    const opcua = nodes.map(({ name, nodeId }) => ({
      nodeId,
      value: snapshot.sample(name).value,
      statusCode: "Good",
      sourceTimestamp: time,
      serverTimestamp: time,
    }));
    const baseline = {
      label: "OPC UA MCP server JSON (node id, value, status, 2 timestamps)",
      value: countTokens(JSON.stringify(opcua)),
      unit: "o200k tokens",
    };
    const candidate = { label: "plantwire read_values result", value: countTokens(text), unit: "o200k tokens" };
    return [
      ratioResult(
        "mcp: read tool, 50 tags vs OPC UA MCP JSON",
        baseline,
        candidate,
        { at: "most", ratio: 0.3 },
        "the plantwire answer also carries each tag's unit, range and fenced meaning, which the baseline lacks",
      ),
    ];
  } finally {
    await client.close();
    await guard.close();
    await plant.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
