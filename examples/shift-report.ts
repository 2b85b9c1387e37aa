/**
 * Plant problem: at shift change the outgoing operator has to tell the next one how the station ran and what to
 * watch, from memory and a glance at the trends. At each shift change this loop reads the shift's history from the
 * SQL historian (averaged per bucket in SQL, so eight hours of 1 s samples arrive as a few hundred numbers), asks a
 * model for a handover summary, and writes it as a row of the shift log and as a Markdown file. It writes nothing to
 * the plant; the row leaves as a guarded output (checked, rate-limited and audited like a write).
 * Run against the simulator: `npx plantwire sim` in one terminal (its historian is ./plantwire-sim.db), and
 * `npx tsx examples/shift-report.ts --now` in another (without `--now` it waits for 06:00, 14:00 or 22:00). The
 * report goes to `sqlite:./shift-log.db` (table plantwire_events) and ./shift-reports/. The tags come from the
 * simulator's historian tag-map file (tag-maps/pump-station/historian.yaml); for a plant, load the site's own file.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createGuard,
  createLoop,
  createPlant,
  cron,
  encodeWindow,
  loadTagMap,
  type Model,
  shutdownOnSignals,
} from "plantwire";
import { stationTagMapFile } from "plantwire/simulator";
import { createPlantwireSchema, plantwireEventsTemplate, sql } from "plantwire/sql";
import { z } from "zod";
import { endpointOrStandIn, shiftReportStandIn } from "./station-demo-parts.js";

/** The model's answer, validated before anything is written. */
export const ShiftSummary = z.object({
  summary: z.string().describe("how the station ran this shift, in two or three sentences"),
  concerns: z.array(z.string()).describe("what the next shift should watch, each with the readings behind it"),
  handover: z.string().describe("the one thing to tell the incoming operator"),
});

export interface ShiftReportOptions {
  /** The historian: sqlite:, postgres:// or mysql://, plantwire schema. @default "sqlite:./plantwire-sim.db" */
  historianUrl?: string;
  /** The shift log database. @default "sqlite:./shift-log.db" */
  shiftLogUrl?: string;
  /** Where the Markdown reports go. @default "./shift-reports" */
  folder?: string;
  /** When shifts change (cron, local time; a sixth leading field gives seconds). @default "0 6,14,22 * * *" */
  schedule?: string;
  /** @default 28800000 (8 hours) */
  shiftMs?: number;
  /** Also report once right away. @default false */
  runNow?: boolean;
  /** @default the configured OpenAI-compatible endpoint, else the rule-based stand-in */
  model?: Model;
  /** The audit log of the report's guarded output. @default "./shift-report-audit.jsonl" */
  audit?: string;
  /** @default console.log */
  log?: (line: string) => void;
}

export async function startShiftReport(options: ShiftReportOptions = {}) {
  const historian = sql({ url: options.historianUrl ?? "sqlite:./plantwire-sim.db", name: "historian" });
  // Every numeric tag of the file goes into the report; the summary and its concerns need at least these.
  const tags = await loadTagMap(stationTagMapFile("historian"), {
    adapters: { historian },
    expect: {
      speed: "float",
      pressure: "float",
      flow: "float",
      level: "float",
      vibration: "float",
      bearingTemperature: "float",
    },
  });
  const plant = createPlant({ tags });
  const shiftLogUrl = options.shiftLogUrl ?? "sqlite:./shift-log.db";
  await createPlantwireSchema({ url: shiftLogUrl }); // creates plantwire_events if it is missing
  const shiftLog = sql({ url: shiftLogUrl, name: "shift-log", templates: { log: plantwireEventsTemplate() } });
  await shiftLog.connect();
  const folder = options.folder ?? "./shift-reports";
  await mkdir(folder, { recursive: true });
  const shiftMs = options.shiftMs ?? 8 * 3_600_000;
  // The model's words reach the shift log only through this guard: one declared output, nothing writable.
  const guard = createGuard({
    plant,
    audit: options.audit ?? "./shift-report-audit.jsonl",
    writable: [],
    outputs: { shiftLog: { channel: shiftLog.rowOutput("log"), maxBytes: 32_768, perMinute: 2 } },
  });

  const loop = createLoop(plant, {
    name: "shift-report",
    trigger: cron(options.schedule ?? "0 6,14,22 * * *"),
    model: options.model ?? endpointOrStandIn(shiftReportStandIn).model,
    async run({ cause, model }) {
      const to = cause.time;
      const from = to - shiftMs;
      // 48 averages per tag, computed in the database; the summaries add each tag's min, max, mean and trend.
      const window = await historian.history(plant.tags, from, to, { bucket: Math.ceil(shiftMs / 48) });
      const context = encodeWindow(window, { summaries: true });
      const report = await model!.generate({
        instructions:
          "Write the shift handover for a pumping station from this shift's historian averages. Say how it ran, " +
          "what the next shift should watch (with the readings behind it), and the one thing to tell them.",
        context,
        output: ShiftSummary,
      });
      const period = `${new Date(from).toISOString()} to ${new Date(to).toISOString()}`;
      const file = join(folder, `shift-report-${new Date(to).toISOString().replace(/[:.]/g, "-")}.md`);
      const concerns = report.concerns.map((concern) => `- ${concern}`).join("\n") || "- none";
      const data = context.body.split("\n").filter((line) => / n=\d/.test(line)); // the summary lines
      await writeFile(
        file,
        `# Shift report, pump station\n\n${period}\n\n${report.summary}\n\n## Watch\n\n${concerns}\n\n` +
          `## Handover\n\n${report.handover}\n\n## Data (bucket averages)\n\n\`\`\`\n${data.join("\n")}\n\`\`\`\n` +
          `\nWritten by ${model!.name}.\n`,
      );
      // The Markdown file is for people on this box; the row goes to a shared database, so through the guard.
      const row = {
        time: new Date(to).toISOString(),
        source: "shift-report",
        kind: "shift-report",
        message: report.summary,
        data: JSON.stringify({ ...report, from, to, file, model: model!.name }),
      };
      const logged = await guard.send("shiftLog", row, {
        reason: `shift report ${period}`,
        loop: "shift-report",
        modelId: model!.name,
      });
      const note = logged.state === "executed" ? "" : ` (shift log row not written: ${logged.state})`;
      (options.log ?? console.log)(`shift report for ${period}: ${file}${note}`);
    },
  });
  await loop.start();
  if (options.runNow) loop.trigger();
  return { plant, loop, shiftLog, guard };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { model, description } = endpointOrStandIn(shiftReportStandIn);
  const { plant, loop, shiftLog, guard } = await startShiftReport({ model, runNow: process.argv.includes("--now") });
  console.log(`shift report running (06:00, 14:00, 22:00); model: ${description}`);
  shutdownOnSignals({ loops: [loop], guard, plant, also: [shiftLog] });
}
