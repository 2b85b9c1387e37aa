/**
 * What only a real process shows: a reader that closes the pipe early (`| head -1`), SIGTERM from systemd or a
 * container, and output that is not a terminal. Each test runs the real executable in a child process.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AuditLog } from "plantwire";
import { startBroker } from "plantwire/mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { cliCommandLine, removeFolders, startCli, temporaryFolder } from "./cli-child.js";

afterAll(removeFolders);

/** A site with one memory adapter, so `watch` has something to read without a device. */
function memorySite(): string {
  const file = join(temporaryFolder(), "site.yaml");
  writeFileSync(
    file,
    "adapters:\n  plc: { kind: memory, values: { speed: 1200 } }\n" +
      "tags:\n  speed: { type: float, unit: rpm, source: { adapter: plc, key: speed } }\n",
  );
  return file;
}

/** An audit log long enough that `audit show` fills a pipe many times over. */
function longAuditLog(records: number): string {
  const file = join(temporaryFolder(), "audit.jsonl");
  const log = AuditLog.open(file);
  log.appendBatch(
    Array.from({ length: records }, (_, index) => ({ type: "note", note: `note ${index} ${"x".repeat(120)}` })),
  );
  log.close();
  return file;
}

/** Reads the child's output until `lines` lines have come, then closes the pipe, as `head -n <lines>` does. */
async function closeAfterLines(child: ReturnType<typeof startCli>, lines: number): Promise<void> {
  await child.waitFor(new RegExp(`^(?:[^\\n]*\\n){${lines}}`));
  child.process.stdout?.destroy();
}

describe("output piped into a reader that stops early", () => {
  it("audit show ends quietly with its own exit code when the reader closes the pipe", async () => {
    const file = longAuditLog(3000);
    const child = startCli(["audit", "show", file, "--last", "0"]);
    await closeAfterLines(child, 1);
    const { code, signal } = await child.exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(child.stderr()).not.toMatch(/EPIPE|Error/);
    expect(child.stderr()).toBe("");
  });

  it("watch stops, closes its site and exits 0 when the reader closes the pipe", async () => {
    const child = startCli(["watch", "--site", memorySite(), "--interval-ms", "100"]);
    await closeAfterLines(child, 2);
    const { code, signal } = await child.exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(child.stderr()).toBe("");
  });
});

describe("SIGTERM is handled like Ctrl+C", () => {
  it("watch stops cleanly on SIGTERM and on SIGINT", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const child = startCli(["watch", "--site", memorySite(), "--interval-ms", "100"]);
      await child.waitFor("speed");
      child.process.kill(signal);
      const ended = await child.exited;
      expect(ended, signal).toEqual({ code: 0, signal: null });
      expect(child.stderr()).toBe("");
    }
  });

  it("mqtt broker closes and exits 0 on SIGTERM", async () => {
    const child = startCli(["mqtt", "broker", "--port", "0"]);
    await child.waitFor("listening on");
    child.process.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it("mqtt watch disconnects and exits 0 on SIGTERM", async () => {
    const broker = await startBroker({ port: 0 });
    try {
      const { connectAsync } = await import("mqtt");
      const device = await connectAsync(broker.url);
      // Retained, so the watcher gets it whenever it subscribes: its line shows the watcher is reading.
      await device.publishAsync("plantwire-cli-test/a", "hello", { qos: 1, retain: true });
      await device.endAsync();
      const child = startCli(["mqtt", "watch", broker.url, "plantwire-cli-test/#"]);
      await child.waitFor("plantwire-cli-test/a  hello");
      child.process.kill("SIGTERM");
      expect(await child.exited).toEqual({ code: 0, signal: null });
    } finally {
      await broker.close();
    }
  });

  it("run lets a glue script's shutdown handlers close everything on SIGTERM", async () => {
    const folder = temporaryFolder();
    const script = join(folder, "glue.ts");
    const plantwire = new URL("../../src/index.ts", import.meta.url).href;
    const testing = new URL("../../src/testing/index.ts", import.meta.url).href;
    writeFileSync(
      script,
      `import { createPlant, defineTags, float, shutdownOnSignals } from ${JSON.stringify(plantwire)};
import { memoryAdapter } from ${JSON.stringify(testing)};
const plc = memoryAdapter({ name: "plc", values: { speed: 1 } });
const plant = createPlant({ tags: defineTags({ speed: float({ source: plc.key("speed") }) }) });
const work = setInterval(() => {}, 1000); // work that runs until the script is stopped
shutdownOnSignals({ loops: [], plant, also: [{ close: () => clearInterval(work) }], log: (line) => console.log(line) });
console.log("running");
`,
    );
    const child = startCli(["run", script]);
    await child.waitFor("running");
    child.process.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.stdout()).toContain("SIGTERM: stopping");
  });
});

describe("watch on a pipe", () => {
  it("appends each table with its time and no terminal control sequences", async () => {
    const child = startCli(["watch", "--site", memorySite(), "--interval-ms", "100", "--count", "3"]);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const out = child.stdout();
    expect(out.match(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/gm)).toHaveLength(3);
    expect(out.match(/^speed\s+1200\s+rpm\s+good/gm)).toHaveLength(3);
    expect(out).not.toContain("\u001b");
  });
});

// util-linux `script` runs a command on a pseudo-terminal: the real test of what a terminal gets.
const hasScript = spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;

describe.skipIf(!hasScript)(
  `watch on a terminal${hasScript ? "" : " (skipped: no util-linux script to make one)"}`,
  () => {
    it("redraws the table in place: cursor home, each line cleared, the rest of the screen cleared", () => {
      const command = cliCommandLine(["watch", "--site", memorySite(), "--interval-ms", "100", "--count", "3"]);
      const cwd = new URL("../..", import.meta.url).pathname;
      const run = spawnSync("script", ["-qfec", command, "/dev/null"], { cwd, encoding: "utf8", timeout: 60_000 });
      expect(run.status).toBe(0);
      const frames = run.stdout.split("\u001b[H").slice(1);
      expect(frames).toHaveLength(3);
      for (const frame of frames) {
        expect(frame).toMatch(/speed\s+1200\s+rpm\s+good/);
        expect(frame.endsWith("\u001b[J") || frame.endsWith("\u001b[J\r\n")).toBe(true);
      }
      expect(run.stdout).not.toMatch(/\d{4}-\d\d-\d\dT/);
    });
  },
);
