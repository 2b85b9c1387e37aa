/**
 * Writes the text of each view's tag-map file from the TypeScript views (station-views.ts): the tags' fields come
 * from the view itself, and each source is written in the form its adapter's `parseSource` reads. The shipped
 * files are this text; a test checks that they still are, and that they load into the same tags as the views.
 */
import { Document, isMap, isSeq, type Scalar } from "yaml";
import { modbus } from "../../adapters/modbus/modbus-adapter.js";
import { mqtt } from "../../adapters/mqtt/mqtt-adapter.js";
import { sparkplugHost } from "../../adapters/mqtt/mqtt-sparkplug-host.js";
import { opcua } from "../../adapters/opcua/opcua-adapter.js";
import { sql } from "../../adapters/sql/sql-adapter.js";
import { plantwireHistorian } from "../../adapters/sql/sql-schema.js";
import type { AnyTag, TagDefinitions } from "../tags.js";
import { type StationSignal, stationSignals } from "./station-signals.js";
import { type StationView, stationAdapterNames } from "./station-tag-map-files.js";
import {
  modbusStationTags,
  mqttStationTags,
  opcuaStationTags,
  sparkplugStationTags,
  sqlStationTags,
  stationNodeId,
  stationSparkplugDevice,
  stationSparkplugGroup,
  stationSparkplugNode,
  stationTopicPrefix,
} from "./station-views.js";

/** What each file's header says: the view, where the simulator serves it, and the adapter its sources name. */
const headers: Record<StationView, { title: string; served: string; adapter: string }> = {
  modbus: {
    title: "the Modbus TCP view",
    served: "Served on modbus+tcp://127.0.0.1:5020, unit 1.",
    adapter: "modbus({ url, unit: 1 })",
  },
  opcua: {
    title: "the OPC UA view",
    served: "Served on opc.tcp://127.0.0.1:4840, one node ns=1;s=PumpStation.<signal> per signal.",
    adapter: "opcua({ endpoint })",
  },
  mqtt: {
    title: "the MQTT view (plain JSON)",
    served: `On the embedded broker (mqtt://127.0.0.1:1884): a retained { value, time } on ${stationTopicPrefix}/<signal>.`,
    adapter: "mqtt({ url })",
  },
  sparkplug: {
    title: "the Sparkplug B view",
    served: `On the embedded broker (mqtt://127.0.0.1:1884): group ${stationSparkplugGroup}, edge node ${stationSparkplugNode}, device ${stationSparkplugDevice}.`,
    adapter: `sparkplugHost({ url, group: "${stationSparkplugGroup}" })`,
  },
  historian: {
    title: "the SQL historian view",
    served: "Recorded in the SQLite file ./plantwire-sim.db, table plantwire_samples (numeric signals only).",
    adapter: 'sql({ url: "sqlite:./plantwire-sim.db" })',
  },
};

/** Each view's tags, built by its TypeScript view over an adapter that is never connected. */
function viewTags(view: StationView): TagDefinitions {
  switch (view) {
    case "modbus":
      return modbusStationTags(modbus({ url: "modbus+tcp://127.0.0.1:5020", unit: 1 }));
    case "opcua":
      return opcuaStationTags(opcua({ endpoint: "opc.tcp://127.0.0.1:4840" }));
    case "mqtt":
      return mqttStationTags(mqtt());
    case "sparkplug":
      return sparkplugStationTags(sparkplugHost({ group: stationSparkplugGroup }));
    case "historian":
      return sqlStationTags(sql({ url: "sqlite:./plantwire-sim.db" }));
  }
}

/** A signal's source as a file writes it (without `adapter`), in the form its adapter's `parseSource` reads. */
function sourceEntry(view: StationView, signal: StationSignal): Record<string, unknown> {
  switch (view) {
    case "modbus": {
      const place = signal.modbus;
      if (!place) throw new Error(`${signal.name} has no Modbus placement`);
      const bits = place.area === "coil" || place.area === "discrete";
      return {
        [place.area]: place.address,
        ...(bits ? {} : { dataType: place.dataType ?? "uint16" }),
        ...(place.scale ? { scale: place.scale } : {}),
        ...(place.wordOrder ? { wordOrder: place.wordOrder } : {}),
      };
    }
    case "opcua":
      return { nodeId: stationNodeId(signal.name) };
    case "mqtt":
      return { topic: `${stationTopicPrefix}/${signal.name}`, path: "/value", timestampPath: "/time" };
    case "sparkplug":
      return { node: stationSparkplugNode, device: stationSparkplugDevice, metric: signal.name };
    case "historian":
      return { narrow: plantwireHistorian(), tag: signal.name };
  }
}

/** The order fields are written in; anything else a tag has follows, then its source. */
const fieldOrder = [
  "type",
  "description",
  "unit",
  "range",
  "resolution",
  "deadband",
  "staleAfterMs",
  "states",
  "labels",
  "maxLength",
  "safety",
  "write",
];

function tagEntry(view: StationView, signal: StationSignal, tag: AnyTag): Record<string, unknown> {
  const fields = tag as unknown as Record<string, unknown>;
  const entry: Record<string, unknown> = {};
  for (const key of fieldOrder) if (fields[key] !== undefined) entry[key] = fields[key];
  for (const [key, value] of Object.entries(fields)) {
    if (key !== "source" && !(key in entry) && value !== undefined) entry[key] = value;
  }
  entry.source = { adapter: stationAdapterNames[view], ...sourceEntry(view, signal) };
  return entry;
}

/**
 * Each tag's collections on one line (`range: [ 0, 5 ]`, `source: { adapter: drive, input: 0 }`), except a source
 * too long for one line, which is a block whose own collections are on one line.
 */
function styleTags(tags: unknown): void {
  if (!isMap(tags)) return;
  for (const tag of tags.items) {
    if (!isMap(tag.value)) continue;
    for (const field of tag.value.items) {
      const value = field.value;
      if (!isMap(value) && !isSeq(value)) continue;
      const long = (field.key as Scalar).value === "source" && JSON.stringify(value.toJSON()).length > 100;
      value.flow = !long;
      if (long && isMap(value)) {
        for (const part of value.items) if (isMap(part.value) || isSeq(part.value)) part.value.flow = true;
      }
    }
  }
}

/** The text of a view's tag-map file. */
export function stationTagMapText(view: StationView): string {
  const tags = viewTags(view);
  const document: Record<string, Record<string, unknown>> = { tags: {} };
  for (const signal of stationSignals) {
    const tag = tags[signal.name];
    if (tag) document.tags![signal.name] = tagEntry(view, signal, tag);
  }
  const yaml = new Document(document, { aliasDuplicateObjects: false });
  styleTags(yaml.get("tags", true));
  const { title, served, adapter } = headers[view];
  const name = stationAdapterNames[view];
  const header = [
    `Tag map of the plantwire simulator's pump station (\`plantwire sim\`): ${title}.`,
    served,
    `Sources name the adapter \`${name}\`, made with ${adapter}:`,
    '  import { stationTagMapFile } from "plantwire/simulator";',
    `  const tags = await loadTagMap(stationTagMapFile("${view}"), { adapters: { ${name} } });`,
    "Generated from src/sim/station-views.ts (npx tsx src/sim/write-station-tag-maps.ts): change that, not this file.",
  ];
  return `${header.map((line) => `# ${line}`).join("\n")}\n${yaml.toString({ lineWidth: 0, flowCollectionPadding: true })}`;
}
