/**
 * T19 (keyed chain): with a key, record hashes are HMAC-SHA256, every record says the log is keyed, and a forger who
 * can write the file but has no key cannot re-chain it: `audit verify --key` fails the forgery, and without the key
 * verify says the key is needed rather than a false OK. Key files must be readable by their owner only.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AuditLog,
  type AuditRecord,
  ConfigError,
  canonicalJson,
  GENESIS_HASH,
  KEYED_CHAIN,
  recordHash,
  verifyAuditLog,
} from "plantwire";
import { describe, expect, it } from "vitest";
import { audit, freshLog, keyFile, lines, logWith, records, temporaryFolder, writeLines } from "./audit-fixture.js";

/** Rewrites every record from `records` with `edit` applied, re-chained with `key` (or plain SHA-256). */
function rechain(file: string, edit: (record: AuditRecord) => Record<string, unknown>, key?: Buffer): void {
  let previous = GENESIS_HASH;
  const forged = records(file).map((original) => {
    const { hash: _hash, ...unsigned } = { ...edit(original), prevHash: previous } as AuditRecord;
    const record = { ...unsigned, hash: recordHash(unsigned, previous, key) };
    previous = record.hash;
    return canonicalJson(record);
  });
  writeLines(file, forged);
  writeFileSync(`${file}.head`, JSON.stringify({ seq: forged.length, hash: previous }));
}

function keyedLog(): { file: string; key: string } {
  const file = freshLog();
  const key = keyFile(join(file, ".."));
  logWith(3, { key }, file);
  return { file, key };
}

describe("a keyed audit chain", () => {
  it("marks every record, verifies with its key, and asks for the key without it", async () => {
    const { file, key } = keyedLog();
    expect(records(file).every((record) => record.chain === KEYED_CHAIN)).toBe(true);
    expect(verifyAuditLog(file, { key })).toEqual({ ok: true, records: 3, keyed: true });
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, needsKey: true, keyed: true, records: 0 });
    const withoutKey = await audit("verify", file);
    expect(withoutKey.code).toBe(1);
    expect(withoutKey.stdout).toContain("KEY NEEDED");
    expect(withoutKey.stdout).not.toContain("OK");
    const withKey = await audit("verify", file, "--key", key);
    expect(withKey.code).toBe(0);
    expect(withKey.stdout).toBe(`OK: 3 records, chain intact, keyed (HMAC-SHA256) (${file}).\n`);
    const shown = await audit("show", file);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain("CHAIN NOT CHECKED: the log is keyed");
    const shownWithKey = await audit("show", file, "--key", key);
    expect(shownWithKey.code).toBe(0);
    expect(shownWithKey.stdout).toContain("Chain intact: 3 records.");
    // The guard side: opening needs the key too, and continues the keyed chain.
    expect(() => AuditLog.open(file)).toThrow(/keyed log/);
    const log = AuditLog.open(file, { key });
    expect(log.keyed).toBe(true);
    log.append({ type: "note", note: "after reopening" });
    log.close();
    expect(verifyAuditLog(file, { key })).toEqual({ ok: true, records: 4, keyed: true });
  });

  it("fails a forgery re-chained without the key, whichever way it was re-chained", async () => {
    const { file, key } = keyedLog();
    const original = lines(file);
    const edit = (record: AuditRecord) => (record.seq === 2 ? { ...record, note: "nothing happened" } : record);

    // Re-chained with plain SHA-256, as the log would be without a key: consistent on its own...
    rechain(file, (record) => {
      const { chain: _chain, ...rest } = edit(record);
      return rest;
    });
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 3 });
    // ...but the person holding the key knows better.
    expect(verifyAuditLog(file, { key })).toMatchObject({ ok: false, problem: expect.stringContaining("not keyed") });
    const cli = await audit("verify", file, "--key", key);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/^BROKEN at line 1: .*re-chained/);
    expect(() => AuditLog.open(file, { key })).toThrow(ConfigError);

    // Still marked keyed, re-chained with plain SHA-256 or with a guessed key: the first record already fails.
    for (const guess of [undefined, Buffer.from("a guessed key of sixteen bytes or more")]) {
      writeLines(file, original);
      rechain(file, edit, guess);
      expect(verifyAuditLog(file, { key })).toMatchObject({ ok: false, line: 1, records: 0 });
    }
    // Re-chained with the real key, the same log verifies: the failures above came from not having it.
    writeLines(file, original);
    rechain(file, (record) => record, Buffer.from("3f1c9a0e6b8d4f2a7c5e9b1d3f6a8c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f1a"));
    expect(verifyAuditLog(file, { key })).toEqual({ ok: true, records: 3, keyed: true });
  });

  it("refuses a key file others can read, naming chmod 600", async () => {
    const folder = temporaryFolder();
    const key = keyFile(folder);
    chmodSync(key, 0o644);
    expect(() => AuditLog.open(join(folder, "audit.jsonl"), { key })).toThrow(`chmod 600 ${key}`);
    const cli = await audit("verify", logWith(1, {}, join(folder, "plain.jsonl")), "--key", key);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`chmod 600 ${key}`);
    chmodSync(key, 0o600);
    expect(() => AuditLog.open(join(folder, "audit.jsonl"), { key }).close()).not.toThrow();
  });

  it("refuses a wrong key, and an unkeyed log opened with a key", () => {
    const { file } = keyedLog();
    const other = keyFile(temporaryFolder(), "another key of at least sixteen bytes");
    expect(() => AuditLog.open(file, { key: other })).toThrow(/the key is not this log's/);
    const plain = logWith(2);
    expect(() => AuditLog.open(plain, { key: other })).toThrow(/not keyed/);
    expect(() => AuditLog.open(plain, { key: Buffer.from("short") })).toThrow(/at least 16/);
  });
});
