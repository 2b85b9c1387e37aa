/**
 * The users file and `plantwire users` against a careless or hostile local user: scrypt parameters that cost
 * gigabytes, a folder anyone may write to, a FIFO in the file's place, sudo rewriting the file, and a password typed
 * where the terminal would echo it (the real CLI on a real pty).
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { hashProblem, verifyPassword } from "../../src/serve/auth/password-hash.js";
import { createServeAuth } from "../../src/serve/auth/serve-auth.js";
import { addUser, removeUser } from "../../src/serve/auth/users-changes.js";
import { parseUsersFile, readUsersFile, type UsersFile, writeUsersFile } from "../../src/serve/auth/users-file.js";

const passwords = { ada: "amber river lantern" };
const folder = mkdtempSync(join(tmpdir(), "plantwire-auth-local-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));
/** util-linux `script` gives the CLI a real terminal (a pty), as when a person types at it. */
const hasScript = process.platform === "linux" && spawnSync("script", ["--version"]).status === 0;

/**
 * Runs `plantwire <args>` on a terminal; `answers` are typed, each after the output shows its prompt. The output is
 * everything the terminal showed (with echo, were it on).
 */
function onTerminal(args: string[], answers: { after: string; type: string }[] = []) {
  const command = [process.execPath, "--import", "tsx", bin, ...args].map((part) => `'${part}'`).join(" ");
  return new Promise<{ code: number | null; shown: string }>((resolve) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: repo, stdio: ["pipe", "pipe", "pipe"] });
    let shown = "";
    let seen = 0; // how much of the output the prompts were looked for in
    const pending = [...answers];
    child.stdout.on("data", (chunk) => {
      shown += chunk;
      const next = pending[0];
      const at = next ? shown.indexOf(next.after, seen) : -1;
      if (next && at >= 0) {
        seen = at + next.after.length;
        pending.shift();
        child.stdin.write(next.type);
      }
    });
    // A command that waits on the terminal for ever is ended; its exit code then says it hung.
    const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, shown });
    });
  });
}

describe.skipIf(!hasScript)(
  "plantwire users on a terminal (needs util-linux script for a pty)",
  { timeout: 90_000 },
  () => {
    it("asks the password twice without echo, and never shows it", async () => {
      const file = join(mkdtempSync(join(folder, "tty-")), "users.json");
      const secret = "granite orchard compass";
      const run = await onTerminal(
        ["users", "add", "bob", "--role", "operator", "--file", file],
        [
          { after: "Password: ", type: `${secret}\r` },
          { after: "Password again: ", type: `${secret}\r` },
        ],
      );
      expect(run.code).toBe(0);
      expect(run.shown).toContain("Added bob (operator)");
      expect(run.shown).not.toContain("granite");
      const bob = readUsersFile(file).users.find((user) => user.name === "bob");
      expect(bob && (await verifyPassword(secret, bob.password))).toBe(true);
    });

    it("refuses --password-stdin when standard input is a terminal, which would echo the password", async () => {
      const file = join(mkdtempSync(join(folder, "tty-")), "users.json");
      const run = await onTerminal(["users", "add", "carl", "--password-stdin", "--file", file]);
      expect(run.code).toBe(2);
      expect(run.shown).toContain("leave out --password-stdin");
      expect(() => statSync(file)).toThrow();
    });
  },
);

describe("users files that attack the reader", { timeout: 60_000 }, () => {
  const base = (): UsersFile => ({ version: 1, users: [], tokens: [] });

  it("refuses scrypt parameters that would cost gigabytes or minutes per login", async () => {
    const content = await addUser(base(), {
      name: "ada",
      role: "operator",
      password: passwords.ada,
      scrypt: { N: 1024, r: 8, p: 1 },
    });
    const user = content.users[0];
    if (!user) throw new Error("no user");
    const greedy = { ...user.password, N: 2 ** 20, r: 32 }; // 4 GB per check, eight at once
    expect(hashProblem(greedy)).toMatch(/MB per check/);
    expect(hashProblem({ ...user.password, N: 2 ** 17, r: 16, p: 16 })).toMatch(/work/);
    expect(() => parseUsersFile({ ...content, users: [{ ...user, password: greedy }] })).toThrow(/users\.0\.password/);
    expect(hashProblem({ ...user.password, N: 2 ** 14, r: 8, p: 5 })).toBeUndefined();
    expect(hashProblem({ ...user.password, N: 2 ** 17, r: 8, p: 1 })).toBeUndefined();
  });

  it("refuses a users file in a folder anyone may write to, where another user could plant their own", async () => {
    if (process.platform === "win32") return;
    const shared = mkdtempSync(join(folder, "shared-"));
    chmodSync(shared, 0o1777);
    const file = join(shared, "users.json");
    const content = await addUser(base(), {
      name: "ada",
      role: "operator",
      password: passwords.ada,
      scrypt: { N: 1024, r: 8, p: 1 },
    });
    expect(() => writeUsersFile(file, content)).toThrow(/writable by anyone/);
    chmodSync(shared, 0o700);
    writeUsersFile(file, content);
    chmodSync(shared, 0o1777);
    expect(() => readUsersFile(file)).toThrow(/writable by anyone/);
    expect(() => createServeAuth({ usersFile: file, secure: false })).toThrow(/writable by anyone/);
    // A link from a safe folder into the shared one is refused too.
    const safe = mkdtempSync(join(folder, "safe-"));
    symlinkSync(file, join(safe, "users.json"));
    expect(() => readUsersFile(join(safe, "users.json"))).toThrow(/writable by anyone/);
  });

  it("keeps the owner of a users file when root rewrites it, so serve can still read the change", async () => {
    if (process.platform === "win32" || process.getuid?.() !== 0) {
      // Giving a file to another user needs root; the point is an engineer's `sudo plantwire users …`.
      expect(process.getuid?.() ?? 0).not.toBe(0);
      return;
    }
    const file = join(mkdtempSync(join(folder, "owner-")), "users.json");
    const content = await addUser(base(), {
      name: "ada",
      role: "operator",
      password: passwords.ada,
      scrypt: { N: 1024, r: 8, p: 1 },
    });
    writeUsersFile(file, content);
    chownSync(file, 65534, 65534); // the service user
    writeUsersFile(file, removeUser(content, "ada"));
    const stats = statSync(file);
    expect([stats.uid, stats.gid]).toEqual([65534, 65534]);
    expect(stats.mode & 0o777).toBe(0o600);
  });

  it("refuses a FIFO put where the users file belongs instead of hanging (CLI and serve)", async () => {
    if (process.platform === "win32") return;
    const file = join(mkdtempSync(join(folder, "fifo-")), "users.json");
    await new Promise<void>((resolve, reject) =>
      spawn("mkfifo", ["-m", "600", file]).on("close", (code) =>
        code === 0 ? resolve() : reject(new Error("mkfifo")),
      ),
    );
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", bin, "users", "list", "--file", file], {
        cwd: repo,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      // A reader that blocks on the FIFO never exits on its own: end it and report.
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("not a regular file");
    expect(() => createServeAuth({ usersFile: file, secure: false })).toThrow(/not a regular file/);
  });
});
