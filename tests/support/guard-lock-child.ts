/**
 * Child process for the one-writer-per-device tests (T21). It prints one line when it is ready (or refused) and then
 * holds what it took until it reads "exit" on standard input, or until its input closes (its parent is gone).
 *
 *   lock <folder> <device>                     takes the device lock directly
 *   guard <folder> <modbus url> <audit> <rpm>   creates a guard over one Modbus TCP tag and writes <rpm> through it once
 *
 * Lines: "ready <pid>", "refused <message as JSON>", "error <message as JSON>".
 */
import { ConfigError, createGuard, createPlant, defineTags, float, lockDevices } from "plantwire";
import { modbus } from "plantwire/modbus";

const [mode, folder, ...rest] = process.argv.slice(2);

const waitForExit = () =>
  new Promise<void>((resolve) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("exit")) resolve();
    });
    process.stdin.on("end", () => resolve());
  });

async function lock(): Promise<void> {
  const [device] = rest;
  if (!folder || !device) throw new Error("usage: guard-lock-child lock <folder> <device>");
  const locks = lockDevices([device], { folder, holder: "the lock test child" });
  console.log(`ready ${process.pid}`);
  await waitForExit();
  locks.release();
}

async function guard(): Promise<void> {
  const [url, audit, rpm] = rest;
  if (!folder || !url || !audit || !rpm) throw new Error("usage: guard-lock-child guard <folder> <url> <audit> <rpm>");
  const drive = modbus({ url, unit: 1, name: "drive", timeoutMs: 2000 });
  const tags = defineTags({
    speed: float({
      unit: "rpm",
      range: [0, 1800],
      source: drive.holding(100, "uint16"),
      write: { range: [600, 1500], minIntervalMs: 60_000 },
    }),
  });
  const plant = createPlant({ tags });
  try {
    const guarded = createGuard({ plant, audit, deviceLocks: folder, allowSameProcessApproval: true });
    try {
      const [proposal] = await guarded.propose({ speed: Number(rpm) }, { reason: "T21 child" });
      const done = await guarded.approve(proposal?.id ?? "", { by: "T21 tester" });
      if (done.outcome?.write !== "written") throw new Error(`the write was not carried out: ${JSON.stringify(done)}`);
      console.log(`ready ${process.pid}`);
      await waitForExit();
    } finally {
      await guarded.close();
    }
  } finally {
    await plant.close();
  }
}

try {
  if (mode === "lock") await lock();
  else if (mode === "guard") await guard();
  else throw new Error(`unknown mode ${String(mode)}`);
  process.exit(0);
} catch (error) {
  const refused = ConfigError.isInstance(error);
  console.log(`${refused ? "refused" : "error"} ${JSON.stringify(String((error as Error).message ?? error))}`);
  process.exit(refused ? 1 : 2);
}
