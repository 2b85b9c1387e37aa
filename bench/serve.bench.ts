/**
 * `plantwire serve` memory: the resident memory of a serve process (site, guard, loops, HTTP server, auth, metrics,
 * one console client on the event stream) against the same site run as a glue script, each in a child process,
 * alternating on the same simulator. Target: serve ≤ +15 MB over the glue script.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { addUser } from "../src/serve/auth/users-changes.js";
import { emptyUsersFile, writeUsersFile } from "../src/serve/auth/users-file.js";
import { startPlantSimulator } from "../src/sim/plant-simulator.js";
import { type BenchResult, median, ratioResult } from "./bench-kit.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const child = fileURLToPath(new URL("./serve-rss-child.ts", import.meta.url));
const example = fileURLToPath(new URL("../examples/serve-site/", import.meta.url));

export default async function serveMemory(): Promise<BenchResult[]> {
  const simulator = await startPlantSimulator({ modbus: { port: 0 }, opcua: false, mqtt: false, historian: false });
  const folder = mkdtempSync(join(tmpdir(), "plantwire-serve-bench-"));
  try {
    await simulator.setFault("cavitation", true); // the loop runs and proposes in both
    const siteFile = join(folder, "site.yaml");
    writeFileSync(
      siteFile,
      readFileSync(join(example, "site.yaml"), "utf8")
        .replace(/modbus\+tcp:\/\/127\.0\.0\.1:5020/, simulator.urls.modbus as string)
        .replace("../../tag-maps/pump-station/modbus.yaml", join(root, "tag-maps/pump-station/modbus.yaml"))
        .replace("./loops.ts", join(example, "loops.ts")),
    );
    mkdirSync(join(folder, ".plantwire"), { recursive: true });
    const users = await addUser(emptyUsersFile, {
      name: "bench",
      role: "operator",
      password: "correct horse battery staple",
      scrypt: { N: 2 ** 10, r: 8, p: 1 },
    });
    writeUsersFile(join(folder, ".plantwire", "users.json"), users);
    const run = (mode: "glue" | "serve") =>
      (
        JSON.parse(
          execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", child, mode, siteFile, "4000"], {
            cwd: root,
            encoding: "utf8",
            env: { ...process.env, PLANTWIRE_LOG: "silent" },
          }),
        ) as { rss: number }
      ).rss;
    const glue: number[] = [];
    const serve: number[] = [];
    // One writer per device: the two cannot run at once, so they alternate.
    for (let round = 0; round < 3; round++) {
      glue.push(run("glue"));
      serve.push(run("serve"));
    }
    const glueMb = median(glue);
    const serveMb = median(serve);
    return [
      ratioResult(
        "serve RSS over the same site as a glue script",
        { label: "glue script", value: glueMb, unit: "MB" },
        { label: "plantwire serve + 1 console client", value: serveMb, unit: "MB" },
        { at: "most", ratio: (glueMb + 15) / glueMb },
        `+${(serveMb - glueMb).toFixed(1)} MB (target ≤ +15 MB); medians of 3 alternating runs after a 4 s warm-up`,
      ),
    ];
  } finally {
    await simulator.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
