/**
 * What makes a loop run: a period, a cron schedule, a change past a deadband, an event, a tag entering a state,
 * or any of several. The model is called when something happens, not every second.
 */
import { ConfigError } from "../errors.js";
import type { Plant, TagChange } from "../plant.js";
import type { TagDefinitions, TagName } from "../tags.js";

/** Why a run started. */
export interface TriggerCause<TTags extends TagDefinitions = TagDefinitions> {
  readonly kind: "interval" | "cron" | "change" | "event" | "state";
  /** Which trigger, in words, e.g. "every 10 s" or "change of pressure, vibration". */
  readonly trigger: string;
  readonly time: number;
  /** The changes that caused it (change and state triggers). */
  readonly changes?: readonly TagChange<TTags>[];
  /** The event that caused it (event triggers). */
  readonly event?: unknown;
}

/** What a trigger gets when its loop starts. */
export interface TriggerContext<TTags extends TagDefinitions> {
  readonly plant: Plant<TTags>;
  fire(cause: TriggerCause<TTags>): void;
  onError(error: unknown): void;
}

/** A trigger: started with its loop, stopped with it. */
export interface Trigger<TTags extends TagDefinitions = TagDefinitions> {
  readonly description: string;
  /** Starts watching; resolves with a function that stops it. */
  start(context: TriggerContext<TTags>): Promise<() => Promise<void>>;
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from a number of ms or a text like "500ms", "10s", "5m", "1h". */
export function parseDuration(value: number | string, field = "interval"): number {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  const match = typeof value === "string" ? /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(value.trim()) : null;
  if (!match) {
    throw new ConfigError([
      { path: field, message: `"${String(value)}" is not a duration`, fix: 'write e.g. 10000, "10s", "5m" or "1h"' },
    ]);
  }
  return Number(match[1]) * (units[match[2] as string] as number);
}

/** Runs every `interval` (ms or "10s"). */
export function every<TTags extends TagDefinitions = TagDefinitions>(interval: number | string): Trigger<TTags> {
  const ms = parseDuration(interval);
  const description = `every ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}`;
  return {
    description,
    async start({ fire }) {
      const timer = setInterval(() => fire({ kind: "interval", trigger: description, time: Date.now() }), ms);
      return async () => clearInterval(timer);
    },
  };
}

/** Runs on a cron schedule, e.g. "0 6,14,22 * * *" for each shift change (croner; seconds field optional). */
export function cron<TTags extends TagDefinitions = TagDefinitions>(
  expression: string,
  options: { timezone?: string } = {},
): Trigger<TTags> {
  const description = `cron "${expression}"`;
  return {
    description,
    async start({ fire }) {
      const { Cron } = await import("croner");
      let job: InstanceType<typeof Cron>;
      try {
        job = new Cron(expression, { ...(options.timezone ? { timezone: options.timezone } : {}) }, () =>
          fire({ kind: "cron", trigger: description, time: Date.now() }),
        );
      } catch (error) {
        throw new ConfigError([
          {
            path: "cron",
            message: `"${expression}" is not a cron expression (${(error as Error).message})`,
            fix: 'write e.g. "*/5 * * * *" (every 5 minutes)',
          },
        ]);
      }
      return async () => job.stop();
    },
  };
}

/** Options of {@link onChange}. */
export interface OnChangeOptions {
  /** A deadband for this trigger, in engineering units, on top of each tag's own. @default the tags' deadbands */
  deadband?: number;
  /** Changes arriving within this window are gathered into one run. @default 200 */
  settleMs?: number;
}

/**
 * Runs when one of `tags` changes past its deadband (or `options.deadband`), or changes quality, or goes stale.
 * The first value seen of each tag does not count as a change.
 */
export function onChange<TTags extends TagDefinitions>(
  tags: readonly TagName<TTags>[],
  options: OnChangeOptions = {},
): Trigger<TTags> {
  const description = `change of ${tags.join(", ")}`;
  return {
    description,
    async start({ plant, fire }) {
      const lastFired = new Map<string, unknown>();
      let gathered: TagChange<TTags>[] = [];
      let timer: NodeJS.Timeout | undefined;
      const flush = () => {
        timer = undefined;
        const changes = gathered;
        gathered = [];
        if (changes.length > 0) fire({ kind: "change", trigger: description, time: Date.now(), changes });
      };
      const watcher = await plant.watch(
        (change) => {
          const first = !lastFired.has(change.name);
          const previous = lastFired.get(change.name);
          const value = change.sample.stale ? "STALE" : change.sample.quality === "bad" ? "BAD" : change.sample.value;
          if (first) return void lastFired.set(change.name, value);
          if (
            options.deadband !== undefined &&
            typeof value === "number" &&
            typeof previous === "number" &&
            Math.abs(value - previous) <= options.deadband
          )
            return;
          lastFired.set(change.name, value);
          gathered.push(change);
          timer ??= setTimeout(flush, options.settleMs ?? 200);
        },
        { tags },
      );
      return async () => {
        clearTimeout(timer);
        await watcher.stop();
      };
    },
  };
}

/** Runs when a tag enters a state, e.g. `whenTag("alarm", (on) => on === true)`: fires on the false → true edge only. */
export function whenTag<TTags extends TagDefinitions, K extends TagName<TTags>>(
  tag: K,
  entered: (value: unknown) => boolean,
  description = `${tag} enters its state`,
): Trigger<TTags> {
  return {
    description,
    async start({ plant, fire, onError }) {
      let inside: boolean | undefined;
      const watcher = await plant.watch(
        (change) => {
          let now = false;
          try {
            now = change.sample.quality !== "bad" && !change.sample.stale && entered(change.sample.value) === true;
          } catch (error) {
            onError(error);
          }
          if (now && inside === false)
            fire({ kind: "state", trigger: description, time: Date.now(), changes: [change] });
          inside = now;
        },
        { tags: [tag] },
      );
      return () => watcher.stop();
    },
  };
}

/**
 * Runs on an outside event: `subscribe` receives an `emit` function and returns an unsubscribe function,
 * e.g. an MQTT message handler or a webhook.
 */
export function onEvent<TTags extends TagDefinitions = TagDefinitions>(
  description: string,
  subscribe: (emit: (event: unknown) => void) => (() => void) | Promise<() => void>,
): Trigger<TTags> {
  return {
    description,
    async start({ fire }) {
      const unsubscribe = await subscribe((event) =>
        fire({ kind: "event", trigger: description, time: Date.now(), event }),
      );
      return async () => unsubscribe();
    },
  };
}

/** Runs when any of the triggers fires. */
export function anyOf<TTags extends TagDefinitions>(...triggers: Trigger<TTags>[]): Trigger<TTags> {
  return {
    description: triggers.map((trigger) => trigger.description).join(" or "),
    async start(context) {
      const stops = await Promise.all(triggers.map((trigger) => trigger.start(context)));
      return async () => {
        await Promise.all(stops.map((stop) => stop()));
      };
    },
  };
}
