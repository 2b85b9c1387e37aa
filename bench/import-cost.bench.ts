/**
 * Import cost: `import "plantwire"` against a bare `node -e 0`, in wall time and peak RSS, measured in child
 * processes side by side. Target: ≤ 100 ms and ≤ 20 MB more than bare node, with no protocol library loaded.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type BenchResult, median, ratioResult } from "./bench-kit.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = `${root}dist/index.js`;
const protocolLibraries = ["node-opcua", "modbus-serial", "mqtt", "pg", "mysql2", "better-sqlite3"];

function run(script: string): { ms: number; rssMb: number; modules: string[] } {
  const probe = `const t=performance.now();${script};setImmediate(()=>{const m=Object.keys(require.cache??{});process.stdout.write(JSON.stringify({ms:performance.now()-t,rss:process.resourceUsage().maxRSS/1024,m}))})`;
  const startedAt = performance.now();
  const out = execFileSync(process.execPath, ["--input-type=commonjs", "-e", probe], { cwd: root, encoding: "utf8" });
  const wall = performance.now() - startedAt;
  const parsed = JSON.parse(out) as { ms: number; rss: number; m: string[] };
  return { ms: wall, rssMb: parsed.rss, modules: parsed.m };
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
  ];
}
