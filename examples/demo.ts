/**
 * `npm run demo`: the main job on embedded defaults, end to end, offline. Until the plant simulator lands, it runs
 * a small pumping station on the in-memory adapter: reads a typed snapshot, watches changes past each tag's
 * deadband, shows a value going STALE, and shows one failing adapter marking only its own tags bad.
 * PLANTWIRE_DEMO_SECONDS shortens or lengthens it (CI uses a short run).
 */
import { createPlant, defineTags, enumeration, float } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { pumpWatch } from "./pump-watch.js";

const seconds = Number(process.env.PLANTWIRE_DEMO_SECONDS ?? 6);
const line = (text: string) => console.log(text);

line("plantwire demo: a pumping station on the in-memory adapter (no device, no network, no model needed)\n");
const drive = memoryAdapter({ name: "drive", values: { speed: 1180, current: 41.2, mode: "AUTO" } });
const historian = memoryAdapter({ name: "historian", values: { level: 2.43 } });
const tags = defineTags({
  speed: float({ unit: "rpm", range: [0, 1800], resolution: 1, source: drive.key("speed") }),
  current: float({ unit: "A", range: [0, 80], resolution: 0.1, source: drive.key("current") }),
  mode: enumeration({ states: { OFF: 0, AUTO: 1, MANUAL: 2 }, source: drive.key("mode") }),
  level: float({ unit: "m", range: [0, 5], resolution: 0.01, source: historian.key("level") }),
});
const plant = createPlant({ tags, onError: () => {} });

const show = async (title: string) => {
  const snapshot = await plant.read();
  line(title);
  for (const [name, sample] of snapshot.entries()) {
    const value = snapshot.isUsable(name) ? String(sample.value) : `(${sample.quality}: ${sample.reason})`;
    line(`  ${name.padEnd(8)} ${value.padEnd(28)} ${"unit" in tags[name] ? (tags[name].unit ?? "") : ""}`);
  }
};
await show("1. One typed snapshot across two adapters:");
historian.fail(new Error("historian link down"));
await show("\n2. The historian adapter fails: only its tags go bad, the drive's stay good:");
historian.fail(undefined);
await plant.close();

line("\n3. Watching pump 7: changes past the deadband, and a sensor that falls silent goes STALE:");
const changes = await pumpWatch((text) => line(`  ${text}`), Math.max(3, seconds / 2));
line(`\nDemo finished: ${changes} changes reported. Next: README.md and docs/architecture.md.`);
