/**
 * Pieces of the demo that a glue script would also need: the station's tags over Modbus (plus the alarm text over
 * MQTT), and a rule-based stand-in model for machines without an LLM endpoint.
 */

import { defineTags, functionModel, type Model, openaiModel, type Snapshot } from "plantwire";
import type { ModbusAdapter } from "plantwire/modbus";
import type { MqttAdapter } from "plantwire/mqtt";
import { z } from "zod";
import { modbusStationTags, mqttStationTags } from "../src/sim/station-views.js";

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
    { name: "rule-based stand-in" },
  );
}

/** The configured OpenAI-compatible endpoint when the environment names one, else the rule-based stand-in. */
export function demoModel(target: number): { model: Model; description: string } {
  if (process.env.OPENAI_BASE_URL || process.env.OPENAI_API_KEY) {
    const model = openaiModel();
    return { model, description: `${model.name} (from OPENAI_BASE_URL / OPENAI_API_KEY)` };
  }
  return {
    model: standIn(target),
    description:
      "a built-in RULE-BASED STAND-IN, not a language model (set OPENAI_BASE_URL, e.g. a local Ollama, to use one)",
  };
}
