/**
 * MQTT CLI commands:
 * - `plantwire mqtt broker [--port 1884]` runs the embedded aedes broker until Ctrl-C;
 * - `plantwire mqtt watch <url> <filter> [--count N] [--timeout MS]` prints messages, decoding Sparkplug B payloads.
 */
import { type CliCommand, exitCodes } from "../../src/cli/cli-command.js";
import { CliUsageError, integerFlag, parseFlags, stringFlag } from "../../src/cli/cli-flags.js";
import { untilStopped } from "../../src/cli/cli-signals.js";
import { terminalSafe } from "../../src/cli/terminal-text.js";
import { ConfigError, PlantwireError } from "../../src/errors.js";
import { mqtt } from "./mqtt-adapter.js";
import { DEFAULT_BROKER_PORT, startBroker } from "./mqtt-broker.js";
import { loadSparkplugCodec, type SparkplugCodec, toNumber } from "./mqtt-sparkplug-codec.js";
import { topicFilterProblem } from "./mqtt-topic.js";

const brokerUsage = `Usage: plantwire mqtt broker [--port ${DEFAULT_BROKER_PORT}] [--host 127.0.0.1]

Runs the embedded MQTT broker (aedes, MQTT 3.1.1) in this process until Ctrl-C or SIGTERM. For the simulator,
examples and tests; use a real broker (Mosquitto, EMQX, HiveMQ) in a plant.
  --port      0-65535; 0 picks a free port (the URL is printed)
Exit 0 when stopped, 1 when it cannot listen, 2 for a wrong command line.`;

const watchUsage = `Usage: plantwire mqtt watch <url> <filter> [--count N] [--timeout MS]

  <url>       mqtt://host:1883, mqtts://..., ws://...
  <filter>    topic filter, wildcards allowed, e.g. "site/#" or "spBv1.0/Line1/#"
  --count     stop after N messages (exactly N lines are printed)
  --timeout   stop after MS milliseconds

Prints one line per message: the topic and the payload (Sparkplug B payloads decoded to metrics).
Stops on Ctrl+C, SIGTERM, when its output is closed, after --count or --timeout.
Exit 0 when stopped, 1 when the broker cannot be reached, 2 for a wrong command line.`;

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
    const { values } = parseFlags(args, {
      port: integerFlag({ min: 0, max: 65_535, default: DEFAULT_BROKER_PORT }),
      host: stringFlag({ default: "127.0.0.1", nonBlank: true }),
    });
    // Listen for signals before the broker starts: a SIGTERM sent as soon as it listens still closes it cleanly.
    const stop = untilStopped();
    const broker = await startBroker({ port: values.port, host: values.host }).catch((error: unknown) => {
      stop.cancel();
      throw error;
    });
    io.out(`MQTT broker listening on ${broker.url} (Ctrl-C to stop)\n`);
    await stop.stopped;
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
    const { values, positionals } = parseFlags(
      args,
      {
        count: integerFlag({ min: 1, max: 1_000_000_000 }),
        timeout: integerFlag({ min: 1, max: 2 ** 31 - 1, unit: "ms" }),
      },
      { positionals: { names: ["<url>", "<filter>"] } },
    );
    const [url = "", filter = ""] = positionals;
    if (!/^(mqtts?|wss?):\/\//.test(url)) {
      throw new CliUsageError(`<url> "${url}" is not a broker URL. Fix: give mqtt://host:1883, mqtts://… or ws://….`);
    }
    const problem = topicFilterProblem(filter);
    if (problem) throw new CliUsageError(`The topic filter "${filter}" ${problem}.`);
    const count = values.count ?? Number.POSITIVE_INFINITY;
    const timeout = values.timeout;
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
    const signals = untilStopped();
    await new Promise<void>((resolve) => {
      const stop = () => {
        clearTimeout(timer);
        signals.cancel();
        resolve();
      };
      const timer = timeout === undefined ? undefined : setTimeout(stop, timeout);
      bus.connection.onMessage((topic, payload) => {
        // Messages keep arriving (retained ones in a burst) until the connection is closed: past the count, none
        // is printed.
        if (seen >= count) return;
        // Topics and payloads are anyone's text: nothing in them may act on the terminal.
        io.out(`${terminalSafe(topic)}  ${terminalSafe(describePayload(topic, payload, reader))}\n`);
        if (++seen >= count) stop();
      });
      void bus.connection.subscribe(filter, 0);
      void signals.stopped.then(stop);
    });
    await bus.close();
    return exitCodes.ok;
  },
};

/** The MQTT commands, for src/cli/commands.ts. */
export const commands: CliCommand[] = [brokerCommand, watchCommand];
