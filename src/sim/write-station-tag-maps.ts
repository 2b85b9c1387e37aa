/**
 * Writes the station's tag-map files (tag-maps/pump-station/<view>.yaml) from the TypeScript views. Run it after
 * changing the signal table or a view: `npx tsx src/sim/write-station-tag-maps.ts`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { stationTagMapFile, stationViews } from "./station-tag-map-files.js";
import { stationTagMapText } from "./station-tag-map-text.js";

for (const view of stationViews) {
  const file = stationTagMapFile(view);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, stationTagMapText(view));
  process.stdout.write(`wrote ${file}\n`);
}
