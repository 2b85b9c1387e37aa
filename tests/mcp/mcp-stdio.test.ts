/**
 * `plantwire mcp --site` over stdio: the real CLI in a child process, the SDK's own Client over its standard input and
 * output, the simulator behind it. Without a serve the process holds the site's guard and a person decides with
 * `plantwire approve` through the approvals folder; with a serve running, proposals go to the serve's guard with the
 * assistant's token and a person decides there. Standard output carries nothing but the protocol.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { decodeContext, verifyAuditLog } from "plantwire";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProposalSummary } from "../../src/mcp/mcp-proposals.js";
import { operatingSystemUser } from "../../src/os-user.js";
import { createPlant, type Plant } from "../../src/plant.js";
import { type RunningServe, startServe } from "../../src/serve/serve-process.js";
import { loadSite } from "../../src/site/site-config.js";
import type { TagDefinitions } from "../../src/tags.js";
import { auditRecords } from "../serve/serve-fixture.js";
import { startCli } from "../support/cli-child.js";
import { runCli } from "../support/cli-process.js";
import { exposed, type McpSite, mcpSite, pendingInServe, proposalOf, refusalOf, textOf } from "./mcp-fixture.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Started {
  readonly client: Client;
  readonly stderr: () => string;
  readonly protocolErrors: Error[];
}

async function startStdio(site: McpSite, env: Record<string, string> = {}): Promise<Started> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ["--import", "tsx", bin, "mcp", "--site", site.siteFile],
    cwd: root,
    env: { ...(process.env as Record<string, string>), ...env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const client = new Client({ name: "stdio-test", version: "1.0.0" });
  // A line on standard output that is not a protocol message surfaces here.
  const protocolErrors: Error[] = [];
  client.onerror = (error) => protocolErrors.push(error);
  await client.connect(transport);
  return { client, stderr: () => stderr, protocolErrors };
}

const propose = (client: Client, tag: string, value: unknown) =>
  client.callTool({
    name: "propose_write",
    arguments: { write: { tag, value }, reason: "steady the outlet pressure" },
  });

async function settled(client: Client, id: string): Promise<ProposalSummary | undefined> {
  let answer: ProposalSummary | undefined;
  const done = await waitFor(async () => {
    answer = proposalOf(await client.callTool({ name: "proposal_status", arguments: { id } }));
    return !["pending", "approved"].includes(answer.state);
  }, 20_000);
  expect(done, `proposal ${id} was decided and executed`).toBe(true);
  return answer;
}

async function inRangeTarget(plant: Plant<TagDefinitions>): Promise<{ current: number; target: number }> {
  const current = (await plant.read(["speedSetpoint"])).value("speedSetpoint") as number;
  return { current, target: current + 50 <= 1500 ? current + 50 : current - 50 };
}

describe("plantwire mcp over stdio, holding the site's guard itself", () => {
  let site: McpSite;
  let started: Started;
  let plant: Plant<TagDefinitions>;

  beforeAll(async () => {
    site = await mcpSite();
    plant = createPlant({ tags: (await loadSite(site.siteFile)).tags, logger: quiet });
    started = await startStdio(site);
  });

  afterAll(async () => {
    await started?.client.close();
    await plant?.close();
    await site?.cleanup();
  });

  it("serves the tools of the exposure and reads what the plant reads", async () => {
    const packageJson = JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8"));
    expect(started.client.getServerVersion()).toEqual({ name: "plantwire", version: packageJson.version });
    const { tools } = await started.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      "list_tags",
      "read_values",
      "read_window",
      "propose_write",
      "proposal_status",
    ]);
    const decoded = decodeContext(textOf(await started.client.callTool({ name: "read_values", arguments: {} })));
    const snapshot = await plant.read();
    expect([...(decoded.snapshot?.keys() ?? [])]).toEqual(exposed);
    for (const name of exposed) {
      const want = snapshot.value(name);
      const got = decoded.snapshot?.get(name);
      if (typeof want === "number")
        expect(Math.abs((got?.value as number) - want)).toBeLessThanOrEqual((got?.step ?? 0) / 2 + 1e-9);
      else expect(got?.value).toEqual(want);
    }
    const window = await started.client.callTool({ name: "read_window", arguments: { tags: ["level"], seconds: 60 } });
    expect(textOf(window)).toContain("WINDOW");
    const tooLong = await started.client.callTool({
      name: "read_window",
      arguments: { tags: ["level"], seconds: 3600 },
    });
    expect(tooLong.isError).toBe(true);
  });

  it("refuses out-of-range and hidden proposals with the guard's code", async () => {
    const high = await propose(started.client, "speedSetpoint", 1501);
    expect(proposalOf(high).refusals.map((item) => item.code)).toContain("out-of-range");
    const hidden = await propose(started.client, "vibration", 1);
    expect(refusalOf(hidden).code).toBe("unknown-tag");
  });

  it("keeps an in-range proposal pending until `plantwire approve` decides it, then writes and verifies it", async () => {
    const { current, target } = await inRangeTarget(plant);
    const summary = proposalOf(await propose(started.client, "speedSetpoint", target));
    expect(summary.state).toBe("pending");
    const listed = await runCli("proposals", "--dir", site.approvals);
    expect(listed.stdout).toContain(summary.id);
    expect(listed.stdout).toContain(`from "mcp:stdio-test", for ${JSON.stringify(operatingSystemUser())}`);
    expect((await plant.read(["speedSetpoint"])).value("speedSetpoint")).toBe(current);
    const approved = await runCli("approve", summary.id, "--dir", site.approvals, "--by", "alice");
    expect(approved.code, approved.stderr).toBe(0);
    const done = await settled(started.client, summary.id);
    expect(done).toMatchObject({ state: "executed", decidedBy: "alice", outcome: { readBack: "verified" } });
    expect((await plant.read(["speedSetpoint"])).value("speedSetpoint")).toBe(target);
    const record = auditRecords(site.audit).find((item) => item.type === "proposal" && item.proposalId === summary.id);
    expect(record).toMatchObject({ source: "mcp:stdio-test", user: operatingSystemUser() });
    expect(verifyAuditLog(site.audit).ok).toBe(true);
    expect(started.protocolErrors).toEqual([]);
  });
});

describe("plantwire mcp over stdio while plantwire serve holds the site", () => {
  let site: McpSite;
  let serve: RunningServe;
  let plant: Plant<TagDefinitions>;
  let started: Started;

  beforeAll(async () => {
    site = await mcpSite();
    serve = await startServe({ siteFile: site.siteFile, logger: quiet });
    plant = createPlant({ tags: (await loadSite(site.siteFile)).tags, logger: quiet });
    started = await startStdio(site, { PLANTWIRE_TOKEN: site.tokens.ada });
  });

  afterAll(async () => {
    await started?.client.close();
    await plant?.close();
    await serve?.close();
    await site?.cleanup();
  });

  it("will not start without a token for the serve, and says which token to give", async () => {
    const child = startCli(["mcp", "--site", site.siteFile], { env: { PLANTWIRE_TOKEN: "" } });
    expect(await child.exited).toBe(1);
    expect(child.stderr()).toContain(`plantwire serve at ${serve.url} holds this site's guard`);
    expect(child.stderr()).toContain("PLANTWIRE_TOKEN");
    expect(child.stdout()).toBe("");
  });

  it("sends proposals to the serve's guard as the token's user; a person decides there", async () => {
    const { target } = await inRangeTarget(plant);
    const summary = proposalOf(await propose(started.client, "speedSetpoint", target));
    expect(summary.state).toBe("pending");
    const hidden = await propose(started.client, "inflow", 10);
    expect(refusalOf(hidden).code).toBe("unknown-tag");
    const shown = await pendingInServe(serve.url, site.tokens.alice, summary.id);
    expect(shown?.origin).toMatchObject({ source: "mcp:stdio-test", user: "ada" });
    const tokenFile = join(site.folder, "alice.token");
    writeFileSync(tokenFile, `${site.tokens.alice}\n`, { mode: 0o600 });
    const approved = await runCli(
      "approve",
      summary.id,
      "--by",
      "alice",
      "--dir",
      site.approvals,
      "--token-file",
      tokenFile,
    );
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain("plantwire serve");
    const done = await settled(started.client, summary.id);
    expect(done).toMatchObject({ state: "executed", decidedBy: "alice", outcome: { readBack: "verified" } });
    expect((await plant.read(["speedSetpoint"])).value("speedSetpoint")).toBe(target);
    expect(started.protocolErrors).toEqual([]);
  });
});
