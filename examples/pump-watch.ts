/**
 * Plant problem: tell the operator when pump 7's outlet pressure or vibration moves, and never show a stale value
 * as current. Runs on the memory adapter (a stand-in for a real device) until you swap in `plantwire/modbus`.
 */
import { createPlant, decimalsFor, defineTags, float } from "plantwire";
import { memoryAdapter } from "plantwire/testing";

export async function pumpWatch(log: (line: string) => void = console.log, seconds = 3): Promise<number> {
  const drive = memoryAdapter({ name: "drive", values: { pressure: 6.0, vibration: 2.1 } });
  const tags = defineTags({
    pressure: float({ unit: "bar", range: [0, 16], resolution: 0.01, deadband: 0.2, source: drive.key("pressure") }),
    vibration: float({
      unit: "mm/s",
      range: [0, 50],
      resolution: 0.1,
      deadband: 0.5,
      staleAfterMs: 1500,
      source: drive.key("vibration"),
    }),
  });
  const plant = createPlant({ tags, pollIntervalMs: 250 });
  let changes = 0;
  const watcher = await plant.watch(({ name, sample }) => {
    changes++;
    const value = Number(sample.value).toFixed(decimalsFor(tags[name]) ?? 2);
    const shown = sample.stale ? `STALE (last ${value})` : `${value} ${tags[name].unit}`;
    log(`${name.padEnd(9)} ${shown}`);
  });
  // The "process": pressure drifts, vibration stops reporting after a second.
  for (let tick = 1; tick <= seconds * 4; tick++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    drive.set("pressure", 6 + Math.sin(tick / 2));
    if (tick < 4) drive.set("vibration", 2.1 + tick * 0.6);
  }
  await watcher.stop();
  await plant.close();
  return changes;
}

if (import.meta.url === `file://${process.argv[1]}`) await pumpWatch();
