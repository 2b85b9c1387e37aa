/**
 * The audit never writes through a symbolic link or over a file it did not make. Whoever can write the log's folder
 * could plant a link at a name the guard writes (the head's temporary file, the lock, the log, the torn copy) and make
 * the guard's user overwrite any file it may write; each such name is refused or created exclusively.
 */
import {
  existsSync,
  linkSync,
  lstatSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { AuditLog, ConfigError, recoverAuditLog, verifyAuditLog } from "plantwire";
import { describe, expect, it, vi } from "vitest";
import { APPEND_NO_FOLLOW, openNoFollow } from "../../src/audit/audit-paths.js";
import { freshLog, lines, logWith, temporaryFolder } from "./audit-fixture.js";

const VICTIM_TEXT = "records of another site the guard's user may write\n";

/** A file outside the log's folder that a planted link points at; it must never change. */
function victim(): string {
  const file = join(temporaryFolder("plantwire-victim-"), "other.jsonl");
  writeFileSync(file, VICTIM_TEXT);
  return file;
}

/** The ConfigError `run` throws; fails the test when it throws anything else or nothing. */
function configErrorOf(run: () => unknown): ConfigError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(ConfigError.isInstance(caught), String(caught)).toBe(true);
  return caught as ConfigError;
}

describe("audit paths: no write through a planted link", () => {
  it("replaces the head through a temporary file with a random name, not through a link at head.tmp", () => {
    const target = victim();
    const file = logWith(1);
    symlinkSync(target, `${file}.head.tmp`);
    const log = AuditLog.open(file);
    log.append({ type: "note", note: "after the link was planted" });
    log.close();
    expect(readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
    expect(lstatSync(`${file}.head`).isFile()).toBe(true);
    expect(lstatSync(`${file}.head.tmp`).isSymbolicLink()).toBe(true);
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 2 });
    // No temporary file is left behind.
    expect(readdirSync(dirname(file)).filter((name) => name.endsWith(".tmp"))).toEqual(["audit.jsonl.head.tmp"]);
  });

  it("refuses a lock that is a link, and leaves what it points at alone", () => {
    const target = victim();
    const file = freshLog();
    symlinkSync(target, `${file}.lock`);
    const error = configErrorOf(() => AuditLog.open(file));
    expect(error.message).toContain(`${file}.lock is a symbolic link`);
    expect(error.issues[0]?.fix).toContain("remove the link");
    expect(readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
  });

  it("takes over a stale lock by removing it and creating a new one, not by writing into it", () => {
    // A hard link shares the file: writing into the stale lock would change the other name's content too.
    const folder = temporaryFolder();
    const other = join(folder, "other.txt");
    writeFileSync(other, "999999999");
    const file = join(folder, "audit.jsonl");
    linkSync(other, `${file}.lock`);
    const log = AuditLog.open(file);
    expect(readFileSync(other, "utf8")).toBe("999999999");
    expect(readFileSync(`${file}.lock`, "utf8")).toBe(String(process.pid));
    expect(() => AuditLog.open(file)).toThrow(/already open in this process/);
    log.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it("refuses a log that is a link (existing or dangling), naming the path and the fix", () => {
    const target = victim();
    const file = freshLog();
    symlinkSync(target, file);
    const error = configErrorOf(() => AuditLog.open(file));
    expect(error.message).toContain(`${file} is a symbolic link`);
    expect(error.issues[0]?.fix).toContain("put the real file at this path");
    expect(readFileSync(target, "utf8")).toBe(VICTIM_TEXT);

    const dangling = freshLog();
    const missing = join(temporaryFolder("plantwire-victim-"), "created-elsewhere.jsonl");
    symlinkSync(missing, dangling);
    configErrorOf(() => AuditLog.open(dangling));
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(`${dangling}.lock`)).toBe(false);
  });

  it("refuses a head that is a link, even to the right content", () => {
    const target = victim();
    const file = logWith(1);
    const head = `${file}.head`;
    const text = readFileSync(head, "utf8");
    writeFileSync(target, text);
    rmSync(head);
    symlinkSync(target, head);
    const error = configErrorOf(() => AuditLog.open(file));
    expect(error.message).toContain(`${head} is a symbolic link`);
    expect(readFileSync(target, "utf8")).toBe(text);
  });

  it("opens the log with O_NOFOLLOW, so a link planted after the check is refused too", () => {
    const target = victim();
    const file = freshLog();
    symlinkSync(target, file);
    const error = configErrorOf(() => openNoFollow(file, APPEND_NO_FOLLOW, file));
    expect(error.message).toContain("is a symbolic link");
    expect(readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
  });

  it("keeps a torn line's copy in a file it creates, never through a link at that name", () => {
    const target = victim();
    const file = logWith(2);
    writeFileSync(file, `${lines(file).join("\n")}\n{"seq":3,"ty`);
    const now = 1_750_000_000_000;
    const clock = vi.spyOn(Date, "now").mockReturnValue(now);
    try {
      symlinkSync(target, `${file}.torn-${now}`);
      const error = configErrorOf(() => AuditLog.open(file));
      expect(error.message).toContain(`${file}.torn-${now}`);
      expect(error.message).toContain("already exists");
      expect(readFileSync(target, "utf8")).toBe(VICTIM_TEXT);
      expect(readFileSync(file, "utf8")).toContain('{"seq":3,"ty'); // not cut off without its copy
    } finally {
      clock.mockRestore();
    }
    const log = AuditLog.open(file); // a new time, a free name: repaired as usual
    log.close();
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 3 });
  });

  it("recover refuses a log that is a link, and never renames over an existing file", () => {
    const target = victim();
    const linked = freshLog();
    symlinkSync(target, linked);
    writeFileSync(`${linked}.head`, '{"seq":1,"hash":"x"}');
    const error = configErrorOf(() => recoverAuditLog(linked, { reason: "test", by: "Alice" }));
    expect(error.message).toContain(`${linked} is a symbolic link`);
    expect(readFileSync(target, "utf8")).toBe(VICTIM_TEXT);

    const file = logWith(2);
    writeFileSync(`${file}.head`, '{"seq":9,"hash":"x"}'); // damaged: the head names a record past the end
    const now = Date.parse("2031-05-06T07:08:09.010Z");
    const taken = `${file}.broken-2031-05-06T07-08-09.010Z`;
    writeFileSync(taken, "an earlier recovery's evidence\n");
    const refused = configErrorOf(() => recoverAuditLog(file, { reason: "test", by: "Alice", now: () => now }));
    expect(refused.message).toContain(`${taken} already exists`);
    expect(readFileSync(taken, "utf8")).toBe("an earlier recovery's evidence\n");
    expect(lines(file)).toHaveLength(2);
  });
});
