/**
 * A loop's next run: timed triggers (a period, a cron schedule) say when they will next fire, `anyOf` says its
 * earliest, event-driven ones say nothing; a paused or stopped loop shows none. Periods run on a virtual clock.
 */
import {
  anyOf,
  boolean,
  createLoop,
  createPlant,
  cron,
  defineTags,
  every,
  float,
  type Loop,
  onChange,
  onEvent,
  type Trigger,
  virtualClock,
  whenTag,
} from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { afterEach, describe, expect, it } from "vitest";

const day = 86_400_000;

function station(clock: ReturnType<typeof virtualClock>) {
  const drive = memoryAdapter({ name: "drive", values: { pressure: 6, alarm: false } });
  const tags = defineTags({
    pressure: float({ unit: "bar", range: [0, 16], deadband: 0.05, source: drive.key("pressure") }),
    alarm: boolean({ source: drive.key("alarm") }),
  });
  return { drive, plant: createPlant({ tags, now: clock.now, onError: () => {} }) };
}

type Station = ReturnType<typeof station>;
const opened: { loop: Loop; plant: Station["plant"] }[] = [];

afterEach(async () => {
  for (const { loop, plant } of opened.splice(0)) {
    await loop.stop();
    await plant.close();
  }
});

/** A started loop on a virtual clock starting at `start`; each run notes the next run the report showed during it. */
async function started(trigger: (tags: Station["plant"]["tags"]) => Trigger<Station["plant"]["tags"]>, start = 0) {
  const clock = virtualClock(start);
  const made = station(clock);
  const seenInRuns: (number | undefined)[] = [];
  const loop: Loop = createLoop(made.plant, {
    name: "next-run",
    clock,
    trigger: trigger(made.plant.tags),
    run: () => void seenInRuns.push(loop.report().nextRunAt),
  });
  opened.push({ loop, plant: made.plant });
  await loop.start();
  const pass = async (ms: number) => {
    await clock.advance(ms);
    await loop.idle();
  };
  return { ...made, clock, loop, seenInRuns, pass };
}

/** The next 06:00 UTC strictly after `time`, worked out by hand (not by the cron library). */
function nextSixUtc(time: number): number {
  const date = new Date(time);
  const today = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), 6);
  return today > time ? today : today + day;
}

describe("next run of timed triggers", () => {
  it("every() says its next firing on the loop's clock, already the following one during a run", async () => {
    const { loop, seenInRuns, pass } = await started(() => every("10s"), 1000);
    expect(loop.report()).toMatchObject({ trigger: "every 10 s", nextRunAt: 11_000 });
    await pass(10_000);
    expect(seenInRuns).toEqual([21_000]);
    expect(loop.report().nextRunAt).toBe(21_000);
    await pass(25_000);
    expect(loop.report()).toMatchObject({ lastRunAt: 31_000, nextRunAt: 41_000 });
  });

  it("a paused loop has no next run; resumed, it shows the period's next firing again; stopped, none", async () => {
    const { loop, seenInRuns, pass } = await started(() => every("10s"));
    loop.pause("alice");
    expect(loop.report().state).toBe("paused");
    expect(loop.report().nextRunAt).toBeUndefined();
    await pass(15_000);
    expect(seenInRuns).toHaveLength(0);
    expect(loop.report().nextRunAt).toBeUndefined();
    loop.resume();
    expect(loop.report().nextRunAt).toBe(20_000);
    await loop.stop();
    expect(loop.report()).not.toHaveProperty("nextRunAt");
    await loop.start();
    expect(loop.report().nextRunAt).toBe(25_000);
  });

  it("anyOf() shows the earliest of its timed triggers, and ignores its event-driven ones", async () => {
    const { loop, pass } = await started((tags) =>
      anyOf(every("1m"), onChange<typeof tags>(["pressure"]), every("45s")),
    );
    expect(loop.report().trigger).toBe("every 60 s or on change of pressure or every 45 s");
    expect(loop.report().nextRunAt).toBe(45_000);
    await pass(45_000);
    expect(loop.report().nextRunAt).toBe(60_000);
    await pass(15_000);
    expect(loop.report().nextRunAt).toBe(90_000);
    await pass(30_000);
    expect(loop.report().nextRunAt).toBe(120_000);
  });

  it("cron() says its next time on the wall clock, alone or within anyOf()", async () => {
    const before = Date.now();
    const { loop } = await started((tags) => cron<typeof tags>("0 6 * * *", { timezone: "UTC" }));
    const after = Date.now();
    expect(loop.report().trigger).toBe('cron "0 6 * * *"');
    expect([nextSixUtc(before), nextSixUtc(after)]).toContain(loop.report().nextRunAt);

    const { loop: either } = await started((tags) =>
      anyOf(onChange<typeof tags>(["pressure"]), cron("0 6 * * *", { timezone: "UTC" })),
    );
    expect([nextSixUtc(before), nextSixUtc(Date.now())]).toContain(either.report().nextRunAt);
    await either.stop();
    expect(either.report().nextRunAt).toBeUndefined();
  });
});

describe("event-driven triggers", () => {
  it("have no next run, and their description says what they wait for", async () => {
    const change = await started((tags) => onChange<typeof tags>(["pressure"], { settleMs: 100 }));
    const state = await started((tags) => whenTag<typeof tags, "alarm">("alarm", (on) => on === true));
    let emit: (event: unknown) => void = () => {};
    const event = await started(() =>
      onEvent("on a work order", (handler) => {
        emit = handler;
        return () => {};
      }),
    );
    expect(change.loop.report().trigger).toBe("on change of pressure");
    expect(state.loop.report().trigger).toBe("when alarm enters its state");
    for (const { loop } of [change, state, event]) expect(loop.report()).not.toHaveProperty("nextRunAt");

    // They run when the plant or the event says, and still show no next run afterwards.
    await change.pass(1000);
    change.drive.set("pressure", 7);
    await change.pass(1000);
    emit({ order: 1 });
    await event.loop.idle();
    expect(change.seenInRuns).toEqual([undefined]);
    expect(event.seenInRuns).toEqual([undefined]);
    expect(change.loop.report()).not.toHaveProperty("nextRunAt");
  });

  it("a trigger started by hand without a schedule callback still runs", async () => {
    const clock = virtualClock(0);
    const { plant } = station(clock);
    const fired: number[] = [];
    const stop = await every<Station["plant"]["tags"]>("1s").start({
      plant,
      clock,
      fire: (cause) => void fired.push(cause.time),
      onError: (error) => {
        throw error;
      },
    });
    await clock.advance(2000);
    await stop();
    await plant.close();
    expect(fired).toEqual([1000, 2000]);
  });
});
