/** Compares a snapshot read through one of the simulator's views with the model's values, tag by tag. */
import type { Snapshot, TagDefinitions } from "plantwire";
import type { PumpStationValues } from "../../src/sim/pump-station-model.js";
import { modeStates } from "../../src/sim/station-signals.js";

const modeNames = new Map<number, string>(Object.entries(modeStates).map(([name, code]) => [code, name]));

/**
 * The tags whose value differs from the model's: numbers by more than the tag's resolution (what every view can
 * carry), anything else at all. Each entry says what was read and what the model holds; empty when all agree.
 */
export function differences<TTags extends TagDefinitions>(
  snapshot: Snapshot<TTags>,
  values: PumpStationValues,
): string[] {
  const found: string[] = [];
  for (const [name, sample] of snapshot.entries()) {
    const tag = snapshot.tags[name] as TagDefinitions[string];
    const raw = values[name as keyof PumpStationValues];
    const expected = name === "mode" ? modeNames.get(raw as number) : raw;
    const agrees =
      sample.quality !== "bad" &&
      (tag.type === "float" && typeof sample.value === "number" && typeof expected === "number"
        ? Math.abs(sample.value - expected) <= (tag.resolution ?? 0) + 1e-9
        : Object.is(sample.value, expected));
    if (!agrees) {
      const read = sample.quality === "bad" ? `bad (${sample.reason})` : JSON.stringify(sample.value);
      found.push(`${name}: read ${read}, model ${JSON.stringify(expected)}`);
    }
  }
  return found;
}
