/**
 * Through `plantwire serve` on the simulator: GET /api/loops shows each loop's next run (a period, a cron schedule
 * within anyOf), none for an event-driven loop or a paused one; an approval's reason, from the console's API and
 * from `plantwire approve --reason` in a child process talking to serve, lands in the audit's approval record.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { verifyAuditLog } from "plantwire";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServe, startServe } from "../../src/serve/serve-process.js";
import { runCli } from "../support/cli-process.js";
import { auditRecords, type Json, ServeClient, type ServeSite, serveSite } from "./serve-fixture.js";

const hour = 3_600_000;
const day = 86_400_000;
const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

let site: ServeSite;
let serve: RunningServe;
let startedAt = 0;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  site = await serveSite({
    writePolicy: "{ range: [ 600, 1500 ], maxStep: 100, minIntervalMs: 0, approval: required }",
  });
  // The example's advisor (event-driven: on change) and two timed loops beside it.
  const loops = join(site.folder, "loops.ts");
  writeFileSync(
    loops,
    [
      `import { anyOf, createLoop, cron, every, onChange } from ${JSON.stringify(repo("src/index.ts"))};`,
      `import example from ${JSON.stringify(repo("examples/serve-site/loops.ts"))};`,
      "export default async (context: any) => [",
      "  ...(await example(context)),",
      '  createLoop(context.plant, { name: "hourly-report", trigger: every("1h"), run() {} }),',
      "  createLoop(context.plant, {",
      '    name: "shift-report",',
      '    trigger: anyOf(onChange(["vibration"]), cron("0 6 * * *", { timezone: "UTC" })),',
      "    run() {},",
      "  }),",
      "];",
      "",
    ].join("\n"),
  );
  const text = site.siteText.replace(/^loops:.*$/m, `loops: ${JSON.stringify(loops)}`);
  if (text === site.siteText) throw new Error("the example site names no loops module: update this test");
  writeFileSync(site.siteFile, text);
  startedAt = Date.now();
  serve = await startServe({ siteFile: site.siteFile, logger: quiet });
  await site.simulator.setFault("cavitation", true);
});

afterAll(async () => {
  await serve?.close();
  await site?.cleanup();
});

/** The next 06:00 UTC strictly after `time`, worked out by hand. */
function nextSixUtc(time: number): number {
  const date = new Date(time);
  const today = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), 6);
  return today > time ? today : today + day;
}

const byName = (loops: Json[], name: string) => loops.find((loop: Json) => loop.name === name);

describe("plantwire serve: a loop's next run", () => {
  it("shows the next run of timed loops, none for an event-driven loop, and none while paused", async () => {
    const erin = await ServeClient.login(serve.url, "erin");
    const listed = await erin.get("/api/loops");
    const now = Date.now();
    expect(listed.status).toBe(200);
    expect(listed.body.map((loop: Json) => loop.name)).toEqual([
      "pump7-speed-advisor",
      "hourly-report",
      "shift-report",
    ]);
    const hourly = byName(listed.body, "hourly-report");
    expect(hourly).toMatchObject({ state: "running", trigger: "every 3600 s" });
    expect(hourly.nextRunAt).toBeGreaterThanOrEqual(startedAt + hour);
    expect(hourly.nextRunAt).toBeLessThanOrEqual(now + hour);
    const shifts = byName(listed.body, "shift-report");
    expect(shifts.trigger).toBe('on change of vibration or cron "0 6 * * *"');
    expect([nextSixUtc(startedAt), nextSixUtc(now)]).toContain(shifts.nextRunAt);
    expect(byName(listed.body, "pump7-speed-advisor")).not.toHaveProperty("nextRunAt");

    const paused = await erin.post("/api/loops/hourly-report/pause");
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe("paused");
    expect(paused.body).not.toHaveProperty("nextRunAt");
    expect(byName((await erin.get("/api/loops")).body, "hourly-report")).not.toHaveProperty("nextRunAt");
    const resumed = await erin.post("/api/loops/hourly-report/resume");
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ state: "running", nextRunAt: hourly.nextRunAt });
  });
});

/** The pending speed proposal of the example's loop, once it has made one. */
async function pendingProposal(client: ServeClient): Promise<Json> {
  let found: Json;
  const appeared = await waitFor(async () => {
    found = (await client.get("/api/proposals")).body.pending.find((item: Json) => item.tag === "speedSetpoint");
    return found !== undefined;
  }, 20_000);
  expect(appeared, "the loop proposed a speed setpoint").toBe(true);
  return found;
}

const approval = (id: string) =>
  auditRecords(site.audit).find(
    (record) => record.type === "decision" && record.proposalId === id && record.decision === "approved",
  );

describe("plantwire serve: an approval's reason", () => {
  it("from the console's API is kept in the approval record, as the person wrote it (untrusted text)", async () => {
    const alice = await ServeClient.login(serve.url, "alice");
    const proposal = await pendingProposal(alice);
    const reason = ' checked the gauge <img src=x onerror="alert(1)">\nand the flow ';
    const approved = await alice.post(`/api/proposals/${proposal.id}/approve`, { digest: proposal.digest, reason });
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe("executed");
    expect(approval(proposal.id)).toMatchObject({
      by: "alice",
      identity: { via: "console", login: "alice" },
      reason: reason.trim(),
    });
  });

  it("from `plantwire approve --reason` through serve is kept in the approval record", async () => {
    const alice = await ServeClient.login(serve.url, "alice");
    const proposal = await pendingProposal(alice);
    const tokenFile = join(site.folder, "alice.token");
    writeFileSync(tokenFile, `${site.tokens.alice}\n`, { mode: 0o600 });
    const run = await runCli(
      "approve",
      proposal.id,
      "--by",
      "alice",
      "--reason",
      "pressure low on the panel too",
      "--dir",
      site.approvals,
      "--token-file",
      tokenFile,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`plantwire serve at ${serve.url}`);
    expect(approval(proposal.id)).toMatchObject({
      by: "alice",
      identity: { via: "cli", login: "alice" },
      reason: "pressure low on the panel too",
    });
    expect(verifyAuditLog(site.audit).ok).toBe(true);
  });
});
