/**
 * The logger option: levels from PLANTWIRE_LOG, one line per failure, and the logger handed to the plant, an adapter
 * (over a real Modbus TCP socket to the simulator), the guard and a loop receiving their debug lines.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConnectionError,
  createGuard,
  createLoop,
  createPlant,
  defineTags,
  environmentLogger,
  errorLine,
  float,
  type Logger,
  logFailure,
  onEvent,
  resolveLogger,
  silentLogger,
} from "plantwire";
import { modbus, startModbusSimulator } from "plantwire/modbus";
import { sql } from "plantwire/sql";
import { waitFor } from "plantwire/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";

/** A logger that keeps every line with its level. */
function recordingLogger() {
  const lines: { level: keyof Logger; message: string }[] = [];
  const at = (level: keyof Logger) => (message: string) => void lines.push({ level, message });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  const of = (level: keyof Logger) => lines.filter((line) => line.level === level).map((line) => line.message);
  return { logger, lines, of };
}

const folder = mkdtempSync(join(tmpdir(), "plantwire-logger-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("environmentLogger", () => {
  const written = (env: Record<string, string | undefined>) => {
    const out: string[] = [];
    const logger = environmentLogger({ env, write: (line) => void out.push(line) });
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    return out;
  };

  it("prints from info up by default, everything with PLANTWIRE_LOG=debug, nothing when silent", () => {
    expect(written({})).toEqual(["[plantwire] info: i\n", "[plantwire] warn: w\n", "[plantwire] error: e\n"]);
    expect(written({ PLANTWIRE_LOG: "debug" })).toHaveLength(4);
    expect(written({ PLANTWIRE_LOG: " ERROR " })).toEqual(["[plantwire] error: e\n"]);
    expect(written({ PLANTWIRE_LOG: "silent" })).toEqual([]);
  });

  it("names a PLANTWIRE_LOG that is not a level, and keeps the default", () => {
    const out = written({ PLANTWIRE_LOG: "verbose-please" });
    expect(out[0]).toMatch(/PLANTWIRE_LOG="verbose-please" is not a level\. Fix: use debug, info/);
    expect(out.slice(1)).toEqual(["[plantwire] info: i\n", "[plantwire] warn: w\n", "[plantwire] error: e\n"]);
  });
});

describe("failures as one line", () => {
  it("puts a nested error on one error line, and its stack and causes at debug only", () => {
    const root = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const error = new ConnectionError("the device did not answer.\nFix: check the cable", {
      cause: new TypeError("fetch failed", { cause: root }),
    });
    const { logger, of } = recordingLogger();
    logFailure(logger, 'loop "advisor"', error);
    expect(of("error")).toEqual([`loop "advisor": the device did not answer. Fix: check the cable [PW_CONNECTION]`]);
    expect(of("error")[0]).not.toContain("\n");
    expect(of("debug").join("\n")).toMatch(/ECONNREFUSED 127\.0\.0\.1:1[\s\S]*at /);
    expect(errorLine(root)).toBe("Error: connect ECONNREFUSED 127.0.0.1:1 (ECONNREFUSED)");
  });

  it("calls a given logger as a method, and a logger that throws does not throw into plantwire", () => {
    class Prefixed {
      lines: string[] = [];
      constructor(readonly prefix: string) {}
      debug(message: string) {
        this.lines.push(`${this.prefix} ${message}`);
      }
      info(message: string) {
        this.debug(message);
      }
      warn(message: string) {
        this.debug(message);
      }
      error(): void {
        throw new Error("logger broke");
      }
    }
    const given = new Prefixed("app:");
    const logger = resolveLogger(given);
    logger.info("hello");
    expect(given.lines).toEqual(["app: hello"]);
    expect(() => logger.error("x")).not.toThrow();
    expect(resolveLogger(given)).toBe(logger);
    expect(() => silentLogger.error("nothing")).not.toThrow();
  });
});

describe("the logger passed in receives debug lines", () => {
  async function station(options: { plantLogger?: Logger; adapterLogger?: Logger }) {
    const simulator = await startModbusSimulator();
    const drive = modbus({
      url: simulator.url,
      name: "drive",
      timeoutMs: 500,
      ...(options.adapterLogger ? { logger: options.adapterLogger } : {}),
    });
    const tags = defineTags({
      speed: float({
        unit: "rpm",
        range: [0, 1800],
        source: drive.holding(0, "uint16"),
        write: { range: [0, 1500], minIntervalMs: 0, approval: "automatic" },
      }),
    });
    const plant = createPlant({ tags, ...(options.plantLogger ? { logger: options.plantLogger } : {}) });
    cleanups.push(
      () => simulator.close(),
      () => plant.close(),
    );
    return { plant, simulator };
  }

  it("hands the plant's logger to an adapter made without one (real Modbus TCP)", async () => {
    const { logger, of } = recordingLogger();
    const { plant } = await station({ plantLogger: logger });
    expect((await plant.read()).sample("speed").quality).toBe("good");
    const debug = of("debug").join("\n");
    expect(debug).toContain('adapter "drive" (modbus): connecting');
    expect(debug).toMatch(/Modbus adapter "drive": connected/);
  });

  it("keeps an adapter's own logger over the plant's, and reports the lost link at debug, not as noise", async () => {
    const own = recordingLogger();
    const plantLog = recordingLogger();
    const { plant, simulator } = await station({ plantLogger: plantLog.logger, adapterLogger: own.logger });
    await plant.read();
    await simulator.close();
    const refused = (await plant.read()).sample("speed");
    expect(refused.quality).toBe("bad");
    expect(own.of("debug").join("\n")).toMatch(
      /Modbus adapter "drive": connected[\s\S]*Modbus adapter "drive": \w+ \(/,
    );
    expect(plantLog.of("debug").join("\n")).not.toMatch(/Modbus adapter "drive"/);
    expect(plantLog.of("debug").join("\n")).toContain('adapter "drive": connected');
    expect([...own.of("error"), ...plantLog.of("error")]).toEqual([]);
  });

  it("gives the guard and a loop the plant's logger, or their own", async () => {
    const plantLog = recordingLogger();
    const loopLog = recordingLogger();
    const { plant } = await station({ plantLogger: plantLog.logger });
    const guard = createGuard({
      plant,
      audit: join(folder, "audit-guard.jsonl"),
      mode: "automatic",
      deviceLocks: false,
    });
    cleanups.push(() => guard.close());
    const loop = createLoop(plant, {
      name: "nudger",
      logger: loopLog.logger,
      trigger: onEvent("manual only", () => () => {}),
      async run({ propose }) {
        await propose({ speed: 1200 }, { reason: "test" });
      },
      guard,
    });
    await loop.start();
    loop.trigger();
    await loop.idle();
    await loop.stop();
    expect(loopLog.of("debug").join("\n")).toMatch(/loop "nudger": run 1 started \(manual\)[\s\S]*run 1 finished/);
    expect(plantLog.of("debug").join("\n")).toMatch(/guard: proposal \S+ speed = 1200: \w+, from loop nudger/);
    expect(loopLog.of("error")).toEqual([]);
  });

  it("gives a SQL adapter's connection at debug and a failed background flush as one error line (SQLite)", async () => {
    const { logger, of } = recordingLogger();
    const db = sql({
      url: `sqlite:${join(folder, "sink.db")}`,
      name: "shift-log",
      templates: { notes: { table: "missing_notes", columns: ["text"] } },
      logger,
    });
    cleanups.push(() => db.close());
    await db.connect();
    const sink = db.sink("notes", { flushIntervalMs: 20 });
    sink.push({ text: "pump 7 started" });
    expect(await waitFor(() => of("error").length > 0, 10_000)).toBe(true);
    expect(of("debug").join("\n")).toMatch(/SQL adapter "shift-log": connected/);
    const [line] = of("error");
    expect(line).toMatch(/^sink "notes" flush: .*missing_notes/);
    expect(line).not.toContain("\n");
    expect(sink.pending).toBe(1);
    await sink.close().catch(() => {});
  });
});
