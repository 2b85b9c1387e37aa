/**
 * `plantwire users` as plant staff run it: the real CLI in a child process, the password piped in on standard input.
 * The file must end up mode 600 with only hashes in it, and neither the password nor a token may appear anywhere
 * but where a token is shown once.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tokenDigest } from "../../src/serve/auth/api-tokens.js";
import { verifyPassword } from "../../src/serve/auth/password-hash.js";
import { readUsersFile } from "../../src/serve/auth/users-file.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));
const folder = mkdtempSync(join(tmpdir(), "plantwire-users-cli-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `plantwire <args>` in its own process with `stdin` piped in. */
function plantwire(args: string[], stdin = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], { cwd: root, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const first = "granite orchard compass";
const second = "velvet thunder pebble";

describe("plantwire users", { timeout: 120_000 }, () => {
  it("adds, lists, changes the password of and removes a person, never showing or storing the password", async () => {
    const file = join(folder, "people.json");
    const added = await plantwire(
      ["users", "add", "ada", "--role", "operator", "--password-stdin", "--file", file],
      `${first}\n`,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/Added ada \(operator\)/);
    if (process.platform !== "win32") expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(first);
    const stored = readUsersFile(file).users[0]!;
    expect(stored).toMatchObject({ name: "ada", role: "operator" });
    expect(await verifyPassword(first, stored.password)).toBe(true);
    // A password read from a pipe loses its line break, and nothing else.
    expect(await verifyPassword(`${first}\n`, stored.password)).toBe(false);

    const viewer = await plantwire(["users", "add", "vic", "--password-stdin", "--file", file], second);
    expect(viewer.code, viewer.stderr).toBe(0);
    const list = await plantwire(["users", "list", "--file", file]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ada\s+operator\s/m);
    expect(list.stdout).toMatch(/^vic\s+viewer\s/m);
    const json = await plantwire(["users", "list", "--json", "--file", file]);
    expect(JSON.parse(json.stdout).map((user: { name: string }) => user.name)).toEqual(["ada", "vic"]);
    expect(json.stdout).not.toContain(stored.password.hash);

    const passwd = await plantwire(["users", "passwd", "ada", "--password-stdin", "--file", file], `${second}\n`);
    expect(passwd.code, passwd.stderr).toBe(0);
    const changed = readUsersFile(file).users.find((user) => user.name === "ada")!;
    expect(await verifyPassword(second, changed.password)).toBe(true);
    expect(await verifyPassword(first, changed.password)).toBe(false);

    const removed = await plantwire(["users", "remove", "vic", "--file", file]);
    expect(removed.code).toBe(0);
    expect(readUsersFile(file).users.map((user) => user.name)).toEqual(["ada"]);
    if (process.platform !== "win32") expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const run of [added, viewer, list, json, passwd, removed]) {
      expect(run.stdout + run.stderr).not.toContain(first);
      expect(run.stdout + run.stderr).not.toContain(second);
    }
  });

  it("refuses a short password, a taken name, an unknown user and an unknown role, changing nothing", async () => {
    const file = join(folder, "refusals.json");
    expect((await plantwire(["users", "add", "ada", "--password-stdin", "--file", file], first)).code).toBe(0);
    const before = readFileSync(file, "utf8");
    const short = await plantwire(["users", "add", "bob", "--password-stdin", "--file", file], "short1");
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/at least 12/);
    expect(short.stderr).not.toContain("short1");
    const taken = await plantwire(["users", "add", "ada", "--password-stdin", "--file", file], second);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/already a user "ada"/);
    const unknown = await plantwire(["users", "remove", "nobody", "--file", file]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no user "nobody"/);
    const role = await plantwire(
      ["users", "add", "bob", "--role", "admin", "--password-stdin", "--file", file],
      second,
    );
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/--role "admin" is not one of viewer, operator, engineer, assistant/);
    const noTerminal = await plantwire(["users", "add", "bob", "--file", file]);
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toMatch(/--password-stdin/);
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("refuses a users file its group or others can read, naming the fix", async () => {
    if (process.platform === "win32") return;
    const file = join(folder, "open.json");
    expect((await plantwire(["users", "add", "ada", "--password-stdin", "--file", file], first)).code).toBe(0);
    chmodSync(file, 0o644);
    const list = await plantwire(["users", "list", "--file", file]);
    expect(list.code).toBe(3);
    expect(list.stderr).toContain(`chmod 600 ${file}`);
  });

  it("prints a token once, stores only its SHA-256, and revokes it", async () => {
    const file = join(folder, "tokens.json");
    expect(
      (await plantwire(["users", "add", "ada", "--role", "operator", "--password-stdin", "--file", file], first)).code,
    ).toBe(0);
    const made = await plantwire(["users", "token", "ada", "--label", "mcp on panel-2", "--file", file]);
    expect(made.code, made.stderr).toBe(0);
    const token = made.stdout.trim();
    expect(token).toMatch(/^pwt_[A-Za-z0-9_-]{43}$/);
    expect(made.stderr).toMatch(/shown only this once/);
    expect(readFileSync(file, "utf8")).not.toContain(token.slice(4));
    const stored = readUsersFile(file).tokens;
    expect(stored).toEqual([
      expect.objectContaining({ user: "ada", sha256: tokenDigest(token), label: "mcp on panel-2" }),
    ]);
    const list = await plantwire(["users", "list", "--file", file]);
    expect(list.stdout).toContain(stored[0]!.id);
    expect(list.stdout).not.toContain(token);
    const revoked = await plantwire(["users", "token", "ada", "--revoke", "--file", file]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/Revoked 1 token of ada/);
    expect(readUsersFile(file).tokens).toEqual([]);
  });
});
