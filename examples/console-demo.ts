/**
 * `npm run demo:console`: the operator console on this machine, offline. Starts the plant simulator (the pumping
 * station over Modbus TCP on loopback), then `plantwire serve` on the site of examples/serve-site/ (its tag map and
 * its loop, which proposes a pump-speed setpoint when pressure or vibration moves), with a demo operator whose
 * password is printed once. Cavitation is switched on and off every minute so that proposals come to decide.
 * Prints the address; stops on Ctrl+C (or after PLANTWIRE_DEMO_SECONDS, for CI). Everything it writes (the audit,
 * the approvals, the users file) lives in a temp folder, removed at the end.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { addUserToFile, startServe } from "plantwire/serve";
import { startPlantSimulator } from "plantwire/simulator";

const seconds = Number(process.env.PLANTWIRE_DEMO_SECONDS ?? 0);
const listen = process.env.PLANTWIRE_CONSOLE_LISTEN ?? "127.0.0.1:8470";
const example = fileURLToPath(new URL("./serve-site/", import.meta.url));
const tagMap = fileURLToPath(new URL("../tag-maps/pump-station/modbus.yaml", import.meta.url));
const say = (text = "") => console.log(text);

say("plantwire console demo: a simulated pumping station, its loop, the guard and the operator console\n");
const folder = mkdtempSync(join(tmpdir(), "plantwire-console-demo-"));
const state = join(folder, ".plantwire");
mkdirSync(state, { mode: 0o700 });
const simulator = await startPlantSimulator({
  modbus: { port: 0 },
  opcua: false,
  mqtt: false,
  historian: false,
  tickMs: 250,
  speedup: 10,
});
say(`  simulator  ${simulator.urls.modbus}`);

// The example's site, pointed at this simulator, with its state in the temp folder.
const siteFile = join(folder, "site.yaml");
writeFileSync(
  siteFile,
  [
    "site: pump-station-7 (demo)",
    "adapters:",
    `  drive: { kind: modbus, url: "${simulator.urls.modbus}", unit: 1 }`,
    `tags: ${JSON.stringify(tagMap)}`,
    `loops: ${JSON.stringify(join(example, "loops.ts"))}`,
    "guard: { audit: ./.plantwire/audit.jsonl, approvals: ./.plantwire/approvals, mode: approval }",
    `serve: { listen: "${listen}", users: ./.plantwire/users.json, idleTimeoutMinutes: 15 }`,
    "",
  ].join("\n"),
);

// A demo operator with a fresh random password, shown once here and stored only as its scrypt hash.
const password = randomBytes(12).toString("base64url");
await addUserToFile(join(state, "users.json"), { name: "operator", role: "operator", password });

let serve: Awaited<ReturnType<typeof startServe>>;
try {
  serve = await startServe({ siteFile });
} catch (error) {
  // The usual port may be taken (another serve, another demo): any free one will do for a demo.
  say(`  (${listen} is not available: ${(error as Error).message.split("\n")[0]}; using a free port)`);
  serve = await startServe({ siteFile, listen: "127.0.0.1:0" });
}

say(
  `  loop       pump7-speed-advisor (examples/serve-site/loops.ts): proposes a speed when pressure or vibration moves`,
);
say("  guard      speed setpoint 600..1500 rpm, at most 100 rpm a step, approval required");
say(`  audit      ${join(state, "audit.jsonl")}\n`);
say(`  Open ${serve.url} in a browser on this machine and sign in:`);
say("    user      operator");
say(`    password  ${password}    (shown once; it exists only for this run)\n`);
say("  Cavitation is switched on 20 s from now and then every minute, on and off: watch vibration on the Plant page,");
say("  then decide the proposal on the Proposals page. Ctrl+C stops the demo.\n");

let cavitation = false;
const toggle = async () => {
  cavitation = !cavitation;
  await simulator.setFault("cavitation", cavitation);
  say(`  ${new Date().toLocaleTimeString()}  cavitation ${cavitation ? "ON: vibration rises" : "off"}`);
};
let faults: NodeJS.Timeout | undefined;
const first = setTimeout(() => {
  void toggle();
  faults = setInterval(() => void toggle(), 60_000);
}, 20_000);

await new Promise<void>((resolve) => {
  process.once("SIGINT", resolve);
  process.once("SIGTERM", resolve);
  if (seconds > 0) setTimeout(resolve, seconds * 1000).unref();
});
clearTimeout(first);
clearInterval(faults);
say("\n  stopping: the loop, the guard and its audit, the server, the simulator");
await serve.close();
await simulator.close();
rmSync(folder, { recursive: true, force: true });
say("  stopped; the demo's folder is removed");
