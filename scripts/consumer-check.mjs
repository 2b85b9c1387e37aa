#!/usr/bin/env node
/**
 * The package as a consumer meets it. Packs the built package, installs the tarball into fresh projects (one per
 * scenario, each with only the peers that consumer uses) from the npm cache alone, type-checks a small glue script
 * under `strict` with `skipLibCheck: false` in node16 resolution (as ESM and as CommonJS) and in bundler
 * resolution, then runs the compiled glue as ESM and as CommonJS.
 *
 *   node scripts/consumer-check.mjs [--only core,modbus] [--keep]
 *
 * Needs `npm run build` first. Exit 0 when every scenario passes, 1 otherwise. The mqtt scenario runs its glue
 * against the broker at PLANTWIRE_CONSUMER_MQTT_URL (default mqtt://127.0.0.1:1883); without one it only
 * type-checks and says so, unless PLANTWIRE_REQUIRE_SERVICES=1, where a missing broker fails the check.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { consumerManifests } from "./consumer-lock.mjs";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const glueFolder = join(root, "scripts", "consumer-glue");
const typescript = join(root, "node_modules", "typescript", "bin", "tsc");

/** Optional peers that no scenario may find installed unless it asked for them. */
const optionalPeers = [
  "aedes",
  "better-sqlite3",
  "gpt-tokenizer",
  "modbus-serial",
  "mqtt",
  "mysql2",
  "node-opcua",
  "openai",
  "pg",
  "prom-client",
  "sparkplug-payload",
];

/** @typedef {{ name: string, peers: string[], broker?: boolean }} Scenario */
/** @type {Scenario[]} */
const scenarios = [
  { name: "core", peers: [] },
  { name: "modbus", peers: ["modbus-serial"] },
  { name: "mqtt", peers: ["mqtt"], broker: true },
  { name: "opcua", peers: ["node-opcua"] },
];

const compilerOptions = {
  strict: true,
  skipLibCheck: false,
  target: "ES2022",
  lib: ["ES2023"],
  types: ["node"],
};

/** @param {string} url */
function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 1883) });
    const done = (/** @type {boolean} */ ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {string} cwd
 */
async function step(command, args, cwd) {
  try {
    const { stdout } = await run(command, args, { cwd, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const failure = /** @type {{ stdout?: string, stderr?: string, message: string }} */ (error);
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${failure.stdout ?? ""}${failure.stderr ?? ""}`);
  }
}

/**
 * @param {Scenario} scenario
 * @param {string} scratch
 * @param {string} tarball
 * @returns {Promise<string[]>} what passed, one line each
 */
async function check(scenario, scratch, tarball) {
  const folder = join(scratch, scenario.name);
  mkdirSync(folder);
  const { manifest, lock } = consumerManifests({
    repositoryLock: join(root, "package-lock.json"),
    tarball: `../${tarball}`,
    tarballFile: join(scratch, tarball),
    dependencies: ["zod", "@types/node", ...scenario.peers],
    name: `plantwire-consumer-${scenario.name}`,
  });
  writeFileSync(join(folder, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(folder, "package-lock.json"), `${JSON.stringify(lock, null, 2)}\n`);
  // The lock file names every version and integrity, so the cache is enough: no registry request is made.
  await step("npm", ["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], folder);
  const passed = [`installed plantwire + zod${scenario.peers.map((peer) => ` + ${peer}`).join("")} offline`];
  const present = new Set(readdirSync(join(folder, "node_modules")));
  const unexpected = optionalPeers.filter((peer) => present.has(peer) && !scenario.peers.includes(peer));
  if (unexpected.length > 0)
    throw new Error(`${scenario.name}: ${unexpected.join(", ")} installed although not asked for`);

  const glue = join(glueFolder, `${scenario.name}.ts`);
  for (const copy of ["glue.mts", "glue.cts", "glue.ts"]) copyFileSync(glue, join(folder, copy));
  const node16 = { module: "node16", moduleResolution: "node16", outDir: "out", ...compilerOptions };
  const bundler = { module: "preserve", moduleResolution: "bundler", noEmit: true, ...compilerOptions };
  writeFileSync(
    join(folder, "tsconfig.node16.json"),
    JSON.stringify({ compilerOptions: node16, files: ["glue.mts", "glue.cts"] }),
  );
  writeFileSync(
    join(folder, "tsconfig.bundler.json"),
    JSON.stringify({ compilerOptions: bundler, files: ["glue.ts"] }),
  );
  await step(process.execPath, [typescript, "-p", "tsconfig.node16.json"], folder);
  passed.push("type-checked: strict, skipLibCheck false, node16 as ESM (.mts) and as CommonJS (.cts)");
  await step(process.execPath, [typescript, "-p", "tsconfig.bundler.json"], folder);
  passed.push("type-checked: strict, skipLibCheck false, bundler resolution");

  if (scenario.broker) {
    const url = process.env.PLANTWIRE_CONSUMER_MQTT_URL ?? "mqtt://127.0.0.1:1883";
    if (!(await reachable(url))) {
      if (process.env.PLANTWIRE_REQUIRE_SERVICES === "1") throw new Error(`no MQTT broker at ${url} (required)`);
      passed.push(`glue not run: no MQTT broker at ${url} (set PLANTWIRE_CONSUMER_MQTT_URL)`);
      return passed;
    }
  }
  for (const compiled of ["glue.mjs", "glue.cjs"]) {
    const output = await step(process.execPath, [join("out", compiled)], folder);
    const line = output.split("\n").find((text) => text.startsWith(`consumer-check ${scenario.name} `));
    if (!line) throw new Error(`${scenario.name}: out/${compiled} printed no result line:\n${output}`);
    passed.push(`ran out/${compiled}: ${line}`);
  }
  return passed;
}

async function main() {
  const args = process.argv.slice(2);
  const keep = args.includes("--keep");
  const onlyAt = args.indexOf("--only");
  const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? "").split(",") : undefined;
  const chosen = only ? scenarios.filter((scenario) => only.includes(scenario.name)) : scenarios;
  if (chosen.length === 0) {
    console.error(`No scenario named ${only?.join(", ")}. Fix: pick from ${scenarios.map((s) => s.name).join(", ")}`);
    return 2;
  }
  if (!existsSync(join(root, "dist", "index.d.ts"))) {
    console.error("dist/ is missing. Fix: run `npm run build` first");
    return 2;
  }
  const scratch = mkdtempSync(join(tmpdir(), "plantwire-consumer-"));
  let failed = 0;
  try {
    const packed = await step("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", scratch], root);
    const [{ filename }] = JSON.parse(packed);
    // Two at a time: installs and type-checks are mostly disk and one core each.
    const queue = [...chosen];
    const worker = async () => {
      for (let scenario = queue.shift(); scenario; scenario = queue.shift()) {
        const started = Date.now();
        try {
          const passed = await check(scenario, scratch, filename);
          const seconds = ((Date.now() - started) / 1000).toFixed(0);
          console.log(`ok   ${scenario.name} (${seconds} s)\n${passed.map((line) => `     ${line}`).join("\n")}`);
        } catch (error) {
          failed++;
          console.log(`FAIL ${scenario.name}\n${/** @type {Error} */ (error).message}`);
        }
      }
    };
    await Promise.all([worker(), worker()]);
  } finally {
    if (keep) console.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
  console.log(failed === 0 ? `consumer check: ${chosen.length} passed` : `consumer check: ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
