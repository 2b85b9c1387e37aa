/**
 * MQTT CLI commands:
 * - `plantwire mqtt broker [--port 1884]` runs the embedded aedes broker until Ctrl-C;
 * - `plantwire mqtt watch <url> <filter> [--count N] [--timeout MS]` prints messages, decoding Sparkplug B payloads.
 */
import { parseArgs } from "node:util";
import { type CliCommand, type CliIo, exitCodes } from "../../src/cli/cli-command.js";
import { terminalSafe } from "../../src/cli/terminal-text.js";
import { ConfigError, PlantwireError } from "../../src/errors.js";
import { mqtt } from "./mqtt-adapter.js";
import { DEFAULT_BROKER_PORT, startBroker } from "./mqtt-broker.js";
import { loadSparkplugCodec, type SparkplugCodec, toNumber } from "./mqtt-sparkplug-codec.js";
import { topicFilterProblem } from "./mqtt-topic.js";

const brokerUsage = `Usage: plantwire mqtt broker [--port ${DEFAULT_BROKER_PORT}] [--host 127.0.0.1]

Runs the embedded MQTT broker (aedes, MQTT 3.1.1) in this process until Ctrl-C. For the simulator, examples and
tests; use a real broker (Mosquitto, EMQX, HiveMQ) in a plant.`;

const watchUsage = `Usage: plantwire mqtt watch <url> <filter> [--count N] [--timeout MS]

  <url>       mqtt://host:1883, mqtts://..., ws://...
  <filter>    topic filter, wildcards allowed, e.g. "site/#" or "spBv1.0/Line1/#"
  --count     stop after N messages
  --timeout   stop after MS milliseconds

Prints one line per message: the topic and the payload (Sparkplug B payloads decoded to metrics).`;

function usageError(io: CliIo, message: string, usage: string): number {
  io.err(`${message}\n\n${usage}\n`);
  return exitCodes.usage;
}

/**
 * Sparkplug 3.0 data carries no datatypes: the watcher remembers each node's and device's births (by name and alias)
 * to read the data that follows them. Data seen before its birth shows its values as null.
 */
function sparkplugReader(codec: SparkplugCodec): (topic: string, bytes: Uint8Array) => unknown {
  const births = new Map<string, Map<string, string>>();
  return (topic, bytes) => {
    const [, group, type, node, device] = topic.split("/");
    const scope = `${group}/${node}/${device ?? ""}`;
    if (type?.endsWith("BIRTH")) {
      const decoded = codec.decode(bytes);
      const types = new Map<string, string>();
      for (const metric of decoded.metrics ?? []) {
        if (!metric.type) continue;
        if (metric.name) types.set(metric.name, metric.type);
        const alias = toNumber(metric.alias);
        if (alias !== undefined) types.set(`#${alias}`, metric.type);
      }
      births.set(scope, types);
      return decoded;
    }
    const types = births.get(scope);
    return codec.decodeWithTypes(bytes, (name, alias) => types?.get(name ?? `#${alias}`));
  };
}

function describePayload(
  topic: string,
  payload: Buffer,
  decode: ((topic: string, bytes: Uint8Array) => unknown) | undefined,
): string {
  if (topic.startsWith("spBv1.0/") && !topic.startsWith("spBv1.0/STATE/") && decode) {
    try {
      const decoded = decode(topic, payload) as {
        seq?: unknown;
        metrics?: { name?: string; alias?: unknown; value: unknown }[];
      };
      const metrics = (decoded.metrics ?? []).map(
        (metric) => `${metric.name ?? `#${toNumber(metric.alias)}`}=${String(toNumber(metric.value) ?? metric.value)}`,
      );
      return `seq=${toNumber(decoded.seq) ?? "-"} ${metrics.join(" ")}`;
    } catch (error) {
      return `(undecodable Sparkplug payload: ${(error as Error).message})`;
    }
  }
  const text = payload.toString("utf8");
  return text.length > 500 ? `${text.slice(0, 500)}… (${payload.length} bytes)` : text;
}

/** `plantwire mqtt broker`. */
export const brokerCommand: CliCommand = {
  name: "mqtt broker",
  summary: "Run the embedded MQTT broker (aedes) until Ctrl-C",
  usage: brokerUsage,
  async run(args, io) {
    let values: { port?: string; host?: string };
    try {
      ({ values } = parseArgs({ args: [...args], options: { port: { type: "string" }, host: { type: "string" } } }));
    } catch (error) {
      return usageError(io, (error as Error).message, brokerUsage);
    }
    const port = Number(values.port ?? DEFAULT_BROKER_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      return usageError(io, "--port must be 0-65535", brokerUsage);
    const broker = await startBroker({ port, host: values.host ?? "127.0.0.1" });
    io.out(`MQTT broker listening on ${broker.url} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await broker.close();
    return exitCodes.ok;
  },
};

/** `plantwire mqtt watch`. */
export const watchCommand: CliCommand = {
  name: "mqtt watch",
  summary: "Print the messages on a topic filter (Sparkplug B decoded)",
  usage: watchUsage,
  async run(args, io) {
    let parsed: { values: { count?: string; timeout?: string }; positionals: string[] };
    try {
      parsed = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: { count: { type: "string" }, timeout: { type: "string" } },
      });
    } catch (error) {
      return usageError(io, (error as Error).message, watchUsage);
    }
    const [url, filter] = parsed.positionals;
    if (!url || !/^(mqtts?|wss?):\/\//.test(url)) return usageError(io, "give a broker URL", watchUsage);
    const problem = filter === undefined ? "is missing" : topicFilterProblem(filter);
    if (problem || filter === undefined) return usageError(io, `the topic filter ${problem}`, watchUsage);
    const count = parsed.values.count === undefined ? Number.POSITIVE_INFINITY : Number(parsed.values.count);
    const timeout = parsed.values.timeout === undefined ? undefined : Number(parsed.values.timeout);
    if (!(count > 0) || (timeout !== undefined && !(timeout > 0))) {
      return usageError(io, "--count and --timeout must be positive numbers", watchUsage);
    }
    const codec = await loadSparkplugCodec().catch(() => undefined);
    const bus = mqtt({ url, name: "watch" });
    try {
      await bus.connect();
    } catch (error) {
      io.err(`${PlantwireError.isInstance(error) || ConfigError.isInstance(error) ? error.message : String(error)}\n`);
      return exitCodes.failure;
    }
    let seen = 0;
    const reader = codec ? sparkplugReader(codec) : undefined;
    await new Promise<void>((resolve) => {
      const stop = () => {
        clearTimeout(timer);
        process.off("SIGINT", stop);
        resolve();
      };
      const timer = timeout === undefined ? undefined : setTimeout(stop, timeout);
      bus.connection.onMessage((topic, payload) => {
        // Topics and payloads are anyone's text: nothing in them may act on the terminal.
        io.out(`${terminalSafe(topic)}  ${terminalSafe(describePayload(topic, payload, reader))}\n`);
        if (++seen >= count) stop();
      });
      void bus.connection.subscribe(filter, 0);
      process.once("SIGINT", stop);
    });
    await bus.close();
    return exitCodes.ok;
  },
};

/** The MQTT commands, for src/cli/commands.ts. */
export const commands: CliCommand[] = [brokerCommand, watchCommand];
