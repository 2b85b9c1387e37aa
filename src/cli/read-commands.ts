/** `plantwire read` (one snapshot as a table) and `plantwire watch` (live), for a site file. */
import { parseArgs } from "node:util";
import { reasonCode } from "../context/context-values.js";
import { createPlant, type Plant } from "../plant.js";
import type { Snapshot, TimedSample } from "../sample.js";
import { loadSite } from "../site/site-config.js";
import { type AnyTag, decimalsFor, type TagDefinitions } from "../tags.js";
import { type CliCommand, type CliIo, exitCodes } from "./cli-command.js";
import { terminalSafe, terminalText } from "./terminal-text.js";

function shown(tag: AnyTag, sample: TimedSample): string {
  const value: unknown = sample.value;
  if (value === undefined) return "—";
  const decimals = decimalsFor(tag);
  if (typeof value === "number") return decimals === undefined ? String(value) : value.toFixed(decimals);
  if (typeof value === "boolean") return String(value);
  // An enum's state name is configuration; text (an alarm text, an MQTT payload) and anything else came from the
  // device: quoted and capped, with anything a terminal would act on escaped.
  if (tag.type === "enum" && typeof value === "string") return terminalSafe(value);
  return terminalText(value, 40);
}

function quality(sample: TimedSample): string {
  if (sample.stale) return "STALE";
  const reason = sample.reason && reasonCode(sample.reason);
  return sample.quality === "good" ? "good" : `${sample.quality}${reason ? ` (${reason})` : ""}`;
}

/** Renders a snapshot as an aligned text table. */
export function snapshotTable(snapshot: Snapshot<TagDefinitions>): string {
  const rows = snapshot.entries().map(([name, sample]) => {
    const tag = snapshot.tags[name] as AnyTag;
    const unit = tag.type === "float" || tag.type === "integer" ? (tag.unit ?? "") : "";
    const age = `${((snapshot.time - (sample.sourceTime ?? sample.receivedTime)) / 1000).toFixed(1)} s`;
    return [name, shown(tag, sample), unit, quality(sample), age];
  });
  const header = ["tag", "value", "unit", "quality", "age"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

async function openSite(file: string | undefined, io: CliIo): Promise<Plant<TagDefinitions> | undefined> {
  if (!file) {
    io.err("Give the site file: --site site.yaml\n");
    return undefined;
  }
  const site = await loadSite(file);
  return createPlant({ tags: site.tags, onError: () => {} });
}

export const readCommand: CliCommand = {
  name: "read",
  summary: "Read one snapshot of a site and print it as a table",
  usage: "Usage: plantwire read --site site.yaml [--json]\nExit 0 when every tag is good, 1 when any is bad or stale.",
  async run(args, io) {
    const { values } = parseArgs({ args: [...args], options: { site: { type: "string" }, json: { type: "boolean" } } });
    const plant = await openSite(values.site, io);
    if (!plant) return exitCodes.usage;
    try {
      const snapshot = await plant.read();
      // Still valid JSON: JSON.stringify escapes control characters in strings, and the direction and zero-width ones
      // escaped here land inside strings too, where \uXXXX means the same character. Its own line breaks stay.
      if (values.json) {
        const json = JSON.stringify(Object.fromEntries(snapshot.entries()), null, 2);
        io.out(`${json.split("\n").map(terminalSafe).join("\n")}\n`);
      } else io.out(`${snapshotTable(snapshot)}\n`);
      return snapshot.names.every((name) => snapshot.isUsable(name)) ? exitCodes.ok : exitCodes.failure;
    } finally {
      await plant.close();
    }
  },
};

export const watchCommand: CliCommand = {
  name: "watch",
  summary: "Watch a site live: a table that updates as values change",
  usage:
    "Usage: plantwire watch --site site.yaml [--interval-ms 1000] [--duration-ms N]\nStops on Ctrl+C or after --duration-ms.",
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        site: { type: "string" },
        "interval-ms": { type: "string", default: "1000" },
        "duration-ms": { type: "string" },
      },
    });
    const plant = await openSite(values.site, io);
    if (!plant) return exitCodes.usage;
    const interactive = process.stdout.isTTY === true && io.out === process.stdout.write.bind(process.stdout);
    const interval = Number(values["interval-ms"]);
    let stop: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const onSignal = () => stop();
    process.once("SIGINT", onSignal);
    const timer = setInterval(async () => {
      const snapshot = await plant.read();
      io.out(
        interactive
          ? `\u001b[2J\u001b[H${snapshotTable(snapshot)}\n`
          : `${new Date(snapshot.time).toISOString()}\n${snapshotTable(snapshot)}\n\n`,
      );
    }, interval);
    const duration = values["duration-ms"] ? setTimeout(stop, Number(values["duration-ms"])) : undefined;
    await finished;
    clearInterval(timer);
    clearTimeout(duration);
    process.off("SIGINT", onSignal);
    await plant.close();
    return exitCodes.ok;
  },
};
