/**
 * The topics a general publish may not reach: the command (and response) topics of this adapter's writable tag
 * sources, and the Sparkplug B command namespace. A value on one of them moves a device, so it goes only through the
 * write guard (policy, approval, audit); the guard's own writer uses the internal connection, never this gate.
 */
import { ConfigError, ValidationError } from "../../src/errors.js";
import type { CommandOptions } from "./mqtt-config.js";
import type { MqttConnection } from "./mqtt-connection.js";
import { topicFilterProblem, topicMatches, topicNameProblem } from "./mqtt-topic.js";

/**
 * The Sparkplug B command namespace, exactly as the specification spells it (topics are case-sensitive):
 * `spBv1.0/<group>/NCMD/<edge node>` and `spBv1.0/<group>/DCMD/<edge node>/<device>`.
 */
export const SPARKPLUG_COMMAND_FILTERS: readonly string[] = ["spBv1.0/+/NCMD/+", "spBv1.0/+/DCMD/+/+"];

const fixWord = "propose the value through the write guard (guard.propose), which checks, audits and sends it";

/**
 * A topic as a look-alike would be read: Unicode compatibility form, invisible and control characters dropped,
 * each level trimmed, empty levels dropped. Brokers compare bytes, but bridges and gateways between a broker and a
 * device may not, so a topic that only differs from a command topic in these ways is refused too. Case is kept:
 * MQTT topics are case-sensitive.
 */
export function normaliseTopic(topic: string): string {
  return topic
    .normalize("NFKC")
    .replace(/[\p{Cc}\p{Cf}]/gu, "")
    .split("/")
    .map((level) => level.trim())
    .filter((level) => level.length > 0)
    .join("/");
}

/**
 * True when some topic matches both filters (a plain topic is a filter without wildcards). `+` stands for any one
 * level, `#` for any rest including none; a filter starting with a wildcard never matches a `$` topic.
 */
export function filtersOverlap(first: string, second: string): boolean {
  const a = first.split("/");
  const b = second.split("/");
  const wildcardStart = (levels: string[]) => levels[0] === "+" || levels[0] === "#";
  const dollarStart = (levels: string[]) => levels[0]?.startsWith("$") === true;
  if ((wildcardStart(a) && dollarStart(b)) || (wildcardStart(b) && dollarStart(a))) return false;
  for (let index = 0; ; index++) {
    const left = a[index];
    const right = b[index];
    if (left === "#" || right === "#") return true;
    if (left === undefined || right === undefined) return left === right;
    if (left !== "+" && right !== "+" && left !== right) return false;
  }
}

/** The command topics of one adapter, and the check every general publish passes. */
export class CommandTopics {
  readonly #adapterName: string;
  /** Normalised topic → what it belongs to (e.g. "command topic of site/pump7/speed"). */
  readonly #protected = new Map<string, { topic: string; role: string }>();

  constructor(adapterName: string) {
    this.#adapterName = adapterName;
  }

  /** Remembers the command and response topics of a writable source (from `topic()`, a tag map or a bound tag). */
  add(command: CommandOptions | undefined, stateTopic: string): void {
    if (!command) return;
    this.#protected.set(normaliseTopic(command.topic), {
      topic: command.topic,
      role: `command topic of ${stateTopic}`,
    });
    if (command.responseTopic !== undefined) {
      // A forged answer would report a write as done that the device never made.
      this.#protected.set(normaliseTopic(command.responseTopic), {
        topic: command.responseTopic,
        role: `response topic of the command for ${stateTopic}`,
      });
    }
  }

  /** Why a general publish to `topic` is refused, or undefined when it may go. */
  refusal(topic: string): string | undefined {
    if (SPARKPLUG_COMMAND_FILTERS.some((filter) => topicMatches(filter, topic))) {
      return "is in the Sparkplug B command namespace (NCMD/DCMD): a command there moves a device";
    }
    const hit = this.#protected.get(normaliseTopic(topic));
    if (hit) {
      const same = hit.topic === topic ? "" : ` (${JSON.stringify(hit.topic)} after normalising)`;
      return `is the ${hit.role}${same} on MQTT adapter "${this.#adapterName}": a message there moves a device`;
    }
    return undefined;
  }

  /** Why a topic filter may not be allowed for a message output (it reaches a command topic), or undefined. */
  filterRefusal(filter: string): string | undefined {
    const sparkplug = SPARKPLUG_COMMAND_FILTERS.find((command) => filtersOverlap(filter, command));
    if (sparkplug) return `reaches the Sparkplug B command namespace (${sparkplug})`;
    for (const [normalised, hit] of this.#protected) {
      if (filtersOverlap(filter, hit.topic) || filtersOverlap(normaliseTopic(filter), normalised)) {
        return `reaches the ${hit.role} (${JSON.stringify(hit.topic)}) on MQTT adapter "${this.#adapterName}"`;
      }
    }
    return undefined;
  }

  /** Throws when a general publish to `topic` is not allowed: a wildcard, a command topic or the Sparkplug commands. */
  assertPublishable(topic: string): void {
    const invalid = typeof topic === "string" ? topicNameProblem(topic) : "is not a string";
    if (invalid !== undefined) {
      throw new ValidationError(
        `MQTT adapter "${this.#adapterName}": the publish topic ${JSON.stringify(topic)} ${invalid}; nothing was sent. ` +
          'Fix: publish to one plain topic such as "site/line1/events"',
        { field: "topic" },
      );
    }
    const refusal = this.refusal(topic);
    if (refusal !== undefined) {
      throw new ConfigError([
        {
          path: "publish.topic",
          message: `MQTT adapter "${this.#adapterName}" refused to publish to ${JSON.stringify(topic)}, which ${refusal}; nothing was sent`,
          fix: `${fixWord}; getInstance() is the documented way around this promise`,
        },
      ]);
    }
  }

  /** Throws when the allowed topics of a message output are invalid filters or reach a command topic. */
  assertOutputTopics(filters: readonly string[]): void {
    const issues = filters.flatMap((filter, index) => {
      const invalid = typeof filter === "string" ? topicFilterProblem(filter) : "is not a string";
      const problem = invalid ?? this.filterRefusal(filter);
      if (problem === undefined) return [];
      return [
        {
          path: `messageOutput.topics.${index}`,
          message: `${JSON.stringify(filter)} ${problem}`,
          fix:
            invalid === undefined
              ? `allow only topics that no command listens on; ${fixWord}`
              : 'write a topic or filter like "plantwire/line1/explanations" or "plantwire/line1/#"',
        },
      ];
    });
    if (filters.length === 0) {
      issues.push({
        path: "messageOutput.topics",
        message: "is empty",
        fix: 'name the topics the output may send to, e.g. ["plantwire/line1/explanations"]',
      });
    }
    if (issues.length > 0) throw new ConfigError(issues);
  }
}

/**
 * The adapter's connection as it is shown to callers: state, counters and subscriptions, but no publish and no client
 * (a raw publish there would be a side door around the gate; `getInstance()` is the one documented way out).
 */
export type MqttConnectionView = Pick<
  MqttConnection,
  | "clientId"
  | "protocolVersion"
  | "status"
  | "counters"
  | "onMessage"
  | "onGap"
  | "onConnected"
  | "subscribe"
  | "unsubscribe"
>;

/** Builds the {@link MqttConnectionView} of a connection: a separate object, so nothing reaches `publish` through it. */
export function connectionView(connection: MqttConnection): MqttConnectionView {
  return Object.freeze({
    clientId: connection.clientId,
    get protocolVersion() {
      return connection.protocolVersion;
    },
    status: connection.status,
    counters: connection.counters,
    onMessage: connection.onMessage.bind(connection),
    onGap: connection.onGap.bind(connection),
    onConnected: connection.onConnected.bind(connection),
    subscribe: connection.subscribe.bind(connection),
    unsubscribe: connection.unsubscribe.bind(connection),
  });
}
