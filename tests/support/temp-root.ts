/**
 * Global setup for the test run: one temporary folder per run, which every worker and every child process uses as
 * its temp dir (TMPDIR, TMP and TEMP point at it), removed when the run ends. Tests and the code under test make
 * their scratch folders with `mkdtemp(tmpdir())` as usual, and none of them is left in the real temp dir, whether a
 * test forgot its cleanup or failed before it. A folder that appears in the real temp dir anyway (made under a fixed
 * path that ignores TMPDIR) is named at the end of the run.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const variables = ["TMPDIR", "TMP", "TEMP"] as const;
/** The prefix of each run's root; other runs' roots (teammates, CI jobs on one machine) are not counted as leaks. */
const rootPrefix = "plantwire-test-run-";

function plantwireFolders(folder: string): Set<string> {
  return new Set(readdirSync(folder).filter((name) => name.startsWith("plantwire-") && !name.startsWith(rootPrefix)));
}

export default function setup(): () => void {
  const realTemp = tmpdir();
  const before = plantwireFolders(realTemp);
  const root = mkdtempSync(join(realTemp, rootPrefix));
  const saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]));
  for (const name of variables) process.env[name] = root;
  return () => {
    for (const name of variables) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    const leaked = [...plantwireFolders(realTemp)].filter((name) => !before.has(name));
    if (leaked.length > 0) {
      console.warn(`These folders appeared in ${realTemp} during the run (made outside TMPDIR?): ${leaked.join(", ")}`);
    }
  };
}
