/**
 * What the serve tests share: the plant simulator on free ports, a site folder made from examples/serve-site (its
 * loops module, the simulator's tag map) with users of each role, and a small HTTP client that logs in like the
 * console does (session cookie + CSRF header) or sends an API token like the CLI.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { addToken, addUser } from "../../src/serve/auth/users-changes.js";
import { emptyUsersFile, writeUsersFile } from "../../src/serve/auth/users-file.js";
import { type PlantSimulator, startPlantSimulator } from "../../src/sim/plant-simulator.js";

const exampleFolder = fileURLToPath(new URL("../../examples/serve-site/", import.meta.url));
const tagMap = fileURLToPath(new URL("../../tag-maps/pump-station/modbus.yaml", import.meta.url));

/** An answer's JSON: many shapes, each checked by the assertions that read it. */
// biome-ignore lint/suspicious/noExplicitAny: JSON of several shapes; the tests' assertions check each
export type Json = any;

/** A password long enough for the users file's rules. */
export const password = "correct horse battery staple";

/** A site folder on a running simulator. */
export interface ServeSite {
  readonly folder: string;
  readonly siteFile: string;
  readonly audit: string;
  readonly approvals: string;
  readonly usersFile: string;
  readonly simulator: PlantSimulator;
  /** API tokens by user name. */
  readonly tokens: Readonly<Record<string, string>>;
  /** The site file's text, to change and write back for reloads. */
  readonly siteText: string;
  cleanup(): Promise<void>;
}

/** Starts the simulator (Modbus only, fast ticks) and writes a site for it with alice, vera, erin and a token each. */
export async function serveSite(options: { loops?: boolean; writePolicy?: string } = {}): Promise<ServeSite> {
  const simulator = await startPlantSimulator({
    modbus: { port: 0 },
    opcua: false,
    mqtt: false,
    historian: false,
    tickMs: 200,
    speedup: 5,
  });
  const folder = mkdtempSync(join(tmpdir(), "plantwire-serve-"));
  const example = readFileSync(join(exampleFolder, "site.yaml"), "utf8");
  let tags = tagMap;
  if (options.writePolicy) {
    // The station's tag map with another write policy for the speed setpoint (e.g. two people must approve).
    tags = join(folder, "tags.yaml");
    const policy = "write: { range: [ 600, 1500 ], maxStep: 100, minIntervalMs: 10000, approval: required }";
    const original = readFileSync(tagMap, "utf8");
    if (!original.includes(policy)) throw new Error("the station's tag map changed: update serve-fixture.ts");
    writeFileSync(tags, original.replace(policy, `write: ${options.writePolicy}`));
  }
  const siteText = example
    .replace(/modbus\+tcp:\/\/127\.0\.0\.1:5020/, simulator.urls.modbus as string)
    .replace("../../tag-maps/pump-station/modbus.yaml", tags)
    .replace("./loops.ts", join(exampleFolder, "loops.ts"))
    .replace('listen: "127.0.0.1:8470"', 'listen: "127.0.0.1:0"')
    .replace(/^loops:.*$/m, options.loops === false ? "" : "$&");
  const siteFile = join(folder, "site.yaml");
  writeFileSync(siteFile, siteText);
  const usersFile = join(folder, ".plantwire", "users.json");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(folder, ".plantwire"), { recursive: true });
  let users = emptyUsersFile;
  const scrypt = { N: 2 ** 10, r: 8, p: 1 };
  for (const [name, role] of [
    ["alice", "operator"],
    ["bob", "operator"],
    ["vera", "viewer"],
    ["erin", "engineer"],
  ] as const) {
    users = await addUser(users, { name, role, password, scrypt });
  }
  const tokens: Record<string, string> = {};
  for (const name of ["alice", "bob", "vera"]) {
    const made = addToken(users, name, "tests");
    users = made.content;
    tokens[name] = made.token;
  }
  writeUsersFile(usersFile, users);
  return {
    folder,
    siteFile,
    audit: join(folder, ".plantwire", "audit.jsonl"),
    approvals: join(folder, ".plantwire", "approvals"),
    usersFile,
    simulator,
    tokens,
    siteText,
    async cleanup() {
      await simulator.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** One HTTP answer. */
export interface Answer {
  readonly status: number;
  readonly body: Json;
  readonly headers: Headers;
}

/** A client of one serve: anonymous, logged in (cookie + CSRF) or with a bearer token. */
export class ServeClient {
  cookie: string | undefined;
  csrf: string | undefined;
  constructor(
    readonly base: string,
    readonly token?: string,
  ) {}

  async request(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...extra };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrf && method !== "GET" && !("x-csrf-token" in extra)) headers["x-csrf-token"] = this.csrf;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: response.status, body: parsed, headers: response.headers };
  }

  get = (path: string) => this.request("GET", path);
  post = (path: string, body?: unknown, extra?: Record<string, string>) => this.request("POST", path, body, extra);

  /** Logs in as the console does; throws when refused. */
  static async login(base: string, user: string): Promise<ServeClient> {
    const client = new ServeClient(base);
    const answer = await client.post("/api/login", { user, password });
    if (answer.status !== 200)
      throw new Error(`login of ${user} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    client.cookie = (answer.headers.get("set-cookie") ?? "").split(";")[0];
    client.csrf = answer.body.csrf;
    return client;
  }
}

/** Reads the audit's records. */
export function auditRecords(file: string): Record<string, Json>[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** Reads server-sent events from `path` until `until` returns true for one (or `timeoutMs` passes). */
export async function readEvents(
  base: string,
  client: ServeClient,
  until: (event: string, data: Json) => boolean,
  timeoutMs = 20_000,
): Promise<{ event: string; data: Json }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const seen: { event: string; data: Json }[] = [];
  try {
    const response = await fetch(`${base}/api/events`, {
      headers: {
        ...(client.cookie ? { cookie: client.cookie } : {}),
        ...(client.token ? { authorization: `Bearer ${client.token}` } : {}),
      },
      signal: controller.signal,
    });
    if (response.status !== 200 || !response.body) throw new Error(`events: ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!event || data === undefined) continue;
        const parsed = JSON.parse(data);
        seen.push({ event, data: parsed });
        if (until(event, parsed)) return seen;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return seen;
}
