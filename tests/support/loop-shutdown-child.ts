/**
 * Child process for the shutdown test: a loop that proposes a write and then works slowly, with shutdown on
 * SIGTERM. It prints "running" when a run is under way; it must then exit by itself, with nothing left open.
 */
import { createGuard, createLoop, createPlant, defineTags, every, float, shutdownOnSignals } from "plantwire";
import { memoryAdapter } from "plantwire/testing";

const auditFile = process.argv[2] as string;
const drive = memoryAdapter({ name: "drive", values: { speed: 1000 } });
const tags = defineTags({
  speed: float({
    range: [0, 1800],
    source: drive.key("speed"),
    write: { range: [600, 1500], approval: "automatic", automaticRange: [900, 1100] },
  }),
});
const plant = createPlant({ tags });
const guard = createGuard({ plant, audit: auditFile, mode: "automatic" });
const loop = createLoop(plant, {
  name: "slow-advisor",
  guard,
  trigger: every(50),
  async run({ propose, signal }) {
    await propose({ speed: 1010 }, { reason: "shutdown test" });
    console.log("running");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 400);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  },
});
shutdownOnSignals({ loops: [loop], guard, plant, abandonAfterMs: 2000, log: (line) => console.log(line) });
await loop.start();
