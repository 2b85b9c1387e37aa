/**
 * The users file's lock: a stale lock (left by a killed command) is taken over by exactly one waiting command, both
 * when two take-overs interleave in one process and when several real `node` processes find the same stale lock.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readUsersFile } from "../../src/serve/auth/users-file.js";
import { takeOverStaleLock } from "../../src/serve/auth/users-file-lock.js";

const root = mkdtempSync(join(tmpdir(), "plantwire-auth-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A lock file as a killed command leaves it: a minute old. */
function staleLock(folder: string): string {
  const lockFile = join(folder, "users.json.lock");
  writeFileSync(lockFile, "12345 killed\n", { mode: 0o600 });
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(lockFile, minuteAgo, minuteAgo);
  return lockFile;
}

describe("taking over a stale lock", () => {
  it("lets only the first of two waiters that saw the same stale lock take it over", () => {
    const folder = mkdtempSync(join(root, "interleaved-"));
    const lockFile = staleLock(folder);
    // Both waiters stat the stale lock before either acts.
    const seenByA = statSync(lockFile, { bigint: true });
    const seenByB = statSync(lockFile, { bigint: true });
    expect(takeOverStaleLock(lockFile, seenByA)).toBe(true);
    const descriptor = openSync(lockFile, "wx", 0o600);
    writeSync(descriptor, "A\n");
    closeSync(descriptor);
    // B comes second: the lock it saw is gone, and A's fresh lock must survive.
    expect(takeOverStaleLock(lockFile, seenByB)).toBe(false);
    expect(readFileSync(lockFile, "utf8")).toBe("A\n");
    expect(readdirSync(folder)).toEqual(["users.json.lock"]);
  });

  it("refuses a second take-over while the first one is under way", () => {
    const folder = mkdtempSync(join(root, "under-way-"));
    const lockFile = staleLock(folder);
    const seen = statSync(lockFile, { bigint: true });
    // The first waiter's marker, made exclusively, as it is between its checks.
    const marker = `${lockFile}.takeover-${seen.ino}-${seen.mtimeNs}`;
    writeFileSync(marker, "", { flag: "wx" });
    expect(takeOverStaleLock(lockFile, seen)).toBe(false);
    expect(readFileSync(lockFile, "utf8")).toBe("12345 killed\n");
    rmSync(marker);
    expect(takeOverStaleLock(lockFile, seen)).toBe(true);
    expect(existsSync(lockFile)).toBe(false);
  });

  it("keeps every change when several processes find the same stale lock at once", async () => {
    const folder = mkdtempSync(join(root, "processes-"));
    staleLock(folder);
    const file = join(folder, "users.json");
    const inside = join(folder, "inside");
    const overlaps = join(folder, "overlaps");
    const go = join(folder, "go");
    const source = (path: string) => JSON.stringify(resolve(path));
    // .mts: an ES module wherever the folder is, for the top-level awaits.
    const script = join(folder, "child.mts");
    writeFileSync(
      script,
      `import { appendFileSync, closeSync, existsSync, openSync, rmSync, writeFileSync } from "node:fs";
import { addUser } from ${source("src/serve/auth/users-changes.ts")};
import { updateUsersFile } from ${source("src/serve/auth/users-file-lock.ts")};
const name = process.argv[2];
writeFileSync(${JSON.stringify(folder)} + "/ready-" + name, "");
while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 10));
await updateUsersFile(${JSON.stringify(file)}, async (content) => {
  // Two holders at once would find the other's marker here.
  try { closeSync(openSync(${JSON.stringify(inside)}, "wx")); } catch { appendFileSync(${JSON.stringify(overlaps)}, name + "\\n"); }
  const changed = await addUser(content, { name, role: "viewer", password: "a long enough password", scrypt: { N: 1024, r: 8, p: 1 } });
  await new Promise((r) => setTimeout(r, 150));
  rmSync(${JSON.stringify(inside)}, { force: true });
  return { content: changed };
}, { allowMissing: true });
`,
    );
    const names = ["p1", "p2", "p3", "p4"];
    const children = names.map((name) =>
      spawn(process.execPath, ["--import", "tsx", script, name], {
        cwd: resolve("."),
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    const errors = children.map((child) => {
      let text = "";
      child.stderr.on("data", (chunk) => {
        text += String(chunk);
      });
      return () => text;
    });
    const exits = children.map((child) => once(child, "exit"));
    let exited = 0;
    for (const child of children) child.on("exit", () => exited++);
    // Until every child waits at the start line (one that failed before stops the wait; the checks below say why).
    while (exited === 0 && !names.every((name) => existsSync(join(folder, `ready-${name}`)))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    writeFileSync(go, "");
    const codes = (await Promise.all(exits)).map(([code]) => code);
    expect(errors.map((text) => text())).toEqual(names.map(() => ""));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(existsSync(overlaps)).toBe(false);
    expect(
      readUsersFile(file)
        .users.map((user) => user.name)
        .sort(),
    ).toEqual(names);
    // The lock is released and no take-over marker is left behind.
    expect(readdirSync(folder).filter((entry) => entry.startsWith("users.json."))).toEqual([]);
  }, 60_000);
});
