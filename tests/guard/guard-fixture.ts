/** A small pumping station on the memory adapter, with a guard, for the guard tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boolean, createGuard, createPlant, defineTags, enumeration, float, type GuardOptions } from "plantwire";
import { memoryAdapter } from "plantwire/testing";

export function pumpStation(guardOptions: Partial<Omit<GuardOptions<never>, "plant">> = {}) {
  const drive = memoryAdapter({
    name: "drive",
    values: { speed: 1000, pressure: 6, mode: "AUTO", trip: false, valve: 40, limit: 8 },
  });
  const tags = defineTags({
    speed: float({
      unit: "rpm",
      range: [0, 1800],
      resolution: 1,
      source: drive.key("speed"),
      write: { range: [600, 1500], maxStep: 50, minIntervalMs: 0, approval: "automatic", automaticRange: [900, 1050] },
    }),
    pressure: float({ unit: "bar", range: [0, 16], staleAfterMs: 60_000, source: drive.key("pressure") }),
    mode: enumeration({
      states: { OFF: 0, AUTO: 1, MANUAL: 2 },
      source: drive.key("mode"),
      write: { states: ["AUTO", "MANUAL"] },
    }),
    trip: boolean({ safety: true, source: drive.key("trip") }),
    valve: float({
      unit: "%",
      range: [0, 100],
      source: drive.key("valve"),
      write: { range: [10, 90], maxRatePerSecond: 1000, minIntervalMs: 60_000 },
    }),
    limit: float({ unit: "bar", range: [0, 16], source: drive.key("limit"), write: { range: [1, 12] } }),
  });
  const plant = createPlant({ tags, onError: () => {} });
  const folder = mkdtempSync(join(tmpdir(), "plantwire-guard-"));
  const auditFile = join(folder, "audit.jsonl");
  const guard = createGuard({
    plant,
    audit: auditFile,
    interlocks: [{ name: "pump in AUTO", tags: ["speed"], holds: (snapshot) => snapshot.value("mode") === "AUTO" }],
    // These tests decide through the API, standing in for a person.
    allowSameProcessApproval: true,
    ...(guardOptions as object),
  });
  return { drive, tags, plant, guard, folder, auditFile };
}
