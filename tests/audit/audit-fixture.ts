/** What the audit tests share: temporary folders removed after each test, logs with records, and the CLI. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditError, AuditLog, type AuditLogOptions, type AuditRecord } from "plantwire";
import { afterEach, expect } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIo } from "../support/capture-io.js";

const folders: string[] = [];
const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const folder of folders.splice(0)) {
    // An immutable attribute left by a failed test would make the folder undeletable.
    spawnSync("chattr", ["-R", "-i", folder], { stdio: "ignore" });
    rmSync(folder, { recursive: true, force: true });
  }
});

/** Runs `cleanup` after the current test (last registered first). */
export function afterThisTest(cleanup: () => void | Promise<void>): void {
  cleanups.push(cleanup);
}

/** A new empty folder, removed after the test. */
export function temporaryFolder(prefix = "plantwire-audit-"): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
}

/** The path of a log in a new folder (the file does not exist yet). */
export function freshLog(): string {
  return join(temporaryFolder(), "audit.jsonl");
}

/** A log with `count` note records, closed. */
export function logWith(count: number, options: AuditLogOptions = {}, file = freshLog()): string {
  const log = AuditLog.open(file, options);
  for (let index = 1; index <= count; index++) log.append({ type: "note", index, note: `record ${index}` });
  log.close();
  return file;
}

/** The log's lines, without the final line break. */
export function lines(file: string): string[] {
  return readFileSync(file, "utf8").trimEnd().split("\n");
}

/** The log's records. */
export function records(file: string): AuditRecord[] {
  return lines(file).map((line) => JSON.parse(line) as AuditRecord);
}

/** Replaces the log's lines. */
export function writeLines(file: string, text: readonly string[]): void {
  writeFileSync(file, text.length === 0 ? "" : `${text.join("\n")}\n`);
}

/** Runs `plantwire audit <args>` in this process and keeps what it printed. */
export async function audit(...args: string[]) {
  const io = captureIo();
  const code = await runCli(["audit", ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** A key file readable by its owner only. */
export function keyFile(
  folder: string,
  text = "3f1c9a0e6b8d4f2a7c5e9b1d3f6a8c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f1a",
): string {
  const file = join(folder, "audit.key");
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  return file;
}

/** The AuditError `run` throws; fails the test when it throws anything else or nothing. */
export function auditErrorOf(run: () => unknown): AuditError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(AuditError.isInstance(caught), String(caught)).toBe(true);
  return caught as AuditError;
}
