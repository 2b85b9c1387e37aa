/**
 * Import cost: `import "plantwire"` against a bare `node -e 0`, in wall time and peak RSS, measured in child
 * processes side by side. Target: ≤ 100 ms and ≤ 20 MB more than bare node, with no protocol library loaded.
 *
 * Then a Modbus+MQTT glue script's peak RSS (target ≤ 30 MB more than bare node): a child process that loads the
 * built core, plantwire/modbus and plantwire/mqtt, reads one snapshot (a holding register from the Modbus simulator,
 * a retained JSON topic from the embedded broker, both started here) and exits. Most of that is the protocol
 * libraries', not plantwire's, so the same read is also written against modbus-serial and mqtt directly and measured
 * in the same rounds: once with the libraries' defaults (what their READMEs show), once with MQTT.js's `writeCache`
 * off as plantwire sets it. "plantwire's own cost" is the glue script over that second one: zod and plantwire's code.
 * The glue script runs as CommonJS and as an ES module (the README's shape), since the two load modules differently.
 * Every child reports its peak RSS (what the rows compare) and, after a forced GC at exit, its RSS, heap and
 * external memory (in the notes: how much of the peak a steady state keeps).
 */
import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type ModbusAddress, modbus, startModbusSimulator } from "../adapters/modbus/index.js";
import { startBroker } from "../adapters/mqtt/index.js";
import { defineTags, float } from "../src/index.js";
import { type BenchResult, median, ratioResult } from "./bench-kit.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = `${root}dist/index.js`;
const protocolLibraries = ["node-opcua", "modbus-serial", "mqtt", "pg", "mysql2", "better-sqlite3"];
const execFileAsync = promisify(execFile);

function run(script: string): { ms: number; rssMb: number; modules: string[] } {
  const probe = `const t=performance.now();${script};setImmediate(()=>{const m=Object.keys(require.cache??{});process.stdout.write(JSON.stringify({ms:performance.now()-t,rss:process.resourceUsage().maxRSS/1024,m}))})`;
  const startedAt = performance.now();
  const out = execFileSync(process.execPath, ["--input-type=commonjs", "-e", probe], { cwd: root, encoding: "utf8" });
  const wall = performance.now() - startedAt;
  const parsed = JSON.parse(out) as { ms: number; rss: number; m: string[] };
  return { ms: wall, rssMb: parsed.rss, modules: parsed.m };
}

/** What a child reports: peak RSS, and RSS, heap used and external memory after a forced GC at exit, in MB. */
interface ChildMemory {
  peak: number;
  rss: number;
  heap: number;
  external: number;
}

const exitProbe = `process.on("exit",()=>{const peak=process.resourceUsage().maxRSS/1024;globalThis.gc();const m=process.memoryUsage();process.stdout.write("\\nmemory "+JSON.stringify({peak,rss:m.rss/1048576,heap:m.heapUsed/1048576,external:m.external/1048576}))});`;

/**
 * One child's memory. Asynchronous, unlike `run`: the scripts talk to servers in this process, which must keep
 * answering while they run. `--expose-gc` only makes `gc()` callable; it changes nothing until the exit probe calls it.
 */
async function childMemory(script: string, type: "commonjs" | "module"): Promise<ChildMemory> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ["--expose-gc", `--input-type=${type}`, "-e", `${exitProbe}${script}`],
    { cwd: root, encoding: "utf8" },
  );
  const line = /memory (\{.*\})$/.exec(stdout)?.[1];
  if (!line) throw new Error(`no memory report from the child: ${stdout}`);
  return JSON.parse(line) as ChildMemory;
}

interface Peers {
  modbusUrl: string;
  mqttUrl: string;
  topic: string;
}

/** The glue script's body: the README's shape (a drive over Modbus, a vibration topic over MQTT), one snapshot. */
function glueBody({ modbusUrl, mqttUrl, topic }: Peers): string {
  return `
    const drive = modbus({ url: ${JSON.stringify(modbusUrl)}, unit: 1, timeoutMs: 5000 });
    const bus = mqtt({ url: ${JSON.stringify(mqttUrl)} });
    const tags = defineTags({
      speed: float({ unit: "rpm", range: [0, 1800], source: drive.holding(100, "uint16", { scale: 0.1 }) }),
      vibration: float({ unit: "mm/s", range: [0, 50], source: bus.topic(${JSON.stringify(topic)}, { path: "/rms" }) }),
    });
    const plant = createPlant({ tags });
    plant.read().then(async (snapshot) => {
      const good = snapshot.names.filter((name) => snapshot.sample(name).quality === "good").length;
      await plant.close();
      if (good !== 2) throw new Error("the glue script read " + good + " of 2 tags: " + JSON.stringify(snapshot.names.map((name) => snapshot.sample(name))));
    }).then(() => setImmediate(() => process.exit(0)), (error) => { console.error(error); process.exit(1); })`;
}

/** The glue script as CommonJS, requiring the built package. */
function glueScript(peers: Peers): string {
  const dist = (name: string) => JSON.stringify(`${root}dist/${name}.cjs`);
  return `
    const { createPlant, defineTags, float } = require(${dist("index")});
    const { modbus } = require(${dist("modbus")});
    const { mqtt } = require(${dist("mqtt")});${glueBody(peers)}`;
}

/** The glue script as an ES module, importing the built package. */
function glueModule(peers: Peers): string {
  const dist = (name: string) => JSON.stringify(pathToFileURL(`${root}dist/${name}.js`).href);
  return `
    import { createPlant, defineTags, float } from ${dist("index")};
    import { modbus } from ${dist("modbus")};
    import { mqtt } from ${dist("mqtt")};${glueBody(peers)}`;
}

/**
 * The same read written against the libraries directly, as their READMEs show: one holding register scaled by 0.1,
 * one retained JSON message, both checked, both connections closed. `mqttOptions` is passed to MQTT.js's connect.
 */
function rawScript({ modbusUrl, mqttUrl, topic }: Peers, mqttOptions: Record<string, unknown>): string {
  const url = new URL(modbusUrl);
  return `
    const ModbusRTU = require("modbus-serial");
    const mqtt = require("mqtt");
    async function speed() {
      const client = new ModbusRTU();
      await client.connectTCP(${JSON.stringify(url.hostname)}, { port: ${Number(url.port)} });
      client.setID(1);
      client.setTimeout(5000);
      const value = (await client.readHoldingRegisters(100, 1)).data[0] * 0.1;
      await new Promise((resolve) => client.close(resolve));
      return value;
    }
    async function vibration() {
      const bus = await mqtt.connectAsync(${JSON.stringify(mqttUrl)}, ${JSON.stringify(mqttOptions)});
      const value = await new Promise((resolve) => {
        bus.on("message", (_topic, payload) => resolve(JSON.parse(String(payload)).rms));
        bus.subscribe(${JSON.stringify(topic)});
      });
      await bus.endAsync();
      return value;
    }
    Promise.all([speed(), vibration()]).then(([rpm, rms]) => {
      if (!(rpm > 0 && rms > 0)) throw new Error("the raw script read " + rpm + " rpm, " + rms + " mm/s");
    }).then(() => setImmediate(() => process.exit(0)), (error) => { console.error(error); process.exit(1); })`;
}

const fixed = (value: number) => value.toFixed(1);
const steady = (memory: ChildMemory) =>
  `after GC at exit ${fixed(memory.rss)} MB RSS, ${fixed(memory.heap)} MB heap used, ${fixed(memory.external)} MB external`;

/** The medians of each field over some children's reports. */
function medians(reports: readonly ChildMemory[]): ChildMemory {
  return {
    peak: median(reports.map((report) => report.peak)),
    rss: median(reports.map((report) => report.rss)),
    heap: median(reports.map((report) => report.heap)),
    external: median(reports.map((report) => report.external)),
  };
}

/** The glue script, in both module formats, and the raw-library scripts, against bare node, run in turns. */
async function glueScriptRss(): Promise<BenchResult[]> {
  const simulator = await startModbusSimulator({ port: 0 });
  const broker = await startBroker({ port: 0 });
  try {
    const layout = modbus({ url: simulator.url, unit: 1 });
    const tag = defineTags({ speed: float({ source: layout.holding(100, "uint16", { scale: 0.1 }) }) });
    simulator.setTag(tag.speed.source.address as ModbusAddress, 1234.5);
    const topic = "plantwire-bench/pump7/vibration";
    await new Promise<void>((resolve) =>
      broker.aedes.publish(
        { cmd: "publish", topic, payload: JSON.stringify({ rms: 2.5 }), qos: 0, retain: true, dup: false },
        () => resolve(),
      ),
    );
    const peers = { modbusUrl: simulator.url, mqttUrl: broker.url, topic };
    const children = {
      bare: () => childMemory("0", "commonjs"),
      glue: () => childMemory(glueScript(peers), "commonjs"),
      glueModule: () => childMemory(glueModule(peers), "module"),
      raw: () => childMemory(rawScript(peers, {}), "commonjs"),
      rawAlike: () => childMemory(rawScript(peers, { writeCache: false }), "commonjs"),
    };
    const reports: Record<keyof typeof children, ChildMemory[]> = {
      bare: [],
      glue: [],
      glueModule: [],
      raw: [],
      rawAlike: [],
    };
    const kinds = Object.keys(children) as (keyof typeof children)[];
    for (let round = 0; round < 5; round++) {
      // Rotated each round, so no script always runs right after the same one.
      for (const kind of [...kinds.slice(round % kinds.length), ...kinds.slice(0, round % kinds.length)]) {
        reports[kind].push(await children[kind]());
      }
    }
    const bare = medians(reports.bare);
    const glue = medians(reports.glue);
    const glueEsm = medians(reports.glueModule);
    const raw = medians(reports.raw);
    const rawAlike = medians(reports.rawAlike);
    const bareNode = { label: "node -e 0", value: bare.peak, unit: "MB" };
    const over = (memory: ChildMemory, base = bare) => `+${fixed(memory.peak - base.peak)} MB`;
    const bound = { at: "most" as const, ratio: (bare.peak + 30) / bare.peak };
    return [
      ratioResult(
        "Modbus+MQTT glue script: peak RSS",
        bareNode,
        { label: "glue script (CommonJS), one snapshot", value: glue.peak, unit: "MB" },
        bound,
        `${over(glue)} peak; ${steady(glue)} (bare node ${steady(bare)}). Includes modbus-serial, mqtt and zod; ` +
          `the same read on the raw libraries is ${over(raw)} with their defaults, ${over(rawAlike)} with ` +
          `MQTT.js's writeCache off as plantwire sets it (rows below); medians of 5 rounds`,
      ),
      ratioResult(
        "Modbus+MQTT glue script as an ES module: peak RSS",
        bareNode,
        { label: "glue script (ES module), one snapshot", value: glueEsm.peak, unit: "MB" },
        bound,
        `${over(glueEsm)} peak; ${steady(glueEsm)}; one copy of zod (plantwire's, CommonJS) unless the script imports zod itself`,
      ),
      ratioResult(
        "Same read on raw modbus-serial + mqtt (defaults): peak RSS",
        bareNode,
        { label: "raw libraries, defaults", value: raw.peak, unit: "MB" },
        bound,
        `${over(raw)} peak; ${steady(raw)}. No plantwire: the libraries' own cost, held to the same bound for comparison; ` +
          `MQTT.js's default writeCache builds 65,536 cached Buffers on the first write`,
      ),
      ratioResult(
        "plantwire's own cost: glue script over the raw libraries configured alike",
        { label: "raw libraries, writeCache off", value: rawAlike.peak, unit: "MB" },
        { label: "glue script (CommonJS)", value: glue.peak, unit: "MB" },
        { at: "most", ratio: (rawAlike.peak + 15) / rawAlike.peak },
        `${over(glue, rawAlike)} peak (zod, plantwire's code, its tag and option schemas); the glue script is ` +
          `${over(glue, raw)} over the raw script with the libraries' defaults; bound ≤ +15 MB set after measuring`,
      ),
    ];
  } finally {
    await broker.close();
    await simulator.close();
  }
}

export default async function importCost(): Promise<BenchResult[]> {
  const bare: { ms: number; rssMb: number }[] = [];
  const core: { ms: number; rssMb: number; modules: string[] }[] = [];
  for (let round = 0; round < 9; round++) {
    bare.push(run("0"));
    core.push(run(`require(${JSON.stringify(`${root}dist/index.cjs`)})`));
  }
  const loaded = [...new Set(core.flatMap((sample) => sample.modules))].filter((module) =>
    protocolLibraries.some((name) => module.includes(`/node_modules/${name}/`)),
  );
  const bareMs = median(bare.map((sample) => sample.ms));
  const coreMs = median(core.map((sample) => sample.ms));
  const bareRss = median(bare.map((sample) => sample.rssMb));
  const coreRss = median(core.map((sample) => sample.rssMb));
  const note = `+${(coreMs - bareMs).toFixed(1)} ms, +${(coreRss - bareRss).toFixed(1)} MB; protocol libraries loaded: ${loaded.length === 0 ? "none" : loaded.join(", ")} (entry ${entry})`;
  return [
    ratioResult(
      "import plantwire: wall time",
      { label: "node -e 0", value: bareMs, unit: "ms" },
      { label: "require plantwire", value: coreMs, unit: "ms" },
      { at: "most", ratio: (bareMs + 100) / bareMs },
      note,
    ),
    ratioResult(
      "import plantwire: peak RSS",
      { label: "node -e 0", value: bareRss, unit: "MB" },
      { label: "require plantwire", value: coreRss, unit: "MB" },
      { at: "most", ratio: (bareRss + 20) / bareRss },
    ),
    ...(await glueScriptRss()),
  ];
}
