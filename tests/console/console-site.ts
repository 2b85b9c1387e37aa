/**
 * A served site for the console tests and bench: the plant simulator on free loopback ports, the example site of
 * examples/serve-site/ copied to a temp folder and pointed at it, a users file with one person per role, and the real
 * `plantwire serve` CLI running it in a child process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { addToken, addUserToFile } from "../../src/serve/auth/users-changes.js";
import { readUsersFile, writeUsersFile } from "../../src/serve/auth/users-file.js";
import { type PlantSimulator, startPlantSimulator } from "../../src/sim/plant-simulator.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "src/cli/bin.ts");
const example = join(root, "examples/serve-site");

/** The people of the test site: name, role and password. */
export const people = {
  operator: { name: "ada", role: "operator", password: "ada-operator-pass-1" },
  viewer: { name: "vic", role: "viewer", password: "vic-viewer-pass-12" },
  engineer: { name: "eve", role: "engineer", password: "eve-engineer-pass-1" },
  throttled: { name: "tom", role: "operator", password: "tom-operator-pass-1" },
  /** A second operator, for two-person tags. */
  second: { name: "bob", role: "operator", password: "bob-operator-pass-1" },
  /** The person an MCP client proposes for, with an API token (see `ServedSite.tokens`). */
  assistant: { name: "ash", role: "assistant", password: "ash-assistant-pass-1" },
} as const;

/** How the test site differs from the example. */
export interface ServedSiteOptions {
  readonly speedup?: number;
  /** false: no loops module, so only the test proposes. */
  readonly loops?: boolean;
  /** Another write policy for the speed setpoint, e.g. with `approvals: 2`. */
  readonly writePolicy?: string;
}

/** A running served site. */
export interface ServedSite {
  /** The console's address, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly simulator: PlantSimulator;
  readonly folder: string;
  /** An API token for each person, by name (the assistant's is what an MCP client sends). */
  readonly tokens: Readonly<Record<string, string>>;
  /** What serve printed so far (for failure messages). */
  output(): string;
  /** Stops serve (SIGTERM), then the simulator, and removes the folder. */
  stop(): Promise<void>;
}

/**
 * The example site file for a temp folder: the simulator's addresses, its tag map and loops module where
 * the example keeps them (the loops import "plantwire", resolved from the repository), and the audit, approvals and
 * users file in the temp folder.
 */
function siteText(text: string, simulator: PlantSimulator, options: ServedSiteOptions, folder: string): string {
  let site = options.loops === false ? text.replace(/^loops:.*$/m, "") : text;
  for (const [protocol, url] of Object.entries(simulator.urls)) {
    const scheme = protocol === "modbus" ? "modbus\\+tcp" : protocol === "opcua" ? "opc\\.tcp" : protocol;
    if (url) site = site.replace(new RegExp(`${scheme}://127\\.0\\.0\\.1:\\d+`, "g"), url);
  }
  site = site.replace(
    /^(tags|loops):\s*(\S+)\s*$/gm,
    (_, field: string, path: string) => `${field}: ${resolve(example, path)}`,
  );
  if (!options.writePolicy) return site;
  // The station's tag map with another write policy for the speed setpoint, in the temp folder.
  const tagMap = /^tags:\s*(\S+)\s*$/m.exec(site)?.[1] ?? "";
  const policy = "write: { range: [ 600, 1500 ], maxStep: 100, minIntervalMs: 10000, approval: required }";
  const original = readFileSync(tagMap, "utf8");
  if (!original.includes(policy)) throw new Error("the station's tag map changed: update console-site.ts");
  const tags = join(folder, "tags.yaml");
  writeFileSync(tags, original.replace(policy, `write: ${options.writePolicy}`));
  return site.replace(/^tags:.*$/m, `tags: ${tags}`);
}

/** Waits for serve's "listening on <url>" line, then for /healthz to answer; fails with its output if it exits. */
async function waitForServe(child: ChildProcess, output: () => string): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`plantwire serve exited with ${child.exitCode}:\n${output()}`);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1];
    const ok =
      url !== undefined &&
      (await fetch(`${url}/healthz`).then(
        (response) => response.ok,
        () => false,
      ));
    if (ok) return url;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`plantwire serve did not answer /healthz within 60 s:\n${output()}`);
}

/** Starts the simulator and `plantwire serve` on the example site. */
export async function startServedSite(options: ServedSiteOptions = {}): Promise<ServedSite> {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-console-"));
  const simulator = await startPlantSimulator({
    modbus: { port: 0 },
    opcua: false,
    mqtt: false,
    historian: false,
    tickMs: 200,
    speedup: options.speedup ?? 5,
  });
  let child: ChildProcess | undefined;
  let log = "";
  const stop = async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await simulator.close();
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    const siteFile = join(folder, "site.yaml");
    writeFileSync(siteFile, siteText(readFileSync(join(example, "site.yaml"), "utf8"), simulator, options, folder));
    // Where the example keeps its state (audit, approvals, users), made in the temp folder.
    const settings = parse(readFileSync(siteFile, "utf8")) as {
      guard?: { audit?: string };
      serve?: { users?: string };
    };
    const users = resolve(folder, settings.serve?.users ?? "users.json");
    for (const path of [users, resolve(folder, settings.guard?.audit ?? "audit.jsonl")]) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    }
    // Cheap scrypt: these passwords guard nothing, and every login in the tests pays the cost.
    for (const person of Object.values(people)) {
      await addUserToFile(users, { ...person, scrypt: { N: 2 ** 10, r: 8, p: 1 } });
    }
    let content = readUsersFile(users);
    const tokens: Record<string, string> = {};
    for (const person of Object.values(people)) {
      const made = addToken(content, person.name, "tests");
      content = made.content;
      tokens[person.name] = made.token;
    }
    writeUsersFile(users, content);
    child = spawn(process.execPath, ["--import", "tsx", bin, "serve", "--site", siteFile, "--listen", "127.0.0.1:0"], {
      // From the repository, where tsx maps "plantwire" (imported by the loops module) to the sources.
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      log += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString("utf8");
    });
    const url = await waitForServe(child, () => log);
    return { url, simulator, folder, tokens, output: () => log, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
