/**
 * The plant: binds a tag map to its adapters, reads them all concurrently into one typed snapshot, keeps a bounded
 * history per tag, and reports changes past each tag's deadband. One adapter failing marks only its own tags bad.
 */
import type { Adapter, AdapterStatus, BoundTag } from "./adapter.js";
import { isChange } from "./change-detection.js";
import { withDeadline } from "./deadline.js";
import { ConfigError, PlantwireError, TimeoutError } from "./errors.js";
import { HistoryBuffer } from "./history-buffer.js";
import { errorLine, type Logger, logFailure, resolveLogger } from "./logger.js";
import { badSample, isStale, type Sample, Snapshot, type TimedSample, Window } from "./sample.js";
import { validateTagMap } from "./tag-validation.js";
import type { TagDefinitions, TagName, TagValue } from "./tags.js";

/** Options of {@link createPlant}. */
export interface PlantOptions<TTags extends TagDefinitions> {
  /** The tag map, from `defineTags()` or `loadTagMap()`. */
  tags: TTags;
  /** Samples kept per tag for `history()`. @default 1000 */
  historySize?: number;
  /** Longest wait for one adapter's read before its tags are marked bad (reason "timeout"). @default 10000 */
  readTimeoutMs?: number;
  /** Poll period for adapters that cannot subscribe, in `watch()`. @default 1000 */
  pollIntervalMs?: number;
  /**
   * Receives errors that have no caller to go to (a failing watch listener, a failed background poll).
   * @default one error line on the logger (the stack at debug)
   */
  onError?: (error: unknown) => void;
  /**
   * Where the plant, and each adapter created without a logger of its own, logs: connections and failed reads at
   * debug, errors with no caller at error. Any object with debug/info/warn/error (console, pino, winston).
   * Guards and loops over this plant use it too unless given their own. @default PLANTWIRE_LOG on stderr
   */
  logger?: Logger;
  /** The clock, for tests and accelerated simulations. @default Date.now */
  now?: () => number;
}

/** A reported change of one tag. */
export interface TagChange<TTags extends TagDefinitions> {
  readonly name: TagName<TTags>;
  readonly sample: TimedSample;
  /** The previously reported sample, if any. */
  readonly previous: Sample | undefined;
}

/** Options of `plant.watch()`. */
export interface WatchOptions<TTags extends TagDefinitions> {
  /** Tags to watch. @default all */
  tags?: readonly TagName<TTags>[];
  /** Poll period for adapters that cannot subscribe. @default the plant's pollIntervalMs */
  intervalMs?: number;
}

/** A running watch. */
export interface Watcher {
  /** Stops watching and frees its timers and subscriptions. */
  stop(): Promise<void>;
}

/** A plant: one tag map over its adapters. */
export interface Plant<TTags extends TagDefinitions> {
  readonly tags: TTags;
  /** The plant's logger (its `logger` option, else the environment's); guards and loops over it default to it. */
  readonly logger?: Logger;
  /** Connects every adapter (also done on first use). Failures are reported in `status()`, not thrown. */
  connect(): Promise<void>;
  /** Reads every tag (or the given ones) concurrently across adapters into one snapshot. Never rejects for device faults. */
  read(names?: readonly TagName<TTags>[]): Promise<Snapshot<TTags>>;
  /** Calls `listener` for each change past a tag's deadband, using subscriptions where the adapter has them, else polling. */
  watch(listener: (change: TagChange<TTags>) => void, options?: WatchOptions<TTags>): Promise<Watcher>;
  /** The samples of one tag kept in memory, oldest first, optionally limited to [from, to]. */
  history<K extends TagName<TTags>>(name: K, range?: { from?: number; to?: number }): Sample<TagValue<TTags[K]>>[];
  /** A window over several tags from the kept history. */
  window(names: readonly TagName<TTags>[], range?: { from?: number; to?: number }): Window<TTags>;
  /** Each adapter's status, by adapter name. */
  status(): Record<string, AdapterStatus>;
  /** Stops watchers and closes every adapter. */
  close(): Promise<void>;
}

interface AdapterGroup {
  adapter: Adapter;
  tags: BoundTag[];
  connecting: Promise<void> | undefined;
}

function groupByAdapter(tags: TagDefinitions): Map<Adapter, AdapterGroup> {
  const groups = new Map<Adapter, AdapterGroup>();
  const names = new Map<string, Adapter>();
  for (const [name, definition] of Object.entries(tags)) {
    const { adapter, address } = definition.source;
    const sameName = names.get(adapter.name);
    if (sameName && sameName !== adapter) {
      throw new ConfigError([
        {
          path: `tags.${name}.source`,
          message: `two different adapters are both named "${adapter.name}"`,
          fix: "give each adapter instance its own name option",
        },
      ]);
    }
    names.set(adapter.name, adapter);
    let group = groups.get(adapter);
    if (!group) {
      group = { adapter, tags: [], connecting: undefined };
      groups.set(adapter, group);
    }
    group.tags.push({ name, definition, address });
  }
  return groups;
}

function describe(error: unknown): string {
  if (PlantwireError.isInstance(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Creates a plant from a tag map. Nothing connects until `connect()`, `read()` or `watch()`. */
export function createPlant<const TTags extends TagDefinitions>(options: PlantOptions<TTags>): Plant<TTags> {
  const { tags } = options;
  const now = options.now ?? Date.now;
  const readTimeoutMs = options.readTimeoutMs ?? 10_000;
  const logger = resolveLogger(options.logger);
  const onError = options.onError ?? ((error: unknown) => logFailure(logger, "plant", error));
  validateTagMap(tags);
  const groups = groupByAdapter(tags);
  // Adapters made without a logger of their own log through the plant's, so that one option covers a glue script.
  for (const adapter of groups.keys()) adapter.useLogger?.(logger);
  const histories = new Map(Object.keys(tags).map((name) => [name, new HistoryBuffer(options.historySize ?? 1000)]));
  const watchers = new Set<Watcher>();
  let closed = false;

  function record(name: string, sample: Sample): void {
    histories.get(name)?.push(sample);
  }

  async function ensureConnected(group: AdapterGroup): Promise<void> {
    const state = group.adapter.status().state;
    if (state === "connected" || state === "degraded") return;
    if (!group.connecting) logger.debug(`adapter "${group.adapter.name}" (${group.adapter.kind}): connecting`);
    group.connecting ??= group.adapter
      .connect()
      .then(async () => {
        logger.debug(`adapter "${group.adapter.name}": connected`);
        // Tag checks against the peer are reported, not fatal: the adapter marks the offending tags bad on read.
        await group.adapter.prepare?.(group.tags).catch(onError);
      })
      .finally(() => {
        group.connecting = undefined;
      });
    return group.connecting;
  }

  async function readGroup(group: AdapterGroup, wanted: readonly BoundTag[]): Promise<[string, Sample][]> {
    const controller = new AbortController();
    try {
      const samples = await withDeadline(
        ensureConnected(group).then(() => group.adapter.read(wanted, controller.signal)),
        readTimeoutMs,
        () => {
          controller.abort();
          return new TimeoutError(
            `adapter "${group.adapter.name}" did not answer within ${readTimeoutMs} ms`,
            readTimeoutMs,
          );
        },
      );
      return wanted.map((tag, index) => [
        tag.name,
        samples[index] ?? badSample("other", "adapter returned no sample", now()),
      ]);
    } catch (error) {
      const reason = TimeoutError.isInstance(error) ? "timeout" : "comm-failure";
      const detail = `${group.adapter.name}: ${describe(error)}`;
      logger.debug(`adapter "${group.adapter.name}": ${wanted.length} tag(s) read ${reason}: ${errorLine(error)}`);
      return wanted.map((tag) => [tag.name, badSample(reason, detail, now())]);
    }
  }

  /**
   * Throws a ConfigError naming every name that is not a tag of this plant. With a tag map loaded from a file any
   * string type-checks as a name, and a misspelt one would otherwise watch, read or window nothing, silently.
   */
  function checkNames(names: readonly string[] | undefined, where: string): void {
    const unknown = (names ?? []).filter((name) => !Object.hasOwn(tags, name));
    if (unknown.length === 0) return;
    const known = Object.keys(tags);
    const listed =
      known.length > 12 ? `${known.slice(0, 12).join(", ")}, … (${known.length} in all)` : known.join(", ");
    throw new ConfigError(
      unknown.map((name) => ({
        path: `${where}: "${name}"`,
        message: "is not a tag of this plant",
        fix: `use one of the tag map's names: ${listed}`,
      })),
    );
  }

  function selected(names: readonly string[] | undefined): Map<AdapterGroup, BoundTag[]> {
    const wanted = names ? new Set(names) : undefined;
    const result = new Map<AdapterGroup, BoundTag[]>();
    for (const group of groups.values()) {
      const chosen = wanted ? group.tags.filter((tag) => wanted.has(tag.name)) : group.tags;
      if (chosen.length > 0) result.set(group, chosen);
    }
    return result;
  }

  async function read(names?: readonly TagName<TTags>[]): Promise<Snapshot<TTags>> {
    if (closed) throw new PlantwireError("PW_CONNECTION", "the plant is closed; create a new one with createPlant()");
    checkNames(names, "plant.read");
    const results = await Promise.all([...selected(names)].map(([group, wanted]) => readGroup(group, wanted)));
    const samples = new Map<string, Sample>();
    for (const [name, sample] of results.flat()) {
      samples.set(name, sample);
      record(name, sample);
    }
    for (const name of Object.keys(tags)) {
      if (!samples.has(name)) {
        const latest = histories.get(name)?.latest();
        if (latest) samples.set(name, latest);
      }
    }
    return new Snapshot(tags, samples, now());
  }

  async function watch(
    listener: (change: TagChange<TTags>) => void,
    watchOptions: WatchOptions<TTags> = {},
  ): Promise<Watcher> {
    if (closed) throw new PlantwireError("PW_CONNECTION", "the plant is closed; create a new one with createPlant()");
    checkNames(watchOptions.tags, "plant.watch tags");
    const names = watchOptions.tags ?? (Object.keys(tags) as TagName<TTags>[]);
    const intervalMs = watchOptions.intervalMs ?? options.pollIntervalMs ?? 1000;
    // Two samples per tag: the last one reported (what deadbands compare against) and the last one received (what
    // staleness is judged on). A steady value inside its deadband is never reported again, so judging age on the
    // reported sample would call a healthy tag stale and then good on its next poll, over and over.
    const reported = new Map<string, TimedSample>();
    const received = new Map<string, Sample>();
    const subscriptions: { close(): Promise<void> }[] = [];
    const timers: NodeJS.Timeout[] = [];
    let stopped = false;

    const deliver = (name: string, sample: Sample) => {
      const definition = tags[name];
      if (stopped || !definition) return;
      received.set(name, sample);
      const timed: TimedSample = { ...sample, stale: isStale(sample, definition, now()) };
      const previous = reported.get(name);
      if (!isChange(definition, previous, sample) && previous?.stale === timed.stale) return;
      reported.set(name, timed);
      try {
        listener({ name: name as TagName<TTags>, sample: timed, previous });
      } catch (error) {
        onError(error);
      }
    };
    const ingest = (name: string, sample: Sample) => {
      record(name, sample);
      deliver(name, sample);
    };

    const watcher: Watcher = {
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const timer of timers) clearInterval(timer);
        watchers.delete(watcher);
        await Promise.allSettled(subscriptions.map((subscription) => subscription.close()));
      },
    };
    // Registered before anything is awaited, so that close() during start-up stops this watcher too.
    watchers.add(watcher);

    const startPolling = async (group: AdapterGroup, wanted: BoundTag[]) => {
      let busy = false;
      const poll = async () => {
        if (busy || stopped) return;
        busy = true;
        try {
          for (const [name, sample] of await readGroup(group, wanted)) ingest(name, sample);
        } finally {
          busy = false;
        }
      };
      await poll();
      if (!stopped) timers.push(setInterval(() => void poll().catch(onError), intervalMs));
    };
    const startGroup = async (group: AdapterGroup, wanted: BoundTag[]) => {
      if (group.adapter.capabilities.subscribe && group.adapter.subscribe) {
        try {
          // A peer that never answers must not hold up the other adapters' watches: give it the read deadline.
          const subscription = await withDeadline(
            ensureConnected(group).then(() => group.adapter.subscribe?.(wanted, ingest)),
            readTimeoutMs,
            () =>
              new TimeoutError(
                `adapter "${group.adapter.name}" did not accept a subscription within ${readTimeoutMs} ms`,
                readTimeoutMs,
              ),
          );
          if (subscription) {
            if (stopped) await subscription.close();
            else subscriptions.push(subscription);
            return;
          }
        } catch (error) {
          onError(error);
          for (const tag of wanted) ingest(tag.name, badSample("comm-failure", describe(error), now()));
        }
      }
      if (!stopped) await startPolling(group, wanted);
    };
    await Promise.all([...selected(names)].map(([group, wanted]) => startGroup(group, wanted)));
    // Subscribed tags go quiet when their source dies; re-judge the latest received sample's age on the poll period
    // so that silence is reported once, as a stale change.
    if (!stopped) {
      timers.push(
        setInterval(() => {
          for (const name of names) {
            const latest = received.get(name);
            if (latest && reported.get(name)?.stale === false) deliver(name, latest);
          }
        }, intervalMs),
      );
    }
    return watcher;
  }

  function history<K extends TagName<TTags>>(name: K, range: { from?: number; to?: number } = {}) {
    checkNames([name], "plant.history");
    return (histories.get(name)?.between(range.from, range.to) ?? []) as Sample<TagValue<TTags[K]>>[];
  }

  return {
    tags,
    logger,
    async connect() {
      const results = await Promise.allSettled([...groups.values()].map((group) => ensureConnected(group)));
      for (const result of results) if (result.status === "rejected") onError(result.reason);
    },
    read,
    watch,
    history,
    window(names, range = {}) {
      checkNames(names, "plant.window");
      const series = new Map(names.map((name) => [name as string, history(name, range) as readonly Sample[]]));
      // The window holds the named tags only, in definition order, so that an encoder shows no empty columns.
      const named = Object.fromEntries(Object.entries(tags).filter(([name]) => series.has(name))) as TTags;
      return new Window(named, series, range.from ?? Number.NEGATIVE_INFINITY, range.to ?? now());
    },
    status() {
      return Object.fromEntries([...groups.keys()].map((adapter) => [adapter.name, adapter.status()]));
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...watchers].map((watcher) => watcher.stop()));
      await Promise.allSettled([...groups.keys()].map((adapter) => adapter.close()));
    },
  };
}
