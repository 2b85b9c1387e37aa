/**
 * Plant problem: when a station alarm comes in, the operator sees "High vibration 7.9 mm/s" and has to dig through
 * trends to guess why. This loop waits for the PLC's alarm bit (OPC UA) to come on, takes the last minutes of the
 * related signals, asks a model for the likely cause, its evidence and a first action, publishes that on MQTT for the
 * HMI and dashboards, and writes it as a row of the shift log in SQL. It writes nothing to the plant, and the model's
 * text leaves only as guarded outputs: each message and row is checked (allowed topic and table, size, rate) and
 * recorded in the audit like a write.
 * Run against the simulator: `npx plantwire sim --speedup 30 --fault-at bearing-wear@20` in one terminal (the bearing
 * starts to wear 20 s after start and the vibration alarm comes on a minute or two later; or type `fault cavitation on`
 * there at any time), and `npx tsx examples/alarm-explainer.ts` in another. The shift log is `sqlite:./shift-log.db` (table plantwire_events); pass `shiftLogUrl` for PostgreSQL or
 * MariaDB. The tags come from the simulator's OPC UA tag-map file (tag-maps/pump-station/opcua.yaml); for a plant,
 * load the site's own file instead.
 */
import {
  createGuard,
  createLoop,
  createPlant,
  encodeWindow,
  loadTagMap,
  type Model,
  shutdownOnSignals,
  whenTag,
} from "plantwire";
import { mqtt } from "plantwire/mqtt";
import { opcua } from "plantwire/opcua";
import { stationTagMapFile } from "plantwire/simulator";
import { createPlantwireSchema, plantwireEventsTemplate, sql } from "plantwire/sql";
import { z } from "zod";
import { alarmStandIn, endpointOrStandIn } from "./station-demo-parts.js";

/** The model's answer, validated before anything is published or logged. */
export const AlarmExplanation = z.object({
  cause: z.string().describe("the most likely cause, in one sentence"),
  evidence: z.array(z.string()).describe("the readings that point to it"),
  action: z.string().describe("what the operator should check or do first"),
});

/** The signals that explain the station's alarms: the model sees them as a window. */
const related = [
  "vibration",
  "bearingTemperature",
  "pressure",
  "flow",
  "speed",
  "motorCurrent",
  "level",
  "alarmText",
] as const;

export interface AlarmExplainerOptions {
  /** @default "opc.tcp://127.0.0.1:4840" (the simulator) */
  opcuaUrl?: string;
  /** This client's OPC UA certificate folder. @default "./pki/opcua" */
  pkiFolder?: string;
  /** @default "mqtt://127.0.0.1:1884" (the simulator's broker) */
  mqttUrl?: string;
  /** @default "plantwire/pump-station/alarm-explanations" */
  topic?: string;
  /** The shift log database: sqlite:, postgres:// or mysql://. @default "sqlite:./shift-log.db" */
  shiftLogUrl?: string;
  /** How far back the window reaches. @default 600000 (10 minutes) */
  windowMs?: number;
  /** @default the configured OpenAI-compatible endpoint, else the rule-based stand-in */
  model?: Model;
  /** The audit log of the explainer's guarded outputs. @default "./alarm-explainer-audit.jsonl" */
  audit?: string;
  /** @default console.log */
  log?: (line: string) => void;
}

export async function startAlarmExplainer(options: AlarmExplainerOptions = {}) {
  const plc = opcua({
    endpoint: options.opcuaUrl ?? "opc.tcp://127.0.0.1:4840",
    name: "plc",
    // The simulator offers security None. Against a plant's server, drop these two lines and trust its certificate.
    securityMode: "None",
    insecure: true,
    ...(options.pkiFolder ? { pkiFolder: options.pkiFolder } : {}),
  });
  // The tags this script relies on, checked as the file loads; each name used below is typed by it.
  const tags = await loadTagMap(stationTagMapFile("opcua"), {
    adapters: { plc },
    expect: {
      alarm: "boolean",
      alarmText: "text",
      vibration: "float",
      bearingTemperature: "float",
      pressure: "float",
      flow: "float",
      speed: "float",
      motorCurrent: "float",
      level: "float",
    },
  });
  const plant = createPlant({ tags, historySize: 5000 });
  const bus = mqtt({ url: options.mqttUrl ?? "mqtt://127.0.0.1:1884", name: "bus" });
  const shiftLogUrl = options.shiftLogUrl ?? "sqlite:./shift-log.db";
  await createPlantwireSchema({ url: shiftLogUrl }); // creates plantwire_events if it is missing
  const shiftLog = sql({ url: shiftLogUrl, name: "shift-log", templates: { log: plantwireEventsTemplate() } });
  await Promise.all([bus.connect(), shiftLog.connect()]);
  // Keeps the related signals' recent history in memory, so the window is there when the alarm comes.
  await plant.watch(() => {}, { tags: related });
  const topic = options.topic ?? "plantwire/pump-station/alarm-explanations";
  const log = options.log ?? console.log;
  // The only way the model's words leave this process: two declared outputs, checked and audited like writes.
  // `writable: []`: this guard writes no tag (and so claims no device of the plant's).
  const guard = createGuard({
    plant,
    audit: options.audit ?? "./alarm-explainer-audit.jsonl",
    writable: [],
    outputs: {
      explanation: { channel: bus.messageOutput({ topics: [topic] }), maxBytes: 8192, perMinute: 4 },
      shiftLog: { channel: shiftLog.rowOutput("log"), maxBytes: 16_384, perMinute: 4 },
    },
  });

  const loop = createLoop(plant, {
    name: "alarm-explainer",
    // A chattering alarm is explained once per episode: it must stay off a minute before it counts again.
    trigger: whenTag("alarm", (on) => on === true, { description: "alarm bit comes on", rearmMs: 60_000 }),
    model: options.model ?? endpointOrStandIn(alarmStandIn).model,
    budget: { modelCallsPerHour: 20 },
    async run({ cause, model }) {
      const window = plant.window(related, { from: cause.time - (options.windowMs ?? 600_000) });
      const explanation = await model!.generate({
        instructions:
          "A pumping station alarm has just come on. From the window of related signals, explain its most likely " +
          "cause for the shift operator, name the readings that show it, and the first thing to check or do.",
        context: encodeWindow(window, { tags: related, summaries: true, maxTokens: 2000 }),
        output: AlarmExplanation,
      });
      // The alarm may have cleared again by now: report the latest words it had.
      const alarmText = plant.history("alarmText").findLast((sample) => sample.value)?.value ?? "";
      const data = { alarmText, ...explanation, model: model!.name };
      const origin = { reason: `explains alarm "${alarmText}"`, loop: "alarm-explainer", modelId: model!.name };
      const event = {
        kind: "event",
        type: "alarm.explanation",
        severity: "alarm",
        message: explanation.cause,
        tags: ["alarm"],
        data,
        time: Date.now(),
      };
      const sent = await guard.send("explanation", { topic, payload: event }, origin);
      const row = {
        time: new Date(cause.time).toISOString(),
        source: "alarm-explainer",
        kind: "alarm-explanation",
        tag: "alarm",
        message: `${alarmText}: ${explanation.cause}`,
        data: JSON.stringify(data),
      };
      const logged = await guard.send("shiftLog", row, origin);
      for (const output of [sent, logged]) {
        if (output.state !== "executed" || output.outcome?.write !== "written") {
          const failed = output.verdicts.filter((verdict) => !verdict.passed).map((verdict) => verdict.detail);
          log(`output ${output.tag} not sent (${output.state}): ${failed.join("; ") || output.outcome?.detail}`);
        }
      }
      log(`ALARM ${alarmText}\n  likely cause: ${explanation.cause}\n  first action: ${explanation.action}`);
    },
  });
  await loop.start();
  return { plant, loop, bus, shiftLog, guard };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { model, description } = endpointOrStandIn(alarmStandIn);
  const { plant, loop, bus, shiftLog, guard } = await startAlarmExplainer({ model });
  console.log(`alarm explainer waiting for the alarm bit; model: ${description}`);
  shutdownOnSignals({ loops: [loop], guard, plant, also: [bus, shiftLog] });
}
