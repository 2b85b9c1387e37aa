/**
 * Model calls over one simulated hour of the pumping station with injected faults: a loop on change and alarm
 * triggers against the same loop on a fixed 10 s period, counted side by side in one run, and whether every injected
 * fault still reaches the model while it is active (recall).
 *
 * The process is the simulator's own physics (PumpStationModel, seeded), stepped one simulated second at a time and
 * fed into a plant through the in-memory adapter, as a 1 s poll of the drive would deliver it. Both loops are the real
 * createLoop with the real triggers, each with its own counting function model, budgets off.
 *
 * Time is virtual, not sped up: both loops run on a virtual clock that the bench moves one second per process step,
 * so periods, settle windows and hold times are measured in plant time exactly as on a live plant, and the hour takes
 * well under a second. Speeding real time up instead would shrink those windows to fractions of a millisecond, where
 * timer jitter, not the trigger settings, would decide the count.
 *
 * A stuck valve shows nothing while the speed holds (the flow stays where it was), so the scenario moves the speed
 * setpoint while it is stuck, as an operator or a speed advisor would. Comms loss marks every tag bad, as a failed
 * poll does. Run with `npm run bench loop-calls`.
 */
import { z } from "zod";
import {
  anyOf,
  createLoop,
  createPlant,
  every,
  functionModel,
  onChange,
  type Plant,
  type TagChange,
  type Trigger,
  type VirtualClock,
  virtualClock,
  whenTag,
} from "../src/index.js";
import { type PumpFault, PumpStationModel } from "../src/sim/pump-station-model.js";
import { modeStates, stationSignals } from "../src/sim/station-signals.js";
import { type StationTags, stationTags } from "../src/sim/station-tags.js";
import { memoryAdapter } from "../src/testing/index.js";
import { type BenchResult, ratioResult } from "./bench-kit.js";

const seed = 7;
const minute = 60;
/** Simulated seconds the plant runs before the hour, so that it starts settled (temperatures take minutes). */
const warmUpSeconds = 30 * minute;
const hourSeconds = 60 * minute;
const start = Date.UTC(2026, 0, 5, 8, 0, 0);

/** A reported change of one tag, as a run's cause lists it. */
type Change = TagChange<StationTags>;

/**
 * Each fault, on for some minutes with quiet time between, and how it shows: a call counts for a fault when a
 * change that caused it is one the fault produces.
 */
const injections: readonly { fault: PumpFault; from: number; to: number; shows: (change: Change) => boolean }[] = [
  {
    fault: "cavitation",
    from: 5 * minute,
    to: 13 * minute,
    shows: ({ name }) => ["vibration", "pressure", "flow", "motorCurrent", "alarm"].includes(name),
  },
  // The speed moves and the flow does not follow.
  { fault: "stuck-valve", from: 16 * minute, to: 24 * minute, shows: ({ name }) => ["speed", "flow"].includes(name) },
  {
    fault: "bearing-wear",
    from: 27 * minute,
    to: 35 * minute,
    shows: ({ name }) => ["vibration", "bearingTemperature", "alarm"].includes(name),
  },
  { fault: "sensor-drift", from: 38 * minute, to: 48 * minute, shows: ({ name }) => name === "pressure" },
  { fault: "comms-loss", from: 51 * minute, to: 55 * minute, shows: ({ sample }) => sample.quality === "bad" },
];
/** Speed setpoint moves (rpm): up and back down while the valve is stuck. */
const setpointMoves: readonly { at: number; rpm: number }[] = [
  { at: 18 * minute, rpm: 1350 },
  { at: 22 * minute, rpm: 1200 },
];

/**
 * The integrator's trigger settings. Each deadband is a change worth a model call, well above the signal's normal
 * noise (the bearing temperature wanders by about a degree); a change must hold for 30 s, so the much larger noise of
 * a cavitating pump on vibration and pressure, spikes and short dropouts never call; changes arriving within 5 s go
 * to the model together. The alarm bit calls the model at once, once per alarm episode: it must stay clear
 * for 2 minutes before it can call again, so an alarm chattering around its limit costs one call.
 */
const deadbands = {
  speed: 50,
  flow: 10,
  pressure: 0.15,
  motorCurrent: 3,
  vibration: 1,
  bearingTemperature: 2.5,
  level: 0.5,
} as const;
const holdMs = 30_000;
const settleMs = 5_000;
const rearmMs = 2 * minute * 1000;

const Verdict = z.object({ status: z.string() });
/** What a poll that gets no answer reports for each tag. */
const badPoll = { quality: "bad", reason: "comm-failure" } as const;

function stateName(mode: number): string {
  return Object.entries(modeStates).find(([, code]) => code === mode)?.[0] ?? "OFF";
}

/** One model call: when (simulated ms) and the changes that caused it (none for the periodic loop). */
interface Call {
  readonly time: number;
  readonly changes: readonly Change[];
}

/** A loop over the plant whose model counts its calls; loop errors go to `errors`. */
function countingLoop(
  plant: Plant<StationTags>,
  clock: VirtualClock,
  errors: unknown[],
  name: string,
  trigger: Trigger<StationTags>,
) {
  const calls: Call[] = [];
  const model = functionModel(() => ({ status: "ok" }), { name: "counting" });
  const loop = createLoop(plant, {
    name,
    trigger,
    model,
    clock,
    onError: (error) => errors.push(error),
    async run({ snapshot, cause, model: budgeted }) {
      calls.push({ time: clock.now(), changes: cause.changes ?? [] });
      await budgeted?.generate({
        instructions: "Say whether the pump station is healthy.",
        context: snapshot,
        output: Verdict,
      });
    },
  });
  return { loop, calls, model };
}

/** Runs the hour with both loops on one plant; returns each loop's model calls. */
async function simulateHour() {
  const station = new PumpStationModel({ seed });
  station.step(warmUpSeconds);
  const clock = virtualClock(start);
  const current = (): Record<string, unknown> => ({ ...station.values, mode: stateName(station.values.mode) });
  const memory = memoryAdapter({ name: "station", values: current() });
  const tags = stationTags((signal) => memory.key(signal.name)) as StationTags;
  const errors: unknown[] = [];
  const plant = createPlant({ tags, now: clock.now, onError: (error) => errors.push(error) });
  const baseline = countingLoop(plant, clock, errors, "every-10-s", every("10s"));
  const candidate = countingLoop(
    plant,
    clock,
    errors,
    "on-change-and-alarm",
    anyOf(
      onChange(Object.keys(deadbands) as (keyof typeof deadbands)[], { deadband: deadbands, holdMs, settleMs }),
      whenTag("alarm", (on) => on === true, { rearmMs }),
    ),
  );
  const loops = [baseline.loop, candidate.loop];
  for (const loop of loops) await loop.start();

  let linkUp = true;
  for (let second = 0; second < hourSeconds; second++) {
    for (const { fault, from, to } of injections) {
      if (second !== from && second !== to) continue;
      station.setFault(fault, second === from);
      if (fault === "comms-loss") {
        linkUp = second === to;
        memory.fail(linkUp ? undefined : new Error("the drive does not answer"));
        // A failed poll marks every tag bad once; the link then stays quiet until it is back.
        if (!linkUp) for (const { name } of stationSignals) memory.set(name, undefined, badPoll);
      }
    }
    for (const move of setpointMoves) if (second === move.at) station.writeSpeedSetpoint(move.rpm);
    station.step(1);
    await clock.advance(1000);
    if (linkUp) {
      const values = current();
      for (const { name } of stationSignals) memory.set(name, values[name], { sourceTime: clock.now() });
    }
    await Promise.all(loops.map((loop) => loop.idle()));
  }
  for (const loop of loops) await loop.stop();
  await plant.close();
  if (errors.length > 0) throw new Error(`the simulated hour reported an error: ${String(errors[0])}`);
  for (const { calls, model } of [baseline, candidate]) {
    if (calls.length !== model.usage.requests) throw new Error("model calls and recorded runs disagree");
  }
  return { baseline: baseline.calls, candidate: candidate.calls };
}

/** "m:ss" of simulated time into the hour. */
function clockTime(time: number): string {
  const seconds = Math.round((time - start) / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export default async function loopCallsBench(): Promise<BenchResult[]> {
  const hour = await simulateHour();
  /** Whether a call counts for a fault: made while the fault was on, caused by a change the fault produces. */
  const countsFor = (call: Call, injection: (typeof injections)[number]) =>
    call.time >= start + injection.from * 1000 &&
    call.time <= start + injection.to * 1000 &&
    call.changes.some((change) => injection.shows(change));
  const latencies = injections.map((injection) => {
    const first = hour.candidate.find((call) => countsFor(call, injection));
    return { fault: injection.fault, seconds: first ? (first.time - start) / 1000 - injection.from : undefined };
  });
  const detected = latencies.filter(({ seconds }) => seconds !== undefined).length;
  const recall = detected / injections.length;
  const unexplained = hour.candidate.filter((call) => !injections.some((injection) => countsFor(call, injection)));
  const describeCall = (call: Call) =>
    `${clockTime(call.time)} ${[...new Set(call.changes.map(({ name }) => name))].join("+")}`;
  const result = ratioResult(
    "loop: model calls on change vs every 10 s, 1 simulated hour with 5 faults",
    { label: 'every("10s")', value: hour.baseline.length, unit: "model calls" },
    { label: "onChange + whenTag(alarm)", value: hour.candidate.length, unit: "model calls" },
    { at: "most", ratio: 0.05 },
    [
      `recall ${detected}/${injections.length} = ${recall.toFixed(2)} (a fault counts when, while it was on, a change it produces made the loop call the model)`,
      `first such call after onset: ${latencies.map(({ fault, seconds }) => `${fault} ${seconds === undefined ? "none" : `${seconds} s`}`).join(", ")}`,
      `${unexplained.length} calls came from other changes (recoveries, slow process moves, noise)`,
      `calls at ${hour.candidate.map(describeCall).join(", ")}`,
      `settings: onChange deadbands ${Object.entries(deadbands)
        .map(([tag, band]) => `${tag} ${band}`)
        .join(", ")}, holdMs ${holdMs}, settleMs ${settleMs}; whenTag(alarm) rearmMs ${rearmMs}; seed ${seed}`,
    ].join("; "),
  );
  result.target += " with recall 1";
  result.pass &&= recall === 1;
  return [result];
}
