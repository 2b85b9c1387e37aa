/**
 * A copy of plantwire's sources in a temp folder whose node_modules lacks some packages, as a newcomer's project does:
 * every other package is linked to the real one, so the copy runs the real CLI and finds exactly what is installed,
 * while the left-out packages cannot be found from it by any means.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** A copied project: where it is, and how to remove it. */
export interface ProjectCopy {
  readonly folder: string;
  /** The copy's CLI entry point (run with `node --import tsx`). */
  readonly bin: string;
  remove(): void;
}

/** Copies the sources (src, adapters, tag-maps, package.json) and links every package but `without`. */
export function projectWithout(without: readonly string[]): ProjectCopy {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-project-"));
  for (const entry of ["src", "adapters", "tag-maps", "package.json", "tsconfig.json"]) {
    cpSync(join(root, entry), join(folder, entry), { recursive: true });
  }
  const modules = join(folder, "node_modules");
  mkdirSync(modules);
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (name.startsWith(".") || without.includes(name)) continue;
    symlinkSync(join(root, "node_modules", name), join(modules, name), "dir");
  }
  return {
    folder,
    bin: join(folder, "src/cli/bin.ts"),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}
