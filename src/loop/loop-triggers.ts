/**
 * What makes a loop run: a period, a cron schedule, a change past a deadband, an event, a tag entering a state,
 * or any of several. The model is called when something happens, not every second.
 */
import type { Plant, TagChange } from "../plant.js";
import type { TimedSample } from "../sample.js";
import { absoluteDeadband, type TagDefinitions, type TagName, type TagValue } from "../tags.js";
import type { LoopClock } from "./loop-clock.js";

export { cron, every, parseDuration } from "./loop-timed-triggers.js";

/** Why a run started. */
export interface TriggerCause<TTags extends TagDefinitions = TagDefinitions> {
  readonly kind: "interval" | "cron" | "change" | "event" | "state";
  /** Which trigger, in words, e.g. "every 10 s" or "on change of pressure, vibration". */
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
  /** The loop's clock: triggers measure periods, settle and hold times on it. */
  readonly clock: LoopClock;
  fire(cause: TriggerCause<TTags>): void;
  onError(error: unknown): void;
  /**
   * Tells the loop when this trigger will next fire (ms since the epoch, on the loop's clock; cron on the wall clock),
   * or `undefined` when it cannot say. Timed triggers call it when they start and after each firing; event-driven ones
   * (a change, a state, an outside event) never do: their next run is whenever the plant or the event says.
   */
  schedule?(nextAt: number | undefined): void;
}

/** A trigger: started with its loop, stopped with it. */
export interface Trigger<TTags extends TagDefinitions = TagDefinitions> {
  readonly description: string;
  /** Starts watching; resolves with a function that stops it. */
  start(context: TriggerContext<TTags>): Promise<() => Promise<void>>;
}

/** Options of {@link onChange}. */
export interface OnChangeOptions<TTags extends TagDefinitions = TagDefinitions> {
  /**
   * A deadband for this trigger, in engineering units, on top of each tag's own: one for every tag, or one per tag
   * (tags left out use only their own). Size it above the noise, so that only a change worth a model call counts.
   * @default the tags' deadbands
   */
  deadband?: number | { readonly [K in TagName<TTags>]?: number };
  /** Changes arriving within this window are gathered into one run. @default 200 */
  settleMs?: number;
  /**
   * A change counts only once the tag has stayed past the deadband (or in its new quality) for this long, measured
   * from the first sample past it: noise, spikes and short dropouts do not run the loop. @default 0 (at once)
   */
  holdMs?: number;
}

/** What a change trigger compares: the value, or the quality when there is no usable value. */
function comparable(change: { readonly sample: TimedSample }): unknown {
  return change.sample.stale ? "STALE" : change.sample.quality === "bad" ? "BAD" : change.sample.value;
}

/**
 * Runs when one of `tags` changes past its deadband (or `options.deadband`), or changes quality, or goes stale.
 * The first value seen of each tag does not count as a change.
 */
export function onChange<TTags extends TagDefinitions>(
  tags: readonly TagName<TTags>[],
  options: OnChangeOptions<NoInfer<TTags>> = {},
): Trigger<TTags> {
  // Event-driven: it never schedules a next run; its description says what it waits for.
  const description = `on change of ${tags.join(", ")}`;
  const holdMs = options.holdMs ?? 0;
  const triggerDeadband = (name: TagName<TTags>): number | undefined =>
    typeof options.deadband === "number" ? options.deadband : options.deadband?.[name];
  return {
    description,
    async start({ plant, clock, fire }) {
      /** The value each tag had when it last counted (or when first seen). */
      const reference = new Map<string, unknown>();
      /** Changes waiting out `holdMs`: the latest sample and the timer that confirms it. */
      const holding = new Map<string, { change: TagChange<TTags>; cancel: () => void }>();
      let gathered: TagChange<TTags>[] = [];
      let cancelSettle: (() => void) | undefined;
      const flush = () => {
        cancelSettle = undefined;
        const changes = gathered;
        gathered = [];
        if (changes.length > 0) fire({ kind: "change", trigger: description, time: clock.now(), changes });
      };
      const count = (change: TagChange<TTags>) => {
        reference.set(change.name, comparable(change));
        gathered.push(change);
        cancelSettle ??= clock.after(options.settleMs ?? 200, flush);
      };
      /** Whether `value` is past the deadband from the tag's reference (or differs, for other values). */
      const moved = (name: TagName<TTags>, value: unknown): boolean => {
        const previous = reference.get(name);
        if (typeof value !== "number" || typeof previous !== "number") return !Object.is(value, previous);
        let band = triggerDeadband(name);
        if (band === undefined) {
          // Without a trigger deadband every change the plant reports counts; a change on hold ends when the tag
          // comes back within its own deadband of the reference.
          if (!holding.has(name)) return true;
          const definition = plant.tags[name];
          band = definition ? absoluteDeadband(definition) : 0;
        }
        return !(Math.abs(value - previous) <= band); // a NaN always counts
      };
      const watcher = await plant.watch(
        (change) => {
          const value = comparable(change);
          if (!reference.has(change.name)) return void reference.set(change.name, value);
          const held = holding.get(change.name);
          if (!moved(change.name, value)) {
            held?.cancel();
            holding.delete(change.name);
            return;
          }
          if (holdMs <= 0) return count(change);
          if (held) {
            held.change = change;
            return;
          }
          const entry = {
            change,
            cancel: clock.after(holdMs, () => {
              holding.delete(change.name);
              count(entry.change);
            }),
          };
          holding.set(change.name, entry);
        },
        { tags },
      );
      return async () => {
        cancelSettle?.();
        for (const held of holding.values()) held.cancel();
        holding.clear();
        await watcher.stop();
      };
    },
  };
}

/** Options of {@link whenTag}. */
export interface WhenTagOptions {
  /** In words, for status and the audit. @default "when <tag> enters its state" */
  description?: string;
  /**
   * After the tag leaves the state, it must stay out this long before entering it again runs the loop: a
   * chattering alarm runs it once per episode, not on every flicker. @default 0 (every entry)
   */
  rearmMs?: number;
}

/**
 * Runs when a tag enters a state, e.g. `whenTag("alarm", (on) => on === true)`: fires on the false → true edge only
 * (a tag already in the state when the loop starts does not fire until it leaves and enters again).
 */
export function whenTag<TTags extends TagDefinitions, K extends TagName<TTags>>(
  tag: K,
  entered: (value: TagValue<TTags[K]>) => boolean,
  options: string | WhenTagOptions = {},
): Trigger<TTags> {
  const settings = typeof options === "string" ? { description: options } : options;
  const description = settings.description ?? `when ${tag} enters its state`;
  const rearmMs = settings.rearmMs ?? 0;
  return {
    description,
    async start({ plant, clock, fire, onError }) {
      let inside: boolean | undefined;
      /** When the tag last left the state; a tag first seen outside it counts as out for long. */
      let leftAt = Number.NEGATIVE_INFINITY;
      const watcher = await plant.watch(
        (change) => {
          let now = false;
          try {
            now =
              change.sample.quality !== "bad" &&
              !change.sample.stale &&
              entered(change.sample.value as TagValue<TTags[K]>) === true;
          } catch (error) {
            onError(error);
          }
          if (now && inside === false && clock.now() - leftAt >= rearmMs)
            fire({ kind: "state", trigger: description, time: clock.now(), changes: [change] });
          if (!now && inside === true) leftAt = clock.now();
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
    async start({ clock, fire }) {
      const unsubscribe = await subscribe((event) =>
        fire({ kind: "event", trigger: description, time: clock.now(), event }),
      );
      return async () => unsubscribe();
    },
  };
}

/** Runs when any of the triggers fires; its next run is the earliest its timed triggers say. */
export function anyOf<TTags extends TagDefinitions>(...triggers: Trigger<TTags>[]): Trigger<TTags> {
  return {
    description: triggers.map((trigger) => trigger.description).join(" or "),
    async start(context) {
      const nextAt: (number | undefined)[] = triggers.map(() => undefined);
      const schedule = (index: number, at: number | undefined) => {
        nextAt[index] = at;
        const known = nextAt.filter((time): time is number => time !== undefined);
        context.schedule?.(known.length > 0 ? Math.min(...known) : undefined);
      };
      const stops = await Promise.all(
        triggers.map((trigger, index) =>
          trigger.start({ ...context, schedule: (at: number | undefined) => schedule(index, at) }),
        ),
      );
      return async () => {
        await Promise.all(stops.map((stop) => stop()));
      };
    },
  };
}
