/**
 * GET /api/audit's cost: the chain is verified again only when the log changed (a new record, an edited byte), the
 * page never holds more than 1000 records, and a log tampered with is still reported broken on the next request.
 * On a real audit log written by the guard's AuditLog, and through a running `plantwire serve` over HTTP.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/audit-log.js";
import { auditPage, auditPageLimit, auditVerifications } from "../../src/serve/serve-audit.js";
import { type RunningServe, startServe } from "../../src/serve/serve-process.js";
import { ServeClient, type ServeSite, serveSite } from "./serve-fixture.js";

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function freshLog(): { file: string; log: AuditLog } {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-audit-cost-"));
  folders.push(folder);
  const file = join(folder, "audit.jsonl");
  return { file, log: AuditLog.open(file) };
}

describe("the audit page: the chain check is kept while the log is unchanged", () => {
  it("verifies once for two reads, again after a new record, and sees an edited byte", async () => {
    const { file, log } = freshLog();
    log.append({ type: "note", note: "first" });
    log.append({ type: "note", note: "second" });
    const before = auditVerifications();
    const first = auditPage(file, {});
    const second = auditPage(file, { type: "note" });
    expect(auditVerifications() - before, "two reads of an unchanged log verify once").toBe(1);
    expect(first.chain).toEqual({ ok: true, records: 2 });
    expect(second.records.map((record) => record.note)).toEqual(["first", "second"]);

    log.append({ type: "note", note: "third" });
    const third = auditPage(file, {});
    expect(auditVerifications() - before, "a new record is verified").toBe(2);
    expect(third.chain).toEqual({ ok: true, records: 3 });
    expect(third.records.at(-1)?.note).toBe("third");
    await log.close();

    // One byte changed, same length: the chain no longer holds, and the next request says so.
    const text = readFileSync(file, "utf8");
    expect(text).toContain('"second"');
    writeFileSync(file, text.replace('"second"', '"secant"'));
    const tampered = auditPage(file, {});
    expect(auditVerifications() - before).toBe(3);
    expect(tampered.chain.ok).toBe(false);
    expect(tampered.chain.detail).toMatch(/^line 2: /);
    // And stays reported broken on the requests after it, without verifying again.
    expect(auditPage(file, {}).chain.ok).toBe(false);
    expect(auditVerifications() - before).toBe(3);
  });

  it("answers at most 1000 records however many are asked for, and 200 for a limit that is not a number", async () => {
    const { file, log } = freshLog();
    log.appendBatch(Array.from({ length: 1100 }, (_, index) => ({ type: "note" as const, note: `n${index}` })));
    await log.close();
    expect(auditPageLimit).toBe(1000);
    const all = auditPage(file, { limit: 1_000_000 });
    expect(all.records).toHaveLength(1000);
    expect(all.records.at(-1)?.note).toBe("n1099");
    expect(all.chain).toEqual({ ok: true, records: 1100 });
    expect(auditPage(file, { limit: Number.NaN }).records).toHaveLength(200);
    expect(auditPage(file, { limit: 3 }).records.map((record) => record.note)).toEqual(["n1097", "n1098", "n1099"]);
  });
});

describe("GET /api/audit on a running serve", () => {
  let site: ServeSite;
  let serve: RunningServe;
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };

  beforeAll(async () => {
    site = await serveSite({ loops: false });
    serve = await startServe({ siteFile: site.siteFile, logger: quiet });
  });
  afterAll(async () => {
    await serve?.close();
    await site?.cleanup();
  });

  it("verifies an unchanged log once for two requests, and again after a record is added", async () => {
    const vera = await ServeClient.login(serve.url, "vera");
    const before = auditVerifications();
    const first = await vera.get("/api/audit?limit=5000");
    const second = await vera.get("/api/audit");
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.body.chain.ok).toBe(true);
    expect(auditVerifications() - before, "two requests on an unchanged log verify once").toBe(1);
    expect(second.body.chain).toEqual(first.body.chain);

    // A login writes a record into the site's audit: the next request checks the chain again and shows it.
    await ServeClient.login(serve.url, "erin");
    const third = await vera.get("/api/audit?type=note");
    expect(auditVerifications() - before).toBe(2);
    expect(third.body.chain.ok).toBe(true);
    expect(third.body.chain.records).toBeGreaterThan(first.body.chain.records);
  });
});
