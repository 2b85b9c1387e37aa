/**
 * Pieces of the demo that a glue script would also need: the station's tags over Modbus (plus the alarm text over
 * MQTT), and rule-based stand-in models for machines without an LLM endpoint.
 */

import {
  type DecodedContext,
  decodeContext,
  defineTags,
  encodeSnapshot,
  encodeWindow,
  type FunctionModelInput,
  functionModel,
  type Model,
  openaiModel,
  Snapshot,
  Window,
} from "plantwire";
import type { ModbusAdapter } from "plantwire/modbus";
import type { MqttAdapter } from "plantwire/mqtt";
import { modbusStationTags, mqttStationTags } from "plantwire/simulator";
import { z } from "zod";

/** The advisor's answer. */
export const Advice = z.object({ speed: z.number(), why: z.string() });
/** The alarm explainer's answer. */
export const Explanation = z.object({ likelyCause: z.string(), action: z.string() });

/** The station as the demo's plant sees it: drive data over Modbus, the alarm text over MQTT. */
export function demoTags(drive: ModbusAdapter, bus: MqttAdapter) {
  return defineTags({ ...modbusStationTags(drive), alarmText: mqttStationTags(bus).alarmText });
}
type DemoSnapshot = Snapshot<ReturnType<typeof demoTags>>;

/** A rule, not a model: hold pressure near the target, back off on high vibration. Announced as such. */
function standIn(target: number): Model {
  return functionModel(
    ({ context, instructions }) => {
      const snapshot = context as DemoSnapshot;
      if (instructions.startsWith("Explain")) {
        const vibration = snapshot.valueOr("vibration", Number.NaN);
        const temperature = snapshot.valueOr("bearingTemperature", Number.NaN);
        return vibration > 7 && temperature > 50
          ? {
              likelyCause: "bearing wear: vibration and bearing temperature rose together",
              action: "reduce speed, plan a bearing inspection",
            }
          : {
              likelyCause: "cavitation or a transient: vibration without bearing heat",
              action: "check the suction side and tank level",
            };
      }
      const pressure = snapshot.value("pressure");
      const speed = snapshot.value("speedSetpoint");
      const vibration = snapshot.valueOr("vibration", 0);
      const step = vibration > 7 ? -60 : pressure < target - 0.1 ? 40 : pressure > target + 0.1 ? -40 : 0;
      const why =
        vibration > 7
          ? `vibration ${vibration.toFixed(1)} mm/s is high: slow down`
          : `pressure ${pressure.toFixed(2)} bar vs target ${target} bar`;
      return { speed: Math.round(speed + step), why };
    },
    { name: "speed rule" },
  );
}

/** The configured OpenAI-compatible endpoint when the environment names one, else the speed rule. */
export function demoModel(target: number): { model: Model; description: string } {
  return endpointOrStandIn(standIn(target));
}

/**
 * The configured OpenAI-compatible endpoint when the environment names one, else `standIn`, with a description that
 * says which one it is.
 */
export function endpointOrStandIn(standIn: Model): { model: Model; description: string } {
  if (process.env.OPENAI_BASE_URL || process.env.OPENAI_API_KEY) {
    const model = openaiModel();
    return { model, description: `${model.name} (from OPENAI_BASE_URL / OPENAI_API_KEY)` };
  }
  return {
    model: standIn,
    description: `${standIn.name}, a RULE-BASED STAND-IN, not a language model (set OPENAI_BASE_URL, e.g. a local Ollama, to use one)`,
  };
}

/** The context as a model would be sent it. */
function contextText(context: FunctionModelInput["context"]): string {
  if (context === undefined || typeof context === "string") return context ?? "";
  if (context instanceof Snapshot) return encodeSnapshot(context).text;
  if (context instanceof Window) return encodeWindow(context, { summaries: true }).text;
  return context.text;
}

/** One tag's window summary in words, e.g. "vibration 1.9..8.4 mm/s, last 8.1". */
function summaryWords(decoded: DecodedContext, name: string): string | undefined {
  const summary = decoded.summaries?.get(name);
  if (!summary?.min) return undefined;
  const unit = decoded.tags.get(name)?.unit;
  return `${name} ${summary.min}..${summary.max}${unit ? ` ${unit}` : ""}, last ${summary.last}`;
}

/**
 * A rule, not a model: names the likely cause of a station alarm from the alarm's words and the window's summaries
 * (what a model would be sent), answering `{ cause, evidence, action }`.
 */
export const alarmStandIn: Model = functionModel(
  ({ context }) => {
    const text = contextText(context);
    const decoded = decodeContext(text);
    const evidence = ["vibration", "bearingTemperature", "pressure", "flow", "level"]
      .map((name) => summaryWords(decoded, name))
      .filter((line) => line !== undefined);
    const vibration = text.includes("High vibration");
    // A bearing that heats up while it vibrates is wearing; vibration without heat points to the hydraulics.
    const heating =
      text.includes("High bearing temperature") ||
      Number.parseFloat(decoded.summaries?.get("bearingTemperature")?.trend ?? "0") > 1;
    const [cause, action] =
      vibration && heating
        ? ["bearing wear: vibration and bearing temperature rose together", "reduce speed, plan a bearing inspection"]
        : vibration && text.includes("Low tank level")
          ? ["cavitation from a low tank level", "reduce speed until the level recovers; check the inflow"]
          : vibration
            ? ["cavitation or a blocked suction: vibration without bearing heat", "check the suction side and strainer"]
            : heating
              ? ["bearing lubrication or cooling problem", "check the bearing's grease and temperature sensor"]
              : text.includes("tank level")
                ? ["inflow and pumping out of balance", "compare inflow with pump flow; adjust the speed setpoint"]
                : ["not clear from these signals", "check the alarm at the panel"];
    return { cause, evidence, action };
  },
  { name: "alarm rule" },
);

/**
 * A rule, not a model: a shift handover from the window's summaries (what a model would be sent), answering
 * `{ summary, concerns, handover }`.
 */
export const shiftReportStandIn: Model = functionModel(
  ({ context }) => {
    const decoded = decodeContext(contextText(context));
    const value = (name: string, field: string) => Number(decoded.summaries?.get(name)?.[field] ?? Number.NaN);
    const concerns: string[] = [];
    if (value("vibration", "max") > 7.1)
      concerns.push(`vibration reached ${value("vibration", "max")} mm/s (alarm at 7.1)`);
    if (value("bearingTemperature", "max") > 80)
      concerns.push(`bearing temperature reached ${value("bearingTemperature", "max")} °C (alarm at 80)`);
    if (value("level", "min") < 0.5) concerns.push(`tank level fell to ${value("level", "min")} m (alarm at 0.5)`);
    if (value("level", "max") > 4.5) concerns.push(`tank level rose to ${value("level", "max")} m (alarm at 4.5)`);
    const summary =
      `Pump 7 averaged ${value("speed", "mean")} rpm, ${value("pressure", "mean")} bar and ${value("flow", "mean")} m3/h; ` +
      `tank level ${value("level", "min")}..${value("level", "max")} m.`;
    return { summary, concerns, handover: concerns[0] ?? "normal running, nothing to hand over" };
  },
  { name: "shift report rule" },
);
