/**
 * `plantwire serve` over real sockets on the simulator: the JSON API with logged-in people of each role, the event
 * stream, a proposal from the site's loop approved through the API (written over Modbus, read back, audited with
 * the person and client), refusals, loops paused and resumed, reloads, /metrics and /healthz.
 */
import { writeFileSync } from "node:fs";
import { verifyAuditLog } from "plantwire";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServe, startServe } from "../../src/serve/serve-process.js";
import { auditRecords, type Json, readEvents, ServeClient, type ServeSite, serveSite } from "./serve-fixture.js";

let site: ServeSite;
let serve: RunningServe;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  site = await serveSite();
  serve = await startServe({ siteFile: site.siteFile, logger: quiet });
  // Cavitation makes the pressure and vibration move past the loop's deadbands: the loop runs and proposes.
  await site.simulator.setFault("cavitation", true);
});

afterAll(async () => {
  await serve?.close();
  await site?.cleanup();
});

/** The pending speed proposal of the site's loop, once it has made one. */
async function pendingProposal(client: ServeClient) {
  let found: Json;
  const appeared = await waitFor(async () => {
    const answer = await client.get("/api/proposals");
    found = answer.body.pending.find((proposal: Json) => proposal.tag === "speedSetpoint");
    return found !== undefined;
  }, 20_000);
  expect(appeared, "the loop proposed a speed setpoint").toBe(true);
  return found;
}

describe("plantwire serve: health, metrics and who may look", () => {
  it("answers /healthz and /metrics without a login, and nothing under /api", async () => {
    const anonymous = new ServeClient(serve.url);
    const health = await anonymous.get("/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, site: "pump-station-7", guard: { audit: "ok" } });
    expect(Object.keys(health.body.adapters)).toEqual(["drive"]);
    const metrics = await anonymous.get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('plantwire_loop_runs{loop="pump7-speed-advisor"}');
    expect(metrics.body).toContain("plantwire_guard_audit_ok");
    for (const path of ["/api/site", "/api/snapshot", "/api/proposals", "/api/loops", "/api/audit", "/api/adapters"]) {
      expect((await anonymous.get(path)).status, path).toBe(401);
    }
    expect((await anonymous.post("/api/site/reload")).status).toBe(401);
  });

  it("shows the site, a live snapshot, history and adapters to a viewer", async () => {
    const vera = await ServeClient.login(serve.url, "vera");
    const view = await vera.get("/api/site");
    expect(view.status).toBe(200);
    expect(view.body.loops).toEqual(["pump7-speed-advisor"]);
    const setpoint = view.body.tags.find((tag: Json) => tag.name === "speedSetpoint");
    expect(setpoint).toMatchObject({ unit: "rpm", writable: true, writeRange: { min: 600, max: 1500 }, maxStep: 100 });
    expect(view.body.tags.find((tag: Json) => tag.name === "pressure")).toMatchObject({ writable: false });
    expect(await waitFor(async () => (await vera.get("/api/snapshot")).body.tags.pressure.quality === "good")).toBe(
      true,
    );
    const snapshot = await vera.get("/api/snapshot");
    expect(typeof snapshot.body.tags.speedSetpoint.value).toBe("number");
    const history = await vera.get("/api/history?tag=pressure&seconds=60");
    expect(history.body.tag).toBe("pressure");
    expect(history.body.points.length).toBeGreaterThan(0);
    expect((await vera.get("/api/history?tag=nope")).status).toBe(404);
    const adapters = await vera.get("/api/adapters");
    expect(adapters.body).toEqual([expect.objectContaining({ name: "drive", kind: "modbus", state: "connected" })]);
  });
});

describe("plantwire serve: deciding", () => {
  it("a viewer's decision is 403 and a decision without CSRF is refused; nothing is written", async () => {
    const operator = await ServeClient.login(serve.url, "alice");
    const proposal = await pendingProposal(operator);
    const vera = await ServeClient.login(serve.url, "vera");
    const viewer = await vera.post(`/api/proposals/${proposal.id}/approve`, { digest: proposal.digest });
    expect(viewer.status).toBe(403);
    const veraToken = new ServeClient(serve.url, site.tokens.vera);
    expect((await veraToken.post(`/api/proposals/${proposal.id}/approve`, { digest: proposal.digest })).status).toBe(
      403,
    );
    const noCsrf = await operator.post(
      `/api/proposals/${proposal.id}/approve`,
      { digest: proposal.digest },
      { "x-csrf-token": "" },
    );
    expect(noCsrf.status).toBe(403);
    const still = (await operator.get("/api/proposals")).body.pending.map((item: Json) => item.id);
    expect(still).toContain(proposal.id);
    const refused = auditRecords(site.audit).filter((record) => record.note === "auth-request-refused");
    expect(refused.map((record) => [record.user, record.reason])).toEqual(
      expect.arrayContaining([
        ["vera", "role"],
        ["alice", "csrf"],
      ]),
    );
  });

  it("a stale digest is 409 digest-mismatch; the operator's approval is written, read back and audited with the person", async () => {
    const alice = await ServeClient.login(serve.url, "alice");
    const proposal = await pendingProposal(alice);
    const wrong = await alice.post(`/api/proposals/${proposal.id}/approve`, { digest: "0".repeat(64) });
    expect(wrong.status).toBe(409);
    expect(wrong.body.code).toBe("digest-mismatch");
    const approved = await alice.post(`/api/proposals/${proposal.id}/approve`, { digest: proposal.digest });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: proposal.id, state: "executed", decidedBy: "alice" });
    expect(approved.body.outcome.readBack).toBe("verified");
    // The simulator takes the register into its process on its next step.
    expect(await waitFor(() => site.simulator.model.values.speedSetpoint === proposal.value)).toBe(true);
    const records = auditRecords(site.audit).filter((record) => record.proposalId === proposal.id);
    const decision = records.find((record) => record.type === "decision" && record.decision === "approved");
    expect(decision).toMatchObject({ by: "alice", identity: { via: "console", login: "alice", client: "127.0.0.1" } });
    expect(records.find((record) => record.type === "outcome")).toMatchObject({ write: "written" });
    expect(records.filter((record) => record.code === "digest-mismatch")).toHaveLength(1);
    const again = await alice.post(`/api/proposals/${proposal.id}/approve`, { digest: proposal.digest });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("already-decided");
    const recent = (await alice.get("/api/proposals")).body.recent;
    expect(recent.find((item: Json) => item.id === proposal.id)).toMatchObject({ state: "executed" });
    const page = await alice.get(`/api/audit?person=alice&type=decision`);
    expect(page.body.chain.ok).toBe(true);
    expect(page.body.records.some((record: Json) => record.proposalId === proposal.id)).toBe(true);
    expect(page.body.records.every((record: Json) => record.type === "decision")).toBe(true);
    expect(verifyAuditLog(site.audit).ok).toBe(true);
  });

  it("a rejection through an API token is recorded with the token's user and needs a reason", async () => {
    const bob = new ServeClient(serve.url, site.tokens.bob);
    const proposal = await pendingProposal(bob);
    const bare = await bob.post(`/api/proposals/${proposal.id}/reject`, { digest: proposal.digest });
    expect(bare.status).toBe(400);
    const rejected = await bob.post(
      `/api/proposals/${proposal.id}/reject`,
      { digest: proposal.digest, reason: "not during the shift change" },
      { "x-plantwire-client": "cli" },
    );
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ state: "declined", decidedBy: "bob" });
    const decision = auditRecords(site.audit).find(
      (record) => record.proposalId === proposal.id && record.decision === "rejected",
    );
    expect(decision).toMatchObject({
      by: "bob",
      reason: "not during the shift change",
      identity: { via: "cli", login: "bob" },
    });
  });
});

describe("plantwire serve: events", () => {
  it("streams a bad sample after the simulator loses its link", async () => {
    const alice = await ServeClient.login(serve.url, "alice");
    let faultAt = Number.POSITIVE_INFINITY;
    const lostLink = (event: string, data: Json) =>
      event === "sample" &&
      data.tag === "pressure" &&
      data.quality === "bad" &&
      data.time >= faultAt &&
      ["comm-failure", "timeout", "not-connected"].includes(data.reason);
    const reading = readEvents(serve.url, alice, lostLink, 25_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    faultAt = Date.now();
    await site.simulator.setFault("comms-loss", true);
    const events = await reading;
    await site.simulator.setFault("comms-loss", false);
    const bad = events.find((item) => lostLink(item.event, item.data));
    expect(bad, JSON.stringify(events.slice(-5))).toBeDefined();
    expect(bad?.data.detail).toContain("drive");
    // And the link comes back: the adapter reconnects and the pressure is good again.
    expect(
      await waitFor(async () => (await alice.get("/api/snapshot")).body.tags.pressure.quality === "good", 20_000),
    ).toBe(true);
  });

  it("streams each proposal's changes and the audit records as they are made", async () => {
    const alice = await ServeClient.login(serve.url, "alice");
    const proposal = await pendingProposal(alice);
    const reading = readEvents(
      serve.url,
      alice,
      // After the rejection, the loop's next proposal (cavitation keeps the pressure moving).
      (event, data) => event === "proposal" && data.state === "pending" && data.id !== proposal.id,
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rejected = await alice.post(`/api/proposals/${proposal.id}/reject`, {
      digest: proposal.digest,
      reason: "watching the stream",
    });
    expect(rejected.status).toBe(200);
    const events = await reading;
    const changes = events.filter((item) => item.event === "proposal");
    expect(changes.filter((item) => item.data.id === proposal.id).at(-1)?.data).toMatchObject({
      state: "declined",
      decidedBy: "alice",
    });
    expect(changes.at(-1)?.data).toMatchObject({ state: "pending", origin: { loop: "pump7-speed-advisor" } });
    expect(events.some((item) => item.event === "proposals")).toBe(true);
    const audit = events.filter((item) => item.event === "audit").map((item) => item.data);
    expect(audit.find((record) => record.proposalId === proposal.id && record.type === "decision")).toMatchObject({
      decision: "rejected",
      by: "alice",
    });
    expect(audit.every((record) => typeof record.seq === "number" && record.hash === undefined)).toBe(true);
  });

  it("refuses the stream without a login", async () => {
    const response = await fetch(`${serve.url}/api/events`);
    expect(response.status).toBe(401);
    await response.body?.cancel();
  });
});

describe("plantwire serve: loops and reload", () => {
  it("an engineer pauses and resumes a loop; an operator may not", async () => {
    const alice = await ServeClient.login(serve.url, "alice");
    expect((await alice.post("/api/loops/pump7-speed-advisor/pause")).status).toBe(403);
    const erin = await ServeClient.login(serve.url, "erin");
    const paused = await erin.post("/api/loops/pump7-speed-advisor/pause");
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ name: "pump7-speed-advisor", state: "paused", reason: "paused by erin" });
    expect((await erin.get("/api/loops")).body[0]).toMatchObject({
      state: "paused",
      trigger: expect.stringContaining("pressure"),
    });
    const resumed = await erin.post("/api/loops/pump7-speed-advisor/resume");
    expect(resumed.body.state).not.toBe("paused");
    expect((await erin.post("/api/loops/nope/pause")).status).toBe(404);
    const notes = auditRecords(site.audit).filter(
      (record) => record.note === "loop-paused" || record.note === "loop-resumed",
    );
    expect(notes.map((record) => [record.note, record.by])).toEqual([
      ["loop-paused", "erin"],
      ["loop-resumed", "erin"],
    ]);
  });

  it("an invalid site file keeps the running configuration and answers every problem; a valid one is applied", async () => {
    const erin = await ServeClient.login(serve.url, "erin");
    expect((await (await ServeClient.login(serve.url, "alice")).post("/api/site/reload")).status).toBe(403);
    const broken = site.siteText
      .replace("mode: approval", "mode: sometimes")
      .replace("idleTimeoutMinutes: 15", "idleTimeoutMinutes: 0")
      .replace("kind: modbus", "kind: modbus, colour: blue");
    writeFileSync(site.siteFile, broken);
    const refused = await erin.post("/api/site/reload");
    expect(refused.status).toBe(422);
    const paths = refused.body.issues.map((issue: Json) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["guard.mode", "serve.idleTimeoutMinutes"]));
    for (const issue of refused.body.issues) expect(issue.fix.length).toBeGreaterThan(5);
    expect((await erin.get("/healthz")).body.ok).toBe(true);
    expect((await erin.get("/api/site")).body.loops).toEqual(["pump7-speed-advisor"]);

    writeFileSync(site.siteFile, site.siteText.replace("site: pump-station-7", "site: pump-station-7b"));
    const applied = await erin.post("/api/site/reload");
    expect(applied.status).toBe(200);
    expect(applied.body).toEqual({ applied: true });
    // A reload starts a new runtime: the session is the server's, so it stays.
    expect((await erin.get("/api/site")).body.name).toBe("pump-station-7b");
    expect((await erin.get("/healthz")).body).toMatchObject({ ok: true, site: "pump-station-7b" });
    const notes = auditRecords(site.audit).map((record) => record.note);
    expect(notes).toEqual(expect.arrayContaining(["site-reload-refused", "site-reloaded"]));
    expect(verifyAuditLog(site.audit).ok).toBe(true);
  });

  it("a valid file that cannot start (its audit is a folder) goes back to the running configuration", async () => {
    const erin = await ServeClient.login(serve.url, "erin");
    const before = (await erin.get("/api/site")).body.name;
    const { mkdirSync } = await import("node:fs");
    mkdirSync(`${site.folder}/not-a-file.jsonl`, { recursive: true });
    writeFileSync(
      site.siteFile,
      site.siteText
        .replace("site: pump-station-7", "site: never-started")
        .replace("audit: ./.plantwire/audit.jsonl", "audit: ./not-a-file.jsonl"),
    );
    const refused = await erin.post("/api/site/reload");
    expect(refused.status).toBe(422);
    expect(refused.body.issues[0]).toMatchObject({ path: "site", message: expect.stringContaining("could not start") });
    expect((await erin.get("/healthz")).body).toMatchObject({ ok: true, site: before });
    // The previous configuration runs again on its adapters: the plant is read, good.
    const since = Date.now();
    expect(
      await waitFor(async () => {
        const pressure = (await erin.get("/api/snapshot")).body.tags.pressure;
        return pressure.quality === "good" && pressure.time >= since;
      }, 20_000),
    ).toBe(true);
    expect(auditRecords(site.audit).some((record) => record.note === "site-reload-failed")).toBe(true);
    writeFileSync(site.siteFile, site.siteText);
  });
});
