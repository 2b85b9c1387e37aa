/**
 * T18: an append that fails part way (a file-size limit in a child process, an immutable or read-only folder, a full
 * small file system) throws an AuditError naming the real cause, cuts the partial record off so the chain before it
 * verifies, and latches the log: every later append throws at once.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuditError, type AuditFailure, AuditLog, verifyAuditLog } from "plantwire";
import { describe, expect, it } from "vitest";
import { afterThisTest, auditErrorOf, freshLog, logWith, temporaryFolder } from "./audit-fixture.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const child = fileURLToPath(new URL("./audit-append-child.ts", import.meta.url));
const isRoot = process.getuid?.() === 0;

/** Checks what every failed log must show: latched, every later append refused, the records before it intact. */
function expectLatched(log: AuditLog, file: string, failure: AuditFailure, records: number): void {
  expect(log.failure).toEqual(failure);
  const later = auditErrorOf(() => log.append({ type: "note", note: "after the failure" }));
  expect(later.failure).toEqual(failure);
  expect(() => log.appendBatch([{ type: "note" }])).toThrow(AuditError);
  expect(failure.message).toContain("Nothing more is written to this log, and no device is written through it");
  expect(failure.message).toContain("then restart the process");
  expect(verifyAuditLog(file)).toEqual({ ok: true, records });
}

/** Whether a tmpfs can be mounted here; the reason when not. */
function tmpfsProblem(): string | undefined {
  if (process.platform !== "linux") return "tmpfs needs Linux";
  const probe = temporaryFolder("plantwire-tmpfs-probe-");
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { encoding: "utf8" });
  if (mounted.status !== 0) return `mounting a tmpfs is not allowed here (${(mounted.stderr || "no mount").trim()})`;
  spawnSync("umount", [probe]);
  return undefined;
}

/** Whether `chattr +i` works on this file system; the reason when not. */
function chattrProblem(): string | undefined {
  const probe = temporaryFolder("plantwire-chattr-probe-");
  const set = spawnSync("chattr", ["+i", probe], { encoding: "utf8" });
  if (set.status !== 0) return `chattr +i does not work here (${(set.stderr || "no chattr").trim()})`;
  spawnSync("chattr", ["-i", probe]);
  return undefined;
}

const noTmpfs = tmpfsProblem();
const noChattr = isRoot ? chattrProblem() : undefined;

describe("an append that fails part way", () => {
  it("under a file-size limit (ulimit -f in a child process): size-limit, cut back, latched", () => {
    const file = freshLog();
    const limitBytes = 256 * 1024;
    // Filled to about 4 KiB below the limit, so a 16 KiB record is written short and then refused with EFBIG.
    const log = AuditLog.open(file);
    while (statSync(file).size < limitBytes - 8 * 1024) log.append({ type: "note", note: "y".repeat(2000) });
    log.close();
    const before = verifyAuditLog(file);
    expect(before.ok).toBe(true);
    const run = spawnSync(
      "bash",
      ["-c", `ulimit -f ${limitBytes / 1024} && exec "$0" --import tsx "$@"`, process.execPath, child, file, "16384"],
      { cwd: root, encoding: "utf8" },
    );
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      big: { threw: boolean; name: string; code: string; failure: AuditFailure };
      small: { threw: boolean; code: string; failure: AuditFailure };
      failure: AuditFailure;
      sizeBefore: number;
      sizeAfter: number;
      lastSeq: number;
    };
    expect(result.big).toMatchObject({ threw: true, name: "AuditError", code: "PW_AUDIT" });
    expect(result.big.failure.code).toBe("size-limit");
    expect(result.big.failure.message).toMatch(/file-size limit was reached \(EFBIG\) while writing the records/);
    expect(result.big.failure.message).toContain("The records before it are intact");
    expect(result.big.failure.message).toContain("raise the file-size limit");
    expect(result.small).toMatchObject({ threw: true, code: "PW_AUDIT", failure: result.big.failure });
    expect(result.failure).toEqual(result.big.failure);
    // The part that was written is gone again: the file ends where the last good record ends.
    expect(result.sizeAfter).toBe(result.sizeBefore);
    expect(statSync(file).size).toBe(result.sizeBefore);
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: before.records });
    expect(result.lastSeq).toBe(before.records);
    // After a restart without the limit, the chain continues where it was.
    const restarted = AuditLog.open(file);
    expect(restarted.append({ type: "note", note: "after the restart" }).seq).toBe(before.records + 1);
    restarted.close();
  });

  const folderCase = isRoot
    ? "in a folder made immutable (chattr +i; root ignores chmod 555): permission, latched"
    : "in a folder made read-only (chmod 555): permission, latched";
  it.skipIf(noChattr !== undefined)(noChattr ? `${folderCase}: skipped, ${noChattr}` : folderCase, () => {
    const folder = temporaryFolder();
    const file = logWith(3, {}, join(folder, "audit.jsonl"));
    const log = AuditLog.open(file);
    const lock = isRoot ? ["chattr", "+i", folder] : ["chmod", "555", folder];
    expect(spawnSync(lock[0]!, lock.slice(1)).status).toBe(0);
    afterThisTest(() => {
      if (isRoot) spawnSync("chattr", ["-i", folder]);
      else chmodSync(folder, 0o755);
    });
    afterThisTest(() => log.close());
    // The log file itself stays writable: the record is written and flushed, then the head cannot be replaced.
    const error = auditErrorOf(() => log.append({ type: "decision", decision: "approved", by: "alice" }));
    expect(error.failure.code).toBe("permission");
    expect(error.message).toMatch(/permission denied .*\((EPERM|EACCES)\) while replacing the head file/);
    expect(error.message).toContain(`make ${folder} and ${file} writable`);
    expectLatched(log, file, error.failure, 3);
    expect(readFileSync(file, "utf8")).not.toContain("alice");
    log.close();
  });

  it.skipIf(noTmpfs !== undefined)(
    noTmpfs
      ? `on a full small file system: skipped, ${noTmpfs}`
      : "on a full small file system (a 256 KiB tmpfs): disk-full, latched",
    () => {
      const mountPoint = temporaryFolder("plantwire-full-");
      expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint]).status).toBe(0);
      afterThisTest(() => {
        if (spawnSync("umount", [mountPoint]).status !== 0) spawnSync("umount", ["-l", mountPoint]);
      });
      mkdirSync(join(mountPoint, "audit"));
      const file = logWith(3, {}, join(mountPoint, "audit", "audit.jsonl"));
      const log = AuditLog.open(file);
      // Closed before the unmount (cleanups run last first), or the open file would keep the mount busy.
      afterThisTest(() => log.close());
      // Fill the rest but a few pages, so a 64 KiB record cannot fit.
      const free = Number(
        spawnSync("df", ["--output=avail", "-B1", mountPoint], { encoding: "utf8" }).stdout.split("\n")[1],
      );
      writeFileSync(join(mountPoint, "filler"), Buffer.alloc(free - 3 * 4096));
      const error = auditErrorOf(() =>
        log.append({ type: "attempt", tag: "speed", value: 1040, note: "z".repeat(65536) }),
      );
      expect(error.failure.code).toBe("disk-full");
      expect(error.message).toMatch(/the disk is full \(ENOSPC\)/);
      expect(error.message).toContain(`free space on the file system that holds ${join(mountPoint, "audit")}`);
      expectLatched(log, file, error.failure, 3);
      log.close();
    },
  );
});
