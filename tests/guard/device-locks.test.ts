/**
 * One writer per device (T21): the device lock file per device, refused while its holder lives (in this process or
 * another) and named in the refusal, taken over once the holder is gone, all-or-nothing over a guard's devices; each
 * adapter's device identity; and two guard processes on one Modbus device, where the second refuses to start.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ConfigError, defaultDeviceLockFolder, float, lockDevices, type TagSource } from "plantwire";
import { modbus, startModbusSimulator } from "plantwire/modbus";
import { mqtt, sparkplugHost } from "plantwire/mqtt";
import { opcua } from "plantwire/opcua";
import { sql } from "plantwire/sql";
import { memoryAdapter } from "plantwire/testing";
import { afterEach, describe, expect, it } from "vitest";
import { deviceLockFileName } from "../../src/guard/device-locks.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const childScript = fileURLToPath(new URL("../support/guard-lock-child.ts", import.meta.url));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function temporaryFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** A fresh lock folder inside a temporary folder (lockDevices creates it). */
function lockFolder(): string {
  return join(temporaryFolder("plantwire-device-locks-"), "locks");
}

/** The ConfigError a call throws; fails the test when it does not throw one. */
function refusalOf(call: () => unknown): ConfigError {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(ConfigError.isInstance(caught), String(caught)).toBe(true);
  return caught as ConfigError;
}

/** The pid of a process that has exited, so no process runs under it. */
function deadPid(): number {
  for (;;) {
    const run = spawnSync(process.execPath, ["-e", ""]);
    const pid = run.pid;
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
  }
}

function claimOf(folder: string, device: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(folder, deviceLockFileName(device)), "utf8")) as Record<string, unknown>;
}

describe("device locks in one process", () => {
  it("refuses a second lock on a device, naming the holder, and frees it on release", () => {
    const folder = lockFolder();
    const first = lockDevices(["modbus-tcp://10.0.0.20:502/unit/1"], { folder, holder: "the guard of a.jsonl" });
    const error = refusalOf(() =>
      lockDevices(["modbus-tcp://10.0.0.20:502/unit/1"], { folder, holder: "the guard of b.jsonl" }),
    );
    expect(error.message).toContain('device "modbus-tcp://10.0.0.20:502/unit/1" is written by another guard');
    expect(error.message).toContain(`process ${process.pid} (this process)`);
    expect(error.message).toContain("the guard of a.jsonl");
    expect(error.message).toContain(`on host ${hostname()}`);
    expect(error.issues[0]?.fix).toMatch(/stop that guard, or send proposals to it/);

    const claim = claimOf(folder, "modbus-tcp://10.0.0.20:502/unit/1");
    expect(claim).toMatchObject({
      device: "modbus-tcp://10.0.0.20:502/unit/1",
      pid: process.pid,
      host: hostname(),
      holder: "the guard of a.jsonl",
    });
    expect(typeof claim.user).toBe("string");
    expect(Number.isNaN(Date.parse(String(claim.since)))).toBe(false);

    first.release();
    expect(readdirSync(folder)).toEqual([]);
    const second = lockDevices(["modbus-tcp://10.0.0.20:502/unit/1"], { folder, holder: "the guard of b.jsonl" });
    expect(claimOf(folder, "modbus-tcp://10.0.0.20:502/unit/1").holder).toBe("the guard of b.jsonl");
    second.release();
  });

  it("takes all devices or none: a refused third device gives the first two back", () => {
    const folder = lockFolder();
    const other = lockDevices(["device c"], { folder, holder: "the other guard" });
    const error = refusalOf(() => lockDevices(["device a", "device b", "device c"], { folder, holder: "this guard" }));
    expect(error.message).toContain('device "device c"');
    expect(error.message).toContain("the other guard");
    expect(readdirSync(folder)).toEqual([deviceLockFileName("device c")]);
    // The two given back are free for anyone.
    const next = lockDevices(["device a", "device b"], { folder, holder: "a third guard" });
    expect(next.devices).toEqual(["device a", "device b"]);
    next.release();
    other.release();
  });

  it("locks each device once however many tags name it, and lists them sorted", () => {
    const folder = lockFolder();
    const locks = lockDevices(["b", "a", "b"], { folder, holder: "guard" });
    expect(locks.devices).toEqual(["a", "b"]);
    expect(readdirSync(folder).sort()).toEqual([deviceLockFileName("a"), deviceLockFileName("b")].sort());
    locks.release();
  });

  it("takes over a lock whose process no longer runs", () => {
    const folder = lockFolder();
    mkdirSync(folder, { recursive: true });
    const pid = deadPid();
    const stale = {
      device: "opc.tcp://plc1:4840",
      pid,
      host: hostname(),
      user: "plantwire",
      holder: "a guard that crashed",
      since: "2024-01-01T00:00:00.000Z",
      claim: "old",
    };
    writeFileSync(join(folder, deviceLockFileName(stale.device)), JSON.stringify(stale));
    const locks = lockDevices([stale.device], { folder, holder: "the new guard" });
    expect(claimOf(folder, stale.device)).toMatchObject({ pid: process.pid, holder: "the new guard" });
    expect(readdirSync(folder)).toEqual([deviceLockFileName(stale.device)]); // no drafts or moved files left
    locks.release();
    expect(existsSync(join(folder, deviceLockFileName(stale.device)))).toBe(false);
  });

  it("clears stale locks of other devices on the way, but not those of another host or of a running process", () => {
    const folder = lockFolder();
    mkdirSync(folder, { recursive: true });
    const write = (device: string, pid: number, host: string) =>
      writeFileSync(
        join(folder, deviceLockFileName(device)),
        JSON.stringify({ device, pid, host, user: "u", holder: "h", since: "s", claim: device }),
      );
    write("memory:drive#gone", deadPid(), hostname());
    write("far device", deadPid(), "gw-elsewhere");
    write("live device", process.ppid, hostname());
    const locks = lockDevices(["new device"], { folder, holder: "guard" });
    expect(readdirSync(folder).sort()).toEqual(
      ["far device", "live device", "new device"].map(deviceLockFileName).sort(),
    );
    locks.release();
  });

  it("does not take over a lock of another host, whose process cannot be checked from here", () => {
    const folder = lockFolder();
    mkdirSync(folder, { recursive: true });
    const device = "mqtt://broker:1883/site/pump7/speed/set";
    const claim = { device, pid: deadPid(), host: "gw-elsewhere", user: "svc", holder: "far guard", since: "now" };
    writeFileSync(join(folder, deviceLockFileName(device)), JSON.stringify(claim));
    const error = refusalOf(() => lockDevices([device], { folder, holder: "near guard" }));
    expect(error.message).toContain("on host gw-elsewhere");
    expect(error.message).toContain("far guard");
    expect(error.issues[0]?.fix).toContain(join(folder, deviceLockFileName(device)));
  });

  it("release is idempotent and leaves a lock that is no longer this claim alone", () => {
    const folder = lockFolder();
    const locks = lockDevices(["device"], { folder, holder: "guard" });
    const file = join(folder, deviceLockFileName("device"));
    // Someone replaced the lock (a person, or a guard that judged it stale): release must not remove theirs.
    const foreign = { ...claimOf(folder, "device"), claim: "someone else", holder: "another guard" };
    writeFileSync(file, JSON.stringify(foreign));
    locks.release();
    expect(claimOf(folder, "device").holder).toBe("another guard");
    rmSync(file);
    expect(() => locks.release()).not.toThrow();

    const again = lockDevices(["device"], { folder, holder: "guard" });
    again.release();
    again.release();
    expect(readdirSync(folder)).toEqual([]);
    // A second release of an old set never frees a newer claim on the same device.
    const newer = lockDevices(["device"], { folder, holder: "newer guard" });
    locks.release();
    again.release();
    expect(claimOf(folder, "device").holder).toBe("newer guard");
    expect(() => lockDevices(["device"], { folder, holder: "x" })).toThrow(/newer guard/);
    newer.release();
  });

  it("creates the folder as a shared sticky folder, lock files readable by all, and refuses an unsafe one", () => {
    const folder = lockFolder();
    const locks = lockDevices(["device"], { folder, holder: "guard" });
    if (process.platform !== "win32") {
      expect(statSync(folder).mode & 0o7777).toBe(0o1777);
      expect(statSync(join(folder, deviceLockFileName("device"))).mode & 0o777).toBe(0o644);
    }
    locks.release();

    const unsafe = join(temporaryFolder("plantwire-device-locks-unsafe-"), "open");
    mkdirSync(unsafe);
    chmodSync(unsafe, 0o777);
    const error = refusalOf(() => lockDevices(["device"], { folder: unsafe, holder: "guard" }));
    expect(error.message).toContain("no sticky bit");
    expect(readdirSync(unsafe)).toEqual([]);
  });

  it("names the default folder from PLANTWIRE_LOCK_DIR, else the temp folder", () => {
    const saved = process.env.PLANTWIRE_LOCK_DIR;
    try {
      process.env.PLANTWIRE_LOCK_DIR = "/run/plantwire/locks";
      expect(defaultDeviceLockFolder()).toBe("/run/plantwire/locks");
      delete process.env.PLANTWIRE_LOCK_DIR;
      expect(defaultDeviceLockFolder()).toBe(join(tmpdir(), "plantwire-device-locks"));
    } finally {
      if (saved === undefined) delete process.env.PLANTWIRE_LOCK_DIR;
      else process.env.PLANTWIRE_LOCK_DIR = saved;
    }
  });
});

/** What the adapter of a source says its tag's device is. */
function deviceOf(source: TagSource<unknown>): string | undefined {
  return source.adapter.deviceOf?.({ name: "tag", definition: float({ source }), address: source.address });
}

describe("device identities of the adapters", () => {
  const narrow = { table: "setpoints", tagColumn: "tag", timeColumn: "ts", valueColumn: "value" };

  it("Modbus: host, port and unit; RTU: the serial line and unit", () => {
    const drive = modbus({ url: "modbus+tcp://PLC.Local:5020", unit: 3 });
    expect(deviceOf(drive.holding(100))).toBe("modbus-tcp://plc.local:5020/unit/3");
    expect(deviceOf(drive.coil(4))).toBe("modbus-tcp://plc.local:5020/unit/3");
    expect(deviceOf(drive.holding(100, "uint16", { unit: 4 }))).toBe("modbus-tcp://plc.local:5020/unit/4");
    expect(deviceOf(modbus({ url: "modbus+tcp://10.0.0.20" }).holding(1))).toBe("modbus-tcp://10.0.0.20:502/unit/1");
    expect(deviceOf(modbus({ url: "modbus+tcp://[::1]:5020" }).holding(1))).toBe("modbus-tcp://[::1]:5020/unit/1");
    expect(deviceOf(modbus({ url: "modbus+rtu+tcp://gw1:4001", unit: 7 }).holding(1))).toBe(
      "modbus-tcp://gw1:4001/unit/7",
    );
    expect(deviceOf(modbus({ url: "modbus+rtu:///dev/ttyPlantwireTest9?parity=none", unit: 2 }).holding(1))).toBe(
      "modbus-rtu:///dev/ttyPlantwireTest9/unit/2",
    );
  });

  it("Modbus: two units behind one gateway are two devices, and a linked serial path is its target", () => {
    const gateway = modbus({ url: "modbus+tcp://gw1:502" });
    expect(deviceOf(gateway.holding(1, "uint16", { unit: 1 }))).not.toBe(
      deviceOf(gateway.holding(1, "uint16", { unit: 2 })),
    );
    const folder = temporaryFolder("plantwire-serial-");
    writeFileSync(join(folder, "ttyUSB0"), "");
    symlinkSync(join(folder, "ttyUSB0"), join(folder, "by-id-drive"));
    const viaLink = modbus({ url: `modbus+rtu://${join(folder, "by-id-drive")}?parity=none` });
    const direct = modbus({ url: `modbus+rtu://${join(folder, "ttyUSB0")}?parity=none` });
    expect(deviceOf(viaLink.holding(1))).toBe(deviceOf(direct.holding(1)));
  });

  it("OPC UA: the endpoint, normalised; two endpoints differ", () => {
    const device = (endpoint: string) => deviceOf(opcua({ endpoint }).node("ns=2;s=Pump7.Speed"));
    expect(device("opc.tcp://PLC1.Example:4840/")).toBe("opc.tcp://plc1.example:4840");
    expect(device("opc.tcp://plc1.example")).toBe("opc.tcp://plc1.example:4840");
    expect(device("opc.tcp://plc1.example:4841/UA/Server/")).toBe("opc.tcp://plc1.example:4841/UA/Server");
    expect(device("opc.tcp://plc1.example:4840")).not.toBe(device("opc.tcp://plc2.example:4840"));
    expect(device("opc.tcp://plc1.example:4840")).not.toBe(device("opc.tcp://plc1.example:4841"));
  });

  it("MQTT: broker and command topic, never the password; Sparkplug: group, edge node and device", () => {
    const bus = mqtt({ url: "mqtt://plant:secret@Broker.Local:1883" });
    const speed = bus.topic("site/pump7/speed", { command: { topic: "site/pump7/speed/set" } });
    expect(deviceOf(speed)).toBe("mqtt://broker.local:1883/site/pump7/speed/set");
    expect(deviceOf(mqtt({ url: "mqtts://broker" }).topic("a", { command: { topic: "a/set" } }))).toBe(
      "mqtt://broker:8883/a/set",
    );
    expect(deviceOf(mqtt().topic("a", { command: { topic: "a/set" } }))).toBe("mqtt://127.0.0.1:1884/a/set");
    const host = sparkplugHost({ url: "mqtt://user:secret@broker:1883", group: "Plant1" });
    expect(deviceOf(host.metric("Node1", "Pump/Speed", { device: "Drive1" }))).toBe(
      "mqtt://broker:1883/spBv1.0/Plant1/Node1/Drive1",
    );
    expect(deviceOf(host.metric("Node1", "Mode"))).toBe("mqtt://broker:1883/spBv1.0/Plant1/Node1");
    for (const device of [deviceOf(speed), deviceOf(host.metric("Node1", "Mode"))]) {
      expect(device).not.toContain("secret");
    }
  });

  it("SQL: the server, database and table the writes go to, never the password; SQLite: the resolved file", () => {
    const device = (options: Parameters<typeof sql>[0]) => deviceOf(sql(options).narrow(narrow, "pump7.speed"));
    expect(device({ url: "postgres://plant:secret@DB.local:5433/plant" })).toBe(
      "postgres://db.local:5433/plant/setpoints",
    );
    expect(device({ url: "mariadb://root@127.0.0.1/test" })).toBe("mysql://127.0.0.1:3306/test/setpoints");
    expect(device({ url: "postgres://reader@db/plant", writeUrl: "postgres://writer:pw@db2/plant" })).toBe(
      "postgres://db2:5432/plant/setpoints",
    );
    expect(device({ url: "postgres://plant:secret@db/plant" })).not.toContain("secret");

    const folder = temporaryFolder("plantwire-sqlite-device-");
    symlinkSync(folder, `${folder}-link`);
    cleanups.push(() => rmSync(`${folder}-link`, { force: true }));
    const direct = device({ url: `sqlite:${join(folder, "plant.db")}` });
    expect(direct).toMatch(/^sqlite:\/\/\/.*\/plant\.db\/setpoints$/);
    expect(device({ url: `sqlite:${join(`${folder}-link`, "plant.db")}` })).toBe(direct);
    const memoryOne = device({ url: "sqlite::memory:" });
    expect(memoryOne).toMatch(/^sqlite::memory:#[0-9a-f-]+\/setpoints$/);
    expect(device({ url: "sqlite::memory:" })).not.toBe(memoryOne);
  });

  it("SQL with a client instead of a URL: where the pg pool points", async () => {
    const pg = (await import("pg")).default;
    const pool = new pg.Pool({ connectionString: "postgres://plant:secret@DB:5434/plant" });
    cleanups.push(() => pool.end());
    const db = sql({ client: pool as never, dialect: "postgres" });
    expect(deviceOf(db.narrow(narrow, "x"))).toBe("postgres://db:5434/plant/setpoints");
  });

  it("memory: the adapter's name and a per-instance id, so two plants never collide", () => {
    const one = memoryAdapter({ name: "drive" });
    const two = memoryAdapter({ name: "drive" });
    expect(deviceOf(one.key("speed"))).toMatch(/^memory:drive#[0-9a-f-]{36}$/);
    expect(deviceOf(one.key("speed"))).toBe(deviceOf(one.key("mode")));
    expect(deviceOf(one.key("speed"))).not.toBe(deviceOf(two.key("speed")));
  });
});

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  /** The first line the child prints: "ready <pid>", "refused <json>" or "error <json>". */
  readonly firstLine: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
}

function startChild(args: readonly string[]): Child {
  const child = spawn(process.execPath, ["--import", "tsx", childScript, ...args], { cwd: root });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines = createInterface({ input: child.stdout });
  const firstLine = new Promise<string>((resolve) => {
    lines.once("line", resolve);
    void exited.then(() => resolve(`exited without a line: ${stderr}`));
  });
  cleanups.push(async () => {
    lines.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  return { process: child, firstLine, exited, stderr: () => stderr };
}

function messageOf(line: string): string {
  return JSON.parse(line.slice(line.indexOf(" ") + 1)) as string;
}

describe("T21 across processes", () => {
  it("a lock held by another process is refused naming its pid, and taken over once that process is killed", async () => {
    const folder = lockFolder();
    const device = "modbus-tcp://127.0.0.1:5020/unit/1";
    const child = startChild(["lock", folder, device]);
    const line = await child.firstLine;
    expect(line, child.stderr()).toBe(`ready ${child.process.pid}`);

    const error = refusalOf(() => lockDevices([device], { folder, holder: "the guard of this test" }));
    expect(error.message).toContain(`process ${child.process.pid} of user`);
    expect(error.message).toContain("the lock test child");
    expect(error.message).not.toContain("(this process)");
    expect(error.issues[0]?.fix).toContain(join(folder, deviceLockFileName(device)));

    child.process.kill("SIGKILL");
    expect((await child.exited).signal).toBe("SIGKILL");
    // Killed outright, the child could not release: its lock file is still there, naming a process that is gone.
    expect(claimOf(folder, device).pid).toBe(child.process.pid);
    const locks = lockDevices([device], { folder, holder: "the guard of this test" });
    expect(claimOf(folder, device)).toMatchObject({ pid: process.pid, holder: "the guard of this test" });
    locks.release();
  });

  it("two guard processes on one Modbus device: the second refuses to start, naming the first", async () => {
    const simulator = await startModbusSimulator();
    cleanups.push(() => simulator.close());
    const folder = lockFolder();
    const audits = temporaryFolder("plantwire-t21-audit-");
    const address = modbus({ url: simulator.url }).holding(100, "uint16").address;
    simulator.setTag(address, 900);

    const first = startChild(["guard", folder, simulator.url, join(audits, "first.jsonl"), "1000"]);
    expect(await first.firstLine, first.stderr()).toBe(`ready ${first.process.pid}`);
    expect(simulator.getTag(address)).toBe(1000);
    expect(simulator.store.writesAt(1, "holding", 100)).toBe(1);

    const second = startChild(["guard", folder, simulator.url, join(audits, "second.jsonl"), "1100"]);
    const refused = await second.firstLine;
    expect(refused, second.stderr()).toMatch(/^refused /);
    expect((await second.exited).code).toBe(1);
    const message = messageOf(refused);
    expect(message).toContain(`device "modbus-tcp://127.0.0.1:${simulator.port}/unit/1"`);
    expect(message).toContain(`process ${first.process.pid} of user`);
    expect(message).toContain(join(audits, "first.jsonl"));
    // The refused guard wrote nothing: the device saw the first guard's write only.
    expect(simulator.store.writesAt(1, "holding", 100)).toBe(1);

    // Once the first guard closes, a new one may take the device.
    first.process.stdin.end("exit\n");
    expect((await first.exited).code).toBe(0);
    expect(readdirSync(folder)).toEqual([]);
    const third = startChild(["guard", folder, simulator.url, join(audits, "third.jsonl"), "1200"]);
    expect(await third.firstLine, third.stderr()).toBe(`ready ${third.process.pid}`);
    expect(simulator.getTag(address)).toBe(1200);
    third.process.stdin.end("exit\n");
    expect((await third.exited).code).toBe(0);
  });
});
