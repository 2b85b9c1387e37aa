/**
 * `plantwire serve` on a site folder as a newcomer makes it: nothing in it but the site file (and then the users
 * file). The real CLI in a child process: a missing users file is refused naming the exact command that adds the first
 * person, that command works on the fresh folder, serve then starts, makes its audit's folder and approvals folder,
 * answers /healthz and logs the person in; a state path that cannot be made is named with its field and fix, never as
 * a bare ENOENT, EEXIST or ENOTDIR, and a refused start leaves the folder as it was.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { verifyAuditLog } from "plantwire";
import { addUserToFile } from "plantwire/serve";
import { waitFor } from "plantwire/testing";
import { afterAll, describe, expect, it } from "vitest";
import { password, ServeClient } from "./serve-fixture.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "plantwire-serve-fresh-"));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

/** A new folder holding only a site file whose state lives in ./.plantwire (users where `users` says). */
function freshSite(name: string, users: string, audit = "./.plantwire/audit.jsonl"): string {
  const folder = join(scratch, name);
  mkdirSync(folder);
  const siteFile = join(folder, "site.yaml");
  writeFileSync(
    siteFile,
    [
      `site: ${name}`,
      "adapters:",
      "  plc: { kind: memory, values: { speed: 1200 } }",
      "tags:",
      "  speed: { type: float, unit: rpm, source: { adapter: plc, key: speed }, write: { range: [600, 1500] } }",
      `guard: { audit: ${audit}, approvals: ./.plantwire/approvals, mode: approval }`,
      `serve: { listen: "127.0.0.1:0", users: ${users} }`,
      "",
    ].join("\n"),
  );
  return siteFile;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `plantwire <args>` to its end, with `stdin` piped in. */
function plantwire(args: string[], stdin = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], {
      cwd: root,
      stdio: "pipe",
      env: { ...process.env, PLANTWIRE_LOG: "warn" },
    });
    children.push(child);
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

/** Starts `plantwire serve --site <siteFile>`, waits for its address, and returns it with a stop that expects exit 0. */
async function serve(siteFile: string): Promise<{ url: string; stop(): Promise<Run> }> {
  const child = spawn(process.execPath, ["--import", "tsx", bin, "serve", "--site", siteFile], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PLANTWIRE_LOG: "warn" },
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const listening = /listening on (http:\/\/\S+)/;
  const started = await waitFor(() => listening.test(stdout) || child.exitCode !== null, 30_000);
  expect(started && listening.test(stdout), `serve did not start:\n${stdout}\n${stderr}`).toBe(true);
  return {
    url: listening.exec(stdout)?.[1] as string,
    async stop() {
      child.kill("SIGTERM");
      const code = await exited;
      return { code, stdout, stderr };
    },
  };
}

describe("plantwire serve on a fresh site folder", { timeout: 120_000 }, () => {
  it("refuses to start without a users file, naming the command that adds the first person, which then works", async () => {
    const siteFile = freshSite("no-users", "./.plantwire/users.json");
    const folder = join(siteFile, "..");

    const refused = await plantwire(["serve", "--site", siteFile]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain("serve.users");
    expect(refused.stderr).toContain(join(folder, ".plantwire", "users.json"));
    expect(refused.stderr).toContain(
      `Fix: add the first person: plantwire users add <name> --role operator --site ${siteFile}`,
    );
    expect(refused.stderr).not.toMatch(/ENOENT|EEXIST|ENOTDIR|\n\s+at /);
    // A refused start creates nothing: the folder is as the newcomer left it.
    expect(readdirSync(folder)).toEqual(["site.yaml"]);

    // The fix as printed, on the fresh folder: `users add` makes ./.plantwire (owner only) for the users file.
    const added = await plantwire(
      ["users", "add", "ada", "--role", "operator", "--password-stdin", "--site", siteFile],
      `${password}\n`,
    );
    expect(added.code, added.stderr).toBe(0);
    const usersFile = join(folder, ".plantwire", "users.json");
    expect(existsSync(usersFile)).toBe(true);
    if (process.platform !== "win32") {
      expect(statSync(usersFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(folder, ".plantwire")).mode & 0o077).toBe(0);
    }

    const running = await serve(siteFile);
    const health = await new ServeClient(running.url).get("/healthz");
    expect(health).toMatchObject({ status: 200, body: { ok: true, site: "no-users", guard: { audit: "ok" } } });
    const ada = await ServeClient.login(running.url, "ada");
    expect((await ada.get("/api/session")).body).toMatchObject({ user: "ada", role: "operator" });
    const stopped = await running.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
  });

  it("starts on a folder holding only the site file and its users file, making the audit's and approvals folders", async () => {
    const siteFile = freshSite("only-site", "./users.json");
    const folder = join(siteFile, "..");
    await addUserToFile(join(folder, "users.json"), {
      name: "olga",
      role: "operator",
      password,
      scrypt: { N: 2 ** 10, r: 8, p: 1 },
    });
    expect(readdirSync(folder).sort()).toEqual(["site.yaml", "users.json"]);

    const running = await serve(siteFile);
    const health = await new ServeClient(running.url).get("/healthz");
    expect(health).toMatchObject({ status: 200, body: { ok: true, site: "only-site", guard: { audit: "ok" } } });
    const audit = join(folder, ".plantwire", "audit.jsonl");
    expect(existsSync(audit)).toBe(true);
    expect(statSync(join(folder, ".plantwire", "approvals")).isDirectory()).toBe(true);
    await ServeClient.login(running.url, "olga");

    const stopped = await running.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).not.toMatch(/ENOENT|\.lock/);
    // The chain the fresh audit started holds the login and verifies.
    const verified = verifyAuditLog(audit);
    expect(verified.ok).toBe(true);
    expect(verified.records).toBeGreaterThan(0);
  });

  it("names guard.audit and guard.approvals with a fix when their folders cannot be made, creating nothing", async () => {
    const siteFile = freshSite("blocked", "./users.json", "./state/audit.jsonl");
    const folder = join(siteFile, "..");
    // Files where the state folders would go: the audit's folder `state` and the approvals' parent `.plantwire`.
    writeFileSync(join(folder, "state"), "");
    writeFileSync(join(folder, ".plantwire"), "");
    await addUserToFile(join(folder, "users.json"), {
      name: "olga",
      role: "operator",
      password,
      scrypt: { N: 2 ** 10, r: 8, p: 1 },
    });
    const before = readdirSync(folder).sort();

    const refused = await plantwire(["serve", "--site", siteFile]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain(`Invalid configuration in ${siteFile} (2 problems)`);
    expect(refused.stderr).toMatch(
      /guard\.audit: cannot make the audit's folder .*state is a file, not a folder\. Fix: /,
    );
    expect(refused.stderr).toMatch(
      /guard\.approvals: cannot make the approvals folder .*\.plantwire is a file, not a folder\. Fix: /,
    );
    expect(refused.stderr).not.toMatch(/ENOENT|EEXIST|ENOTDIR|\n\s+at /);
    expect(readdirSync(folder).sort()).toEqual(before);
  });

  it("names serve.tls.cert and serve.tls.key with a fix when their files are missing", async () => {
    const siteFile = freshSite("no-tls-files", "./users.json");
    const folder = join(siteFile, "..");
    writeFileSync(
      siteFile,
      `${readFileSync(siteFile, "utf8")}`.replace(
        "users: ./users.json",
        "users: ./users.json, tls: { cert: ./tls/console.crt, key: ./tls/console.key }",
      ),
    );
    await addUserToFile(join(folder, "users.json"), {
      name: "olga",
      role: "operator",
      password,
      scrypt: { N: 2 ** 10, r: 8, p: 1 },
    });

    const refused = await plantwire(["serve", "--site", siteFile]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain(
      `serve.tls.cert: there is no file at ${join(folder, "tls", "console.crt")}. Fix: `,
    );
    expect(refused.stderr).toContain(`serve.tls.key: there is no file at ${join(folder, "tls", "console.key")}. Fix: `);
    expect(refused.stderr).not.toMatch(/ENOENT|\n\s+at /);
    expect(readdirSync(folder).sort()).toEqual(["site.yaml", "users.json"]);
  });
});
