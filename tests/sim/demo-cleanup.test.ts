/**
 * `npm run demo` leaves nothing in the temp dir (its own folder, the simulator's PKI folder, device locks and
 * Sparkplug state included) unless `--keep` is given; with it, the folder stays and the demo says where. Both runs
 * are real processes with a temp dir of their own, run side by side in their short mode.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "plantwire-demo-cleanup-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function demo(name: string, args: string[]) {
  const temp = mkdtempSync(join(scratch, `${name}-`));
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/demo.ts", ...args], {
    cwd: root,
    env: { ...process.env, TMPDIR: temp, TMP: temp, TEMP: temp, PLANTWIRE_DEMO_SECONDS: "2" },
  });
  // tsx keeps a compile cache in the temp dir; that is not the demo's.
  return { stdout, left: readdirSync(temp).filter((entry) => entry.startsWith("plantwire")) };
}

describe("npm run demo", () => {
  it("removes its temporary folder, and keeps it with --keep, saying where", async () => {
    const [plain, kept] = await Promise.all([demo("plain", []), demo("kept", ["--keep"])]);
    expect(plain.stdout).toContain("audit OK");
    expect(plain.left).toEqual([]);
    expect(plain.stdout).toContain("npm run demo -- --keep keeps them");

    expect(kept.left).toHaveLength(1);
    expect(kept.left[0]).toMatch(/^plantwire-demo-/);
    const folder = /files kept \(--keep\): (\S+)/.exec(kept.stdout)?.[1];
    expect(folder).toBeDefined();
    expect(folder?.endsWith(kept.left[0] as string)).toBe(true);
    expect(existsSync(join(folder as string, "audit.jsonl"))).toBe(true);
  }, 240_000);
});
