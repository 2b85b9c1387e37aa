/** `plantwire read` (one snapshot as a table) and `plantwire watch` (live), for a site file. */
import { reasonCode } from "../context/context-values.js";
import { createPlant, type Plant } from "../plant.js";
import type { Snapshot, TimedSample } from "../sample.js";
import { loadSite } from "../site/site-config.js";
import { type AnyTag, decimalsFor, type TagDefinitions } from "../tags.js";
import { type CliCommand, exitCodes } from "./cli-command.js";
import { booleanFlag, CliUsageError, integerFlag, parseFlags, stringFlag } from "./cli-flags.js";
import { untilStopped } from "./cli-signals.js";
import { shortCause } from "./tag-cause.js";
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
  if (sample.quality === "good") return "good";
  // The short cause when the detail names one (a refused port, an unknown host, a missing package), else the reason.
  const reason = shortCause(sample) ?? (sample.reason && reasonCode(sample.reason));
  return `${sample.quality}${reason ? ` (${reason})` : ""}`;
}

/** The full detail of every tag that is not good, one line each, for `--verbose`. */
export function badTagDetails(snapshot: Snapshot<TagDefinitions>): string {
  return snapshot
    .entries()
    .filter(([, sample]) => sample.quality !== "good" || sample.stale)
    .map(([name, sample]) => {
      const detail = sample.detail ?? (sample.stale ? "no new value within its stale-after time" : sample.reason);
      return `  ${name}: ${terminalSafe(String(detail ?? "no detail").replace(/\s*\n\s*/g, " "))}\n`;
    })
    .join("");
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

async function openSite(file: string): Promise<Plant<TagDefinitions>> {
  const site = await loadSite(file);
  return createPlant({ tags: site.tags, onError: () => {} });
}

const siteFlag = stringFlag({ required: true, nonBlank: true, hint: "site.yaml" });

export const readCommand: CliCommand = {
  name: "read",
  summary: "Read one snapshot of a site and print it as a table",
  usage: [
    "Usage: plantwire read --site site.yaml [--json] [--verbose]",
    "  --json     every sample as JSON, detail included",
    "  --verbose  below the table, the full detail of every tag that is not good",
    "A bad tag shows a short cause (connection refused, unknown host, missing <package> …) in the quality column.",
    "Exit 0 when every tag is good, 1 when any is bad or stale, 2 for a wrong command line, 3 for an invalid site.",
  ].join("\n"),
  async run(args, io) {
    const { values } = parseFlags(args, { site: siteFlag, json: booleanFlag() });
    const plant = await openSite(values.site);
    try {
      const snapshot = await plant.read();
      // Still valid JSON: JSON.stringify escapes control characters in strings, and the direction and zero-width ones
      // escaped here land inside strings too, where \uXXXX means the same character. Its own line breaks stay.
      if (values.json) {
        const json = JSON.stringify(Object.fromEntries(snapshot.entries()), null, 2);
        io.out(`${json.split("\n").map(terminalSafe).join("\n")}\n`);
      } else io.out(`${snapshotTable(snapshot)}\n${values.verbose ? badTagDetails(snapshot) : ""}`);
      return snapshot.names.every((name) => snapshot.isUsable(name)) ? exitCodes.ok : exitCodes.failure;
    } finally {
      await plant.close();
    }
  },
};

/** Polling faster than this loads a device (and a shared gateway) for nothing a person can read. */
const FASTEST_INTERVAL_MS = 100;

export const watchCommand: CliCommand = {
  name: "watch",
  summary: "Watch a site live: a table that updates as values change",
  usage: [
    "Usage: plantwire watch --site site.yaml [--interval-ms 1000] [--duration-ms N] [--count N] [--force] [--verbose]",
    `  --interval-ms N  time between reads, ${FASTEST_INTERVAL_MS} to 3600000 ms (below ${FASTEST_INTERVAL_MS} only with --force)`,
    "  --duration-ms N  stop after N ms",
    "  --count N        stop after N tables",
    "  --force          allow an interval below 100 ms (it loads the devices)",
    "  --verbose        below each table, the full detail of every tag that is not good",
    "On a terminal the table is redrawn in place; piped or redirected, each table is appended with its time.",
    "Stops on Ctrl+C, SIGTERM, when its output is closed, after --duration-ms or --count. Exit 0 when stopped,",
    "2 for a wrong command line, 3 for an invalid site.",
  ].join("\n"),
  async run(args, io) {
    const { values } = parseFlags(args, {
      site: siteFlag,
      "interval-ms": integerFlag({
        min: 0,
        max: 3_600_000,
        default: 1000,
        unit: `ms; below ${FASTEST_INTERVAL_MS} only with --force`,
      }),
      "duration-ms": integerFlag({ min: 1, max: 2 ** 31 - 1, unit: "ms" }),
      count: integerFlag({ min: 1, max: 1_000_000_000 }),
      force: booleanFlag(),
    });
    const interval = values["interval-ms"];
    if (interval < FASTEST_INTERVAL_MS && !values.force) {
      throw new CliUsageError(
        `--interval-ms ${interval} would read every device ${Math.round(1000 / interval)} times a second. ` +
          `Fix: give ${FASTEST_INTERVAL_MS} or more, or add --force to poll that fast on purpose.`,
      );
    }
    const plant = await openSite(values.site);
    const stop = untilStopped();
    const duration = values["duration-ms"];
    let timeLimit: NodeJS.Timeout | undefined;
    const ended = Promise.race([
      stop.stopped,
      new Promise<void>((resolve) => {
        if (duration !== undefined) timeLimit = setTimeout(resolve, duration);
      }),
    ]);
    let stopped = false;
    void ended.then(() => {
      stopped = true;
    });
    try {
      for (let shown = 0; !stopped && (values.count === undefined || shown < values.count); shown++) {
        if (shown > 0) {
          let pause: NodeJS.Timeout | undefined;
          await Promise.race([ended, new Promise((resolve) => (pause = setTimeout(resolve, interval)))]);
          clearTimeout(pause);
          if (stopped) break;
        }
        // One read at a time: a slow device delays the next table instead of piling reads up.
        const snapshot = await plant.read();
        if (stopped) break;
        const details = values.verbose ? badTagDetails(snapshot) : "";
        io.out(io.isTerminal ? redraw(snapshotTable(snapshot), details) : appended(snapshot, details));
      }
    } finally {
      clearTimeout(timeLimit);
      stop.cancel();
      await plant.close();
    }
    return exitCodes.ok;
  },
};

// Cursor home, each line cleared to its end, then the rest of the screen: no flicker, no scrolling.
const redraw = (table: string, details: string) =>
  `\u001b[H${`${table}\n${details}`.replaceAll("\n", "\u001b[K\n")}\u001b[J`;

const appended = (snapshot: Snapshot<TagDefinitions>, details: string) =>
  `${new Date(snapshot.time).toISOString()}\n${snapshotTable(snapshot)}\n${details}\n`;
