/**
 * A consumer with only plantwire and zod: tags on the in-memory adapter, a snapshot, its compact context and a
 * function model whose answer zod validates; the simulator's tag-map files found through plantwire/simulator.
 */
import { existsSync } from "node:fs";
import { createPlant, defineTags, encodeSnapshot, float, functionModel } from "plantwire";
import { stationTagMapFile, stationViews } from "plantwire/simulator";
import { memoryAdapter } from "plantwire/testing";
import { z } from "zod";

async function main(): Promise<void> {
  const drive = memoryAdapter({ name: "drive", values: { pressure: 6.25, speed: 1200 } });
  const tags = defineTags({
    pressure: float({ unit: "bar", range: [0, 16], resolution: 0.01, source: drive.key("pressure") }),
    speed: float({ unit: "rpm", range: [0, 1800], source: drive.key("speed"), write: { range: [600, 1500] } }),
  });
  const plant = createPlant({ tags });
  const snapshot = await plant.read();
  // A misspelt tag name must not compile in a consumer's project (the check fails if this line type-checks).
  // @ts-expect-error "presure" is not a tag
  const misspelt = () => snapshot.value("presure");
  const pressure: number | undefined = snapshot.value("pressure");
  const context = encodeSnapshot(snapshot);
  const model = functionModel(() => ({ speed: 1150 }));
  const advice = await model.generate({
    instructions: "Hold pressure near 6 bar.",
    context: snapshot,
    output: z.object({ speed: z.number() }),
  });
  await plant.close();
  // The station's tag maps ship in the tarball and are found from the installed package, as ESM and as CommonJS.
  const missing = stationViews.filter((view) => !existsSync(stationTagMapFile(view)));
  if (missing.length > 0) throw new Error(`tag maps not found for ${missing.join(", ")}`);
  console.log(
    `consumer-check core pressure=${pressure} speed=${advice.speed} context=${context.text.length > 0} ${typeof misspelt}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
