/**
 * Import cost: `import "plantwire"` against a bare `node -e 0`, in wall time and peak RSS, measured in child
 * processes side by side. Target: ≤ 100 ms and ≤ 20 MB more than bare node, with no protocol library loaded.
 * Also a Modbus+MQTT glue script's peak RSS (≤ 30 MB more than bare node): a child process that loads the built
 * core, plantwire/modbus and plantwire/mqtt, reads one snapshot from the Modbus simulator and the embedded broker
 * started here, and exits; bare node runs interleaved with it.
 */
import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
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

/**
 * A child's peak RSS in MB. Asynchronous, unlike `run`: the glue script talks to servers in this process, which must
 * keep answering while it runs.
 */
async function peakRss(script: string): Promise<number> {
  const probe = `process.on("exit",()=>process.stdout.write("\\nrss "+process.resourceUsage().maxRSS/1024));${script}`;
  const { stdout } = await execFileAsync(process.execPath, ["--input-type=commonjs", "-e", probe], {
    cwd: root,
    encoding: "utf8",
  });
  const rss = Number(/rss ([\d.]+)$/.exec(stdout)?.[1]);
  if (!Number.isFinite(rss)) throw new Error(`no RSS from the child: ${stdout}`);
  return rss;
}

/** The glue script: the README's shape (a drive over Modbus, a vibration topic over MQTT), one snapshot, then out. */
function glueScript(modbusUrl: string, mqttUrl: string, topic: string): string {
  const dist = (name: string) => JSON.stringify(`${root}dist/${name}.cjs`);
  return `
    const { createPlant, defineTags, float } = require(${dist("index")});
    const { modbus } = require(${dist("modbus")});
    const { mqtt } = require(${dist("mqtt")});
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

/** A Modbus+MQTT glue script's peak RSS against bare node, run alternately. */
async function glueScriptRss(): Promise<BenchResult> {
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
    const script = glueScript(simulator.url, broker.url, topic);
    const bare: number[] = [];
    const glue: number[] = [];
    for (let round = 0; round < 5; round++) {
      bare.push(await peakRss("0"));
      glue.push(await peakRss(script));
    }
    const bareRss = median(bare);
    const glueRss = median(glue);
    return ratioResult(
      "Modbus+MQTT glue script: peak RSS",
      { label: "node -e 0", value: bareRss, unit: "MB" },
      { label: "glue script, one snapshot", value: glueRss, unit: "MB" },
      { at: "most", ratio: (bareRss + 30) / bareRss },
      `+${(glueRss - bareRss).toFixed(1)} MB (modbus-serial and mqtt loaded, both read)`,
    );
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
    await glueScriptRss(),
  ];
}
