import {
  anyOf,
  boolean,
  createLoop,
  createPlant,
  defineTags,
  every,
  float,
  onChange,
  onEvent,
  type Trigger,
  type TriggerCause,
  virtualClock,
  whenTag,
} from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";

describe("virtual clock", () => {
  it("fires timers in time order as time advances, and cancelled ones never", async () => {
    const clock = virtualClock(1000);
    const fired: string[] = [];
    clock.after(300, () => fired.push(`b@${clock.now()}`));
    clock.after(100, () => fired.push(`a@${clock.now()}`));
    const cancel = clock.after(200, () => fired.push("cancelled"));
    const stop = clock.repeat(250, () => fired.push(`r@${clock.now()}`));
    cancel();
    expect(clock.pending).toBe(3);
    await clock.advance(600);
    expect(clock.now()).toBe(1600);
    expect(fired).toEqual(["a@1100", "r@1250", "b@1300", "r@1500"]);
    stop();
    await clock.advance(1000);
    expect(fired).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });

  it("lets the promise work a timer starts settle before the next timer fires", async () => {
    const clock = virtualClock();
    const order: string[] = [];
    clock.after(10, () => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => order.push("work of the first"));
    });
    clock.after(20, () => order.push("second"));
    await clock.advance(30);
    expect(order).toEqual(["work of the first", "second"]);
  });
});

function station(clock: ReturnType<typeof virtualClock>) {
  const drive = memoryAdapter({ name: "drive", values: { pressure: 6, vibration: 2, alarm: false } });
  const tags = defineTags({
    pressure: float({ unit: "bar", range: [0, 16], deadband: 0.05, source: drive.key("pressure") }),
    vibration: float({ unit: "mm/s", deadband: 0.1, source: drive.key("vibration") }),
    alarm: boolean({ source: drive.key("alarm") }),
  });
  const plant = createPlant({ tags, now: clock.now, onError: () => {} });
  return { drive, plant };
}

/** A loop on a virtual clock that records each run's cause and time. */
async function recordingLoop(
  clock: ReturnType<typeof virtualClock>,
  plant: ReturnType<typeof station>["plant"],
  trigger: Trigger<ReturnType<typeof station>["plant"]["tags"]>,
) {
  const runs: { time: number; cause: TriggerCause }[] = [];
  const loop = createLoop(plant, {
    name: "recording",
    clock,
    trigger,
    run: ({ cause }) => void runs.push({ time: clock.now(), cause: cause as TriggerCause }),
  });
  await loop.start();
  /** Moves plant time on by `ms` and waits for the runs it started. */
  const pass = async (ms: number) => {
    await clock.advance(ms);
    await loop.idle();
  };
  return { loop, runs, pass };
}

describe("triggers on a virtual clock", () => {
  it("every() runs once per period of plant time, with no real waiting", async () => {
    const clock = virtualClock(0);
    const { plant } = station(clock);
    const { loop, runs, pass } = await recordingLoop(clock, plant, every("10s"));
    await pass(3_600_000);
    expect(runs).toHaveLength(360);
    expect(runs[0]).toMatchObject({ time: 10_000, cause: { kind: "interval", time: 10_000 } });
    await loop.stop();
    await plant.close();
  });

  it("onChange with holdMs ignores spikes shorter than the hold and runs once for a change that holds", async () => {
    const clock = virtualClock(0);
    const { drive, plant } = station(clock);
    const { loop, runs, pass } = await recordingLoop(
      clock,
      plant,
      onChange(["pressure"], { deadband: 0.5, holdMs: 30_000, settleMs: 1000 }),
    );
    await pass(1000);
    drive.set("pressure", 8); // a spike: back within the deadband after 10 s
    await pass(10_000);
    drive.set("pressure", 6.2);
    await pass(60_000);
    expect(runs).toHaveLength(0);

    drive.set("pressure", 7);
    await pass(20_000);
    drive.set("pressure", 7.3); // still past the deadband of 6: the hold goes on, the latest value counts
    await pass(9000);
    expect(runs).toHaveLength(0);
    await pass(3000);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.time).toBe(71_000 + 30_000 + 1000); // the first sample past the deadband, the hold, the settle window
    expect(runs[0]?.cause.changes?.map((change) => change.sample.value)).toEqual([7.3]);

    drive.set("pressure", 7.5); // within 0.5 of the new reference 7.3
    await pass(120_000);
    expect(runs).toHaveLength(1);
    await loop.stop();
    await plant.close();
  });

  it("onChange takes a deadband per tag, and a bad quality that lasts past the hold counts", async () => {
    const clock = virtualClock(0);
    const { drive, plant } = station(clock);
    const { loop, runs, pass } = await recordingLoop(
      clock,
      plant,
      onChange(["pressure", "vibration"], { deadband: { pressure: 1 }, holdMs: 5000, settleMs: 2000 }),
    );
    await pass(1000);
    drive.set("pressure", 6.8); // inside pressure's 1 bar
    drive.set("vibration", 2.3); // past vibration's own 0.1
    await pass(10_000);
    expect(runs.map((run) => run.cause.changes?.map((change) => change.name))).toEqual([["vibration"]]);

    drive.set("pressure", undefined, { quality: "bad", reason: "comm-failure" });
    await pass(2000);
    drive.set("pressure", 6.8); // back before the hold ends
    await pass(20_000);
    expect(runs).toHaveLength(1);

    drive.set("pressure", undefined, { quality: "bad", reason: "comm-failure" });
    drive.set("vibration", undefined, { quality: "bad", reason: "comm-failure" });
    await pass(20_000);
    expect(runs).toHaveLength(2);
    expect(runs[1]?.cause.changes?.map((change) => change.sample.quality)).toEqual(["bad", "bad"]);
    await loop.stop();
    await plant.close();
  });

  it("whenTag with rearmMs runs once for a chattering alarm, and again after it stayed clear", async () => {
    const clock = virtualClock(0);
    const { drive, plant } = station(clock);
    const { loop, runs, pass } = await recordingLoop(
      clock,
      plant,
      anyOf(
        whenTag("alarm", (on) => on === true, { rearmMs: 60_000, description: "alarm raised" }),
        onEvent("never", () => () => {}),
      ),
    );
    await pass(1000);
    for (let flicker = 0; flicker < 20; flicker++) {
      drive.set("alarm", flicker % 2 === 0);
      await pass(3000);
    }
    expect(runs.map((run) => run.cause.trigger)).toEqual(["alarm raised"]);
    drive.set("alarm", false);
    await pass(60_000);
    drive.set("alarm", true);
    await pass(1000);
    expect(runs).toHaveLength(2);
    await loop.stop();
    await plant.close();
  });

  it("whenTag without rearmMs runs on every entry, and still takes a description as text", async () => {
    const clock = virtualClock(0);
    const { drive, plant } = station(clock);
    const { loop, runs, pass } = await recordingLoop(
      clock,
      plant,
      whenTag("alarm", (on) => on === true, "alarm on"),
    );
    await pass(1000);
    for (let flicker = 0; flicker < 6; flicker++) {
      drive.set("alarm", flicker % 2 === 0);
      await pass(1000);
    }
    expect(runs.map((run) => run.cause.trigger)).toEqual(["alarm on", "alarm on", "alarm on"]);
    await loop.stop();
    await plant.close();
  });
});
