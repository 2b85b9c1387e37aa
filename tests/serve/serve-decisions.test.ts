/**
 * The CLI approval cases of tests/guard/decisions.test.ts, run through `plantwire serve`: the real CLI in a child
 * process finds the serve that holds the approvals folder and decides over its API with the person's token, so the
 * guard holding the proposal acknowledges each decision. Two-person tags, the same person twice, a decision used
 * twice, a viewer, a blank or borrowed name, a rejection, and a serve that is gone (nothing is written).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { verifyAuditLog } from "plantwire";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoveryFile } from "../../src/serve/serve-discovery.js";
import { type RunningServe, startServe } from "../../src/serve/serve-process.js";
import { runCli } from "../support/cli-process.js";
import { auditRecords, type Json, ServeClient, type ServeSite, serveSite } from "./serve-fixture.js";

let site: ServeSite;
let serve: RunningServe;
const tokenFiles: Record<string, string> = {};
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  site = await serveSite({
    writePolicy: "{ range: [ 600, 1500 ], maxStep: 100, minIntervalMs: 0, approval: required, approvals: 2 }",
  });
  serve = await startServe({ siteFile: site.siteFile, logger: quiet });
  for (const [user, token] of Object.entries(site.tokens)) {
    tokenFiles[user] = join(site.folder, `${user}.token`);
    writeFileSync(tokenFiles[user] as string, `${token}\n`, { mode: 0o600 });
  }
  await site.simulator.setFault("cavitation", true);
});

afterAll(async () => {
  await serve?.close();
  await site?.cleanup();
});

const as = (user: string) => ["--dir", site.approvals, "--token-file", tokenFiles[user] as string];

async function nextProposal(): Promise<Json> {
  const erin = await ServeClient.login(serve.url, "erin");
  let found: Json;
  const appeared = await waitFor(async () => {
    found = (await erin.get("/api/proposals")).body.pending.find((item: Json) => item.tag === "speedSetpoint");
    return found !== undefined;
  }, 20_000);
  expect(appeared, "the loop proposed a speed setpoint").toBe(true);
  return found;
}

describe("plantwire approve/reject through serve", () => {
  it("finds the serve that holds the folder and lists its proposals", async () => {
    expect(discoveryFile(site.approvals)).toMatch(/approvals\.serve\.json$/);
    const proposal = await nextProposal();
    const listed = await runCli("proposals", ...as("vera"));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`plantwire serve at ${serve.url}`);
    expect(listed.stdout).toContain(proposal.id);
    expect(listed.stdout).toContain("two people must approve");
  });

  it("needs two different people for a two-person tag, each acknowledged by the serve's guard, and writes once", async () => {
    const proposal = await nextProposal();
    const first = await runCli("approve", proposal.id, "--by", "alice", ...as("alice"));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("First approval recorded by alice");
    const twice = await runCli("approve", proposal.id, "--by", "alice", ...as("alice"));
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("same-person");
    expect(twice.stderr).toContain("Nothing will be written");
    // Another person's name with alice's token is not another person.
    const borrowed = await runCli("approve", proposal.id, "--by", "bob", ...as("alice"));
    expect(borrowed.code).toBe(2);
    expect(borrowed.stderr).toContain("token is alice's");
    const viewer = await runCli("approve", proposal.id, "--by", "vera", ...as("vera"));
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain("viewer role");
    const blank = await runCli("approve", proposal.id, "--by", "   ", ...as("bob"));
    expect(blank.code).toBe(2);
    expect(site.simulator.model.values.speedSetpoint).toBe(1200);
    const second = await runCli("approve", proposal.id, "--by", "bob", ...as("bob"));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("Approved by bob. Result: executed; read back verified");
    expect(await waitFor(() => site.simulator.model.values.speedSetpoint === proposal.value)).toBe(true);
    const used = await runCli("approve", proposal.id, "--by", "alice", ...as("alice"));
    expect(used.code).toBe(1);
    expect(used.stderr).toContain(`no longer pending (executed by "bob"); a decision is used once`);
    const records = auditRecords(site.audit).filter((record) => record.proposalId === proposal.id);
    const approved = records.find((record) => record.decision === "approved");
    expect(approved).toMatchObject({ by: "bob", approvedBy: ["alice", "bob"], identity: { via: "cli", login: "bob" } });
    expect(records.filter((record) => record.type === "attempt")).toHaveLength(1);
    expect(records.filter((record) => record.code === "same-person").map((record) => record.by)).toEqual(["alice"]);
    expect(verifyAuditLog(site.audit).ok).toBe(true);
  });

  it("rejects with a reason, recorded as the token's user", async () => {
    const proposal = await nextProposal();
    const run = await runCli("reject", proposal.id, "--by", "bob", "--reason", "shift change", ...as("bob"));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Rejected by bob. Result: declined");
    const record = auditRecords(site.audit).find(
      (item) => item.proposalId === proposal.id && item.decision === "rejected",
    );
    expect(record).toMatchObject({ by: "bob", reason: "shift change", identity: { via: "cli", login: "bob" } });
  });

  it("without a token it says the serve holds the folder and decides through the folder as before", async () => {
    const proposal = await nextProposal();
    const run = await runCli("reject", proposal.id, "--by", "alice", "--reason", "no", "--dir", site.approvals);
    expect(run.stderr).toContain("holds this folder");
    expect(run.code, run.stderr).toBe(0);
    const record = auditRecords(site.audit).find(
      (item) => item.proposalId === proposal.id && item.decision === "rejected",
    );
    expect(record).toMatchObject({ by: "alice", identity: { via: "cli", osUser: expect.any(String) } });
    expect(record?.identity.login).toBeUndefined();
  });

  it("after the serve is gone the CLI exits 1 and says nothing will be written", async () => {
    const proposal = await nextProposal();
    await serve.close();
    const run = await runCli("approve", proposal.id, "--by", "alice", ...as("alice"));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no running guard|no longer pending/);
    expect(run.stderr).toMatch(/Nothing will be written|a decision is used once/);
    const named = await runCli("approve", proposal.id, "--by", "alice", "--serve", serve.url, ...as("alice"));
    expect(named.code).toBe(1);
    expect(named.stderr).toContain("cannot reach plantwire serve");
    expect(
      auditRecords(site.audit).filter((item) => item.proposalId === proposal.id && item.type === "attempt"),
    ).toEqual([]);
  });
});
