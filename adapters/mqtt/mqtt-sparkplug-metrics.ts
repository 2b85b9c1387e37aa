/**
 * The edge node's metrics: a tag's sample as a Sparkplug metric (always with a timestamp; name, datatype and
 * properties only in births, as Sparkplug 3.0 asks), and the check that every value can be encoded before anything
 * is sent, so a bad value is an error where it was handed over, never a birth that fails later and stalls the node.
 */
import { ValidationError } from "../../src/errors.js";
import { valueProblem } from "../../src/guard/value-check.js";
import type { Sample } from "../../src/sample.js";
import type { TagDefinitions } from "../../src/tags.js";
import { metricProperties, metricType, type SparkplugMetric } from "./mqtt-sparkplug-codec.js";
import { sparkplugWireValue } from "./mqtt-wire-values.js";

/** Builds the metrics of one edge node's tags (aliases 1, 2, 3 … in tag-map order). */
export class EdgeMetrics {
  readonly names: readonly string[];
  readonly #tags: TagDefinitions;
  readonly #aliases: Map<string, number>;
  readonly #where: string;

  constructor(tags: TagDefinitions, where: string) {
    this.#tags = tags;
    this.names = Object.keys(tags);
    this.#aliases = new Map(this.names.map((name, index) => [name, index + 1]));
    this.#where = where;
  }

  /** The Sparkplug datatype of a tag by metric name or alias, for decoding commands that carry none. */
  typeOf(name: string | undefined, alias: number | undefined): string | undefined {
    const resolved = name ?? (alias === undefined ? undefined : this.names[alias - 1]);
    const tag = resolved === undefined ? undefined : this.#tags[resolved];
    return tag ? metricType(tag) : undefined;
  }

  /** Why a sample of this tag cannot be sent, or undefined. Bad samples are sent as null and always fit. */
  problem(name: string, sample: Sample | undefined): string | undefined {
    const tag = this.#tags[name];
    if (!tag) return `"${name}" is not a tag of this edge node`;
    if (!sample || sample.quality === "bad" || sample.value === undefined) return undefined;
    // Strictly the tag's type (the core's rule for values): a state code for an enum, text for a number are refused
    // here, not converted, since they tell of a mistake upstream.
    const typed = valueProblem(tag, sample.value);
    const wire = typed ? { problem: typed } : sparkplugWireValue(tag, metricType(tag), sample.value);
    if (!("problem" in wire)) return undefined;
    const hint = tag.type === "enum" ? ` (pass a state name: ${Object.keys(tag.states).join(", ")})` : "";
    return `tag "${name}": ${wire.problem}${hint}`;
  }

  /** Throws a ValidationError listing every sample that cannot be sent; `action` says what was refused. */
  assertSendable(entries: readonly (readonly [string, Sample | undefined])[], action: string): void {
    const problems = entries.flatMap(([name, sample]) => this.problem(name, sample) ?? []);
    if (problems.length === 0) return;
    throw new ValidationError(`Sparkplug edge node ${this.#where}: ${action}: ${problems.join("; ")}`, {
      field: entries.find(([name, sample]) => this.problem(name, sample))?.[0] ?? "",
    });
  }

  /** A tag's metric. Births carry name, datatype and properties; data only alias, value and timestamp. */
  metric(name: string, sample: Sample | undefined, birth: boolean, historical = false): SparkplugMetric {
    const tag = this.#tags[name]!;
    const type = metricType(tag);
    const bad = !sample || sample.quality === "bad" || sample.value === undefined;
    const wire = bad ? undefined : sparkplugWireValue(tag, type, sample.value);
    const metric: SparkplugMetric = {
      alias: this.#aliases.get(name)!,
      type,
      value: wire && "value" in wire ? (wire.value as number) : null,
      timestamp: sample ? (sample.sourceTime ?? sample.receivedTime) : Date.now(),
    };
    if (birth) {
      metric.name = name;
      const properties = metricProperties(tag);
      if (properties) metric.properties = properties;
    }
    if (sample?.quality === "bad")
      metric.properties = { ...(metric.properties ?? {}), Quality: { type: "Int32", value: 0 } };
    if (historical) metric.isHistorical = true;
    return metric;
  }
}
