/**
 * A consumer with only plantwire and zod: tags on the in-memory adapter, a snapshot, its compact context and a
 * function model whose answer zod validates; the simulator's tag-map files found through plantwire/simulator; and
 * plantwire/serve embedded: a site on the memory adapter served from the installed package, its /healthz and console.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlant, defineTags, encodeSnapshot, float, functionModel } from "plantwire";
import { addUserToFile, type HealthView, startServe } from "plantwire/serve";
import { stationTagMapFile, stationViews } from "plantwire/simulator";
import { memoryAdapter } from "plantwire/testing";
import { z } from "zod";

/** Serves a one-tag site with `startServe()` from the installed package; the console's files ship in it too. */
async function serveCheck(): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-consumer-serve-"));
  try {
    const siteFile = join(folder, "site.yaml");
    writeFileSync(
      siteFile,
      [
        "site: consumer",
        "adapters:",
        "  plc: { kind: memory, values: { speed: 1200 } }",
        "tags:",
        "  speed: { type: float, unit: rpm, source: { adapter: plc, key: speed } }",
        "guard: { audit: ./.plantwire/audit.jsonl, approvals: ./.plantwire/approvals }",
        "serve: { users: ./users.json }",
        "",
      ].join("\n"),
    );
    const scrypt = { N: 2 ** 10, r: 8, p: 1 };
    await addUserToFile(join(folder, "users.json"), {
      name: "ada",
      role: "operator",
      password: "granite orchard compass",
      scrypt,
    });
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const server = await startServe({ siteFile, listen: "127.0.0.1:0", logger: quiet });
    try {
      const health = (await (await fetch(`${server.url}/healthz`)).json()) as HealthView;
      const page = await fetch(`${server.url}/`);
      if (!health.ok || page.status !== 200)
        throw new Error(`serve: healthz ${JSON.stringify(health)}, console ${page.status}`);
      return `serve=${health.site} console=${page.status}`;
    } finally {
      await server.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

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
  const served = await serveCheck();
  console.log(
    `consumer-check core pressure=${pressure} speed=${advice.speed} context=${context.text.length > 0} ${typeof misspelt} ${served}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
