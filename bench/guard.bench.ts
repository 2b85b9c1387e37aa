/**
 * The cost of safety: a guarded write (proposal, checks, audit, write once, read back, outcome) against the adapter's
 * raw write followed by a read of the same tag, measured side by side on the memory adapter and on the Modbus
 * simulator over loopback (in a process of its own, as in modbus.bench.ts). Measured per peer:
 *  1. guarded automatic (`propose` inside the automatic band, executed at once) vs raw write + read (time),
 *  2. guarded with approval (`propose`, then `approve` in the same process) vs raw write + read (time),
 *  3. both again with fsync a no-op: the fsync latency, which swamps everything and varies run to run, drops out,
 *     leaving the guard's work (reads, checks, hashing, the head file) against the raw write + read,
 *  4. fsyncs per guarded write in both modes, against the 3 allowed (proposal; decision + attempt; outcome),
 *     counted by wrapping fs.fsyncSync, with the head-file replacements counted beside them.
 * Every guarded write must end executed with its read-back verified, or the bench throws: timing rejections would
 * measure nothing.
 */
import fsDefault, { mkdtempSync, rmSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modbus } from "../adapters/modbus/index.js";
import {
  AuditLog,
  type BoundTag,
  createGuard,
  createPlant,
  defineTags,
  float,
  type Proposal,
  type TagSource,
} from "../src/index.js";
import { memoryAdapter } from "../src/testing/index.js";
import { type BenchResult, ratioResult, timeSideBySide } from "./bench-kit.js";
import { startBenchPeer } from "./bench-peer.js";

/** Writes per timed run, and timed rounds of each side. */
const writesPerRun = 40;
const rounds = 9;
/** Writes in the counted pass (fsyncs and head files). */
const countedWrites = 20;
/** fsyncs a guarded write may cost: proposal; decision + attempt; outcome (automatic mode folds the first into the second). */
const allowedFsyncs = 3;

/**
 * Targets, candidate (guarded) / baseline (raw write + read), bound set after measuring: about twice the worst of
 * seven runs on a shared 2-core machine (ext4) with other test runs on it. On the memory adapter the raw side is 2–4
 * µs, so the ratio is the audit's disk work over almost nothing, and only a gross regression shows; on Modbus loopback
 * the raw side is two round trips. Each audit append costs an fsync (1–6 ms here, varying run to run) and a head-file replacement by
 * rename (1–2 ms here: ext4 writes a file renamed over another out at once). The rows without fsync (a no-op
 * for those runs only) leave out the part that varies most. An extra flush is caught exactly by the fsync count.
 */
const targets = {
  memory: { withDisk: { automatic: 20_000, approval: 30_000 }, ownWork: { automatic: 6000, approval: 12_000 } },
  modbus: { withDisk: { automatic: 60, approval: 120 }, ownWork: { automatic: 40, approval: 50 } },
};

type Peer = keyof typeof targets;
type FsFunction = (...args: unknown[]) => unknown;

/**
 * Replaces fs.fsyncSync (counting each call, timing it, or skipping it when `skipFsync`) and counts head-file
 * replacements (writeFileSync of the head's temporary file, renameSync onto the head); `restore()` puts the
 * originals back.
 */
function patchDisk(skipFsync: boolean) {
  const fs = fsDefault as unknown as Record<"fsyncSync" | "writeFileSync" | "renameSync", FsFunction>;
  const originals = { fsyncSync: fs.fsyncSync, writeFileSync: fs.writeFileSync, renameSync: fs.renameSync };
  const counts = { fsyncs: 0, fsyncMs: 0, headWrites: 0, headRenames: 0, headMs: 0 };
  const timed = (original: FsFunction, args: unknown[]) => {
    const start = performance.now();
    const result = original(...args);
    counts.headMs += performance.now() - start;
    return result;
  };
  fs.fsyncSync = (...args) => {
    counts.fsyncs++;
    if (skipFsync) return undefined;
    const start = performance.now();
    const result = originals.fsyncSync(...args);
    counts.fsyncMs += performance.now() - start;
    return result;
  };
  fs.writeFileSync = (...args) => {
    if (!String(args[0]).endsWith(".head.tmp")) return originals.writeFileSync(...args);
    counts.headWrites++;
    return timed(originals.writeFileSync, args);
  };
  fs.renameSync = (...args) => {
    if (!String(args[1]).endsWith(".head")) return originals.renameSync(...args);
    counts.headRenames++;
    return timed(originals.renameSync, args);
  };
  // Named imports of node:fs (the audit's `import { fsyncSync }`) see the replacement only after this.
  syncBuiltinESMExports();
  return {
    counts,
    restore() {
      Object.assign(fs, originals);
      syncBuiltinESMExports();
    },
  };
}

function checkExecuted(proposal: Proposal | undefined, what: string): void {
  if (
    proposal?.state !== "executed" ||
    proposal.outcome?.write !== "written" ||
    proposal.outcome.readBack !== "verified"
  ) {
    const detail = proposal ? `${proposal.state}, outcome ${JSON.stringify(proposal.outcome ?? null)}` : "no proposal";
    throw new Error(`guard bench: a ${what} write was not executed and verified (${detail})`);
  }
}

/** Runs every measurement on one peer: `source` is the one holding-register (or memory key) tag's source. */
async function measurePeer<TAddress>(peer: Peer, source: TagSource<TAddress>, where: string): Promise<BenchResult[]> {
  const tags = defineTags({
    speed: float({
      unit: "rpm",
      range: [0, 1800],
      resolution: 1,
      source,
      // maxStep and minIntervalMs never stop a bench write: every proposal inside the band is executed.
      write: {
        range: [600, 1500],
        maxStep: 1000,
        minIntervalMs: 0,
        approval: "automatic",
        automaticRange: [900, 1100],
      },
    }),
  });
  const plant = createPlant({ tags, onError: () => {} });
  await plant.connect();
  const adapter = source.adapter;
  const bound: BoundTag<TAddress> = { name: "speed", definition: tags.speed, address: source.address };
  const folder = mkdtempSync(join(tmpdir(), "plantwire-guard-bench-"));
  let toggle = false;
  const nextValue = () => {
    toggle = !toggle;
    return toggle ? 950 : 1000;
  };

  const rawOnce = async () => {
    const value = nextValue();
    const written = await adapter.write?.(bound, value);
    if (written?.outcome !== "written") throw new Error(`guard bench: a raw write ended ${written?.outcome}`);
    const [sample] = await adapter.read([bound]);
    if (sample?.value !== value) throw new Error(`guard bench: raw read-back ${String(sample?.value)}, not ${value}`);
  };
  const raw = async () => {
    for (let index = 0; index < writesPerRun; index++) await rawOnce();
  };

  const results: BenchResult[] = [];
  try {
    for (const mode of ["automatic", "approval"] as const) {
      // A guard of its own per mode, one after the other: the device lock allows one writer at a time.
      const audit = AuditLog.open(join(folder, `${mode}.jsonl`));
      const guard = createGuard({
        plant,
        audit,
        mode,
        deviceLocks: join(folder, "locks"),
        // The bench decides through the API, standing in for a person.
        allowSameProcessApproval: true,
      });
      const guardedWrite = async () => {
        const [made] = await guard.propose({ speed: nextValue() }, { reason: "guard bench" });
        if (mode === "automatic") return checkExecuted(made, mode);
        if (made?.state !== "pending") throw new Error(`guard bench: a proposal was ${made?.state}, not pending`);
        checkExecuted(await guard.approve(made.id, { by: "bench" }), mode);
      };
      const guarded = async () => {
        for (let index = 0; index < writesPerRun; index++) await guardedWrite();
      };
      try {
        const guardedLabel =
          mode === "automatic" ? "propose, executed, verified" : "propose + approve, executed, verified";
        const timing = await timeSideBySide(raw, guarded, rounds);
        results.push(
          ratioResult(
            `guard: ${mode} guarded write vs raw, ${peer} (time)`,
            { label: "raw adapter write + read", value: timing.baselineMs / writesPerRun, unit: "ms/write" },
            { label: guardedLabel, value: timing.candidateMs / writesPerRun, unit: "ms/write" },
            { at: "most", ratio: targets[peer].withDisk[mode] },
            `${where}; medians of ${rounds} runs of ${writesPerRun} writes each side; bound set after measuring`,
          ),
        );

        // The same runs with fsync a no-op, so the fsync latency (which varies run to run on a shared machine) drops
        // out of the ratio. Everything else, the head file included, is done as usual.
        const skipping = patchDisk(true);
        let ownWork: { baselineMs: number; candidateMs: number };
        try {
          ownWork = await timeSideBySide(raw, guarded, rounds);
        } finally {
          skipping.restore();
        }
        if (skipping.counts.fsyncs === 0) throw new Error("guard bench: fsyncSync was not replaced");
        results.push(
          ratioResult(
            `guard: ${mode} guarded write vs raw, ${peer}, without fsync (time)`,
            { label: "raw adapter write + read", value: ownWork.baselineMs / writesPerRun, unit: "ms/write" },
            { label: `${guardedLabel}, fsync a no-op`, value: ownWork.candidateMs / writesPerRun, unit: "ms/write" },
            { at: "most", ratio: targets[peer].ownWork[mode] },
            "fsync a no-op, the head file still replaced: the guard's work (reads, checks, hashing, head file) without the fsync wait; bound set after measuring",
          ),
        );

        const flushesBefore = audit.flushes;
        const counter = patchDisk(false);
        try {
          for (let index = 0; index < countedWrites; index++) await guardedWrite();
        } finally {
          counter.restore();
        }
        const { fsyncs, fsyncMs, headWrites, headRenames, headMs } = counter.counts;
        const flushes = audit.flushes - flushesBefore;
        // The wrapper must have seen the audit's own fsyncs, or the count below would be a silent zero.
        if (fsyncs < flushes || flushes === 0) {
          throw new Error(`guard bench: counted ${fsyncs} fsyncs but the audit flushed ${flushes} times`);
        }
        results.push(
          ratioResult(
            `guard: fsyncs per ${mode} guarded write, ${peer}`,
            { label: "allowed per write", value: allowedFsyncs, unit: "fsyncs" },
            { label: "measured per write", value: fsyncs / countedWrites, unit: "fsyncs" },
            { at: "most", ratio: 1 },
            `${fsyncs} fsyncs (the audit counted ${flushes} flushes) over ${countedWrites} writes, ${(fsyncMs / fsyncs).toFixed(2)} ms each on average; ${headWrites} head-file writes and ${headRenames} renames (not fsynced), ${(headMs / Math.max(headRenames, 1)).toFixed(2)} ms per replacement`,
          ),
        );
      } finally {
        await guard.close();
        await audit.close();
      }
    }
  } finally {
    await plant.close();
    rmSync(folder, { recursive: true, force: true });
  }
  return results;
}

export default async function guardBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const memory = memoryAdapter({ name: "drive", values: { speed: 1000 } });
  results.push(...(await measurePeer("memory", memory.key("speed"), "memory adapter, in process")));

  const layout = modbus({ url: "modbus+tcp://127.0.0.1:502", name: "layout" });
  const register = layout.holding(100, "uint16");
  const device = startBenchPeer(new URL("./modbus-device.ts", import.meta.url));
  try {
    const { port } = await device.ask<{ port: number }>({ values: [[register.address, 1000]] });
    const drive = modbus({ url: `modbus+tcp://127.0.0.1:${port}`, name: "drive", timeoutMs: 1000 });
    results.push(
      ...(await measurePeer(
        "modbus",
        drive.holding(100, "uint16"),
        "Modbus simulator in its own process, one holding register over loopback",
      )),
    );
  } finally {
    await device.close();
  }
  return results;
}
