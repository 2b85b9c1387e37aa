/**
 * The consumer check installs the packed tarball offline from a lock file cut out of the repository's own. This
 * checks that cut: the chosen peers and everything they need are in it, with the repository's versions and
 * integrities, the peers not chosen are not, and every dependency of every entry resolves inside the cut as Node
 * would resolve it.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Entry = { version?: string; integrity?: string; resolved?: string; dependencies?: Record<string, string> };
type Manifests = { manifest: { dependencies: Record<string, string> }; lock: { packages: Record<string, Entry> } };

const root = fileURLToPath(new URL("../..", import.meta.url));
let folder: string;
let consumerManifests: (options: object) => Manifests;
let repository: Record<string, Entry>;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "plantwire-consumer-lock-"));
  // A stand-in tarball: the cut only needs its bytes for the integrity.
  await writeFile(join(folder, "plantwire-0.0.0.tgz"), "not a real tarball");
  const module = (await import(pathToFileURL(join(root, "scripts/consumer-lock.mjs")).href)) as {
    consumerManifests: typeof consumerManifests;
  };
  consumerManifests = module.consumerManifests;
  repository = (
    JSON.parse(await readFile(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, Entry> }
  ).packages;
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

function cut(dependencies: string[]): Manifests {
  return consumerManifests({
    repositoryLock: join(root, "package-lock.json"),
    tarball: "../plantwire-0.0.0.tgz",
    tarballFile: join(folder, "plantwire-0.0.0.tgz"),
    dependencies,
    name: "consumer",
  });
}

/** Where Node would find `name` from the package at `from`, inside the cut. */
function resolveIn(packages: Record<string, Entry>, from: string, name: string): string | undefined {
  for (let folderPath = from; ; ) {
    const candidate = folderPath ? `${folderPath}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!folderPath) return undefined;
    const at = folderPath.lastIndexOf("/node_modules/");
    folderPath = at < 0 ? "" : folderPath.slice(0, at);
  }
}

describe("the consumer project's lock file", () => {
  it("holds the tarball, zod and mqtt with all they need, at the repository's versions, and no other peer", () => {
    const { manifest, lock } = cut(["zod", "mqtt"]);
    expect(manifest.dependencies).toEqual({
      plantwire: "file:../plantwire-0.0.0.tgz",
      zod: repository["node_modules/zod"]?.version,
      mqtt: repository["node_modules/mqtt"]?.version,
    });
    expect(lock.packages["node_modules/plantwire"]?.resolved).toBe("file:../plantwire-0.0.0.tgz");
    expect(lock.packages["node_modules/plantwire"]?.integrity).toMatch(/^sha512-/);
    for (const peer of ["aedes", "sparkplug-payload", "node-opcua", "modbus-serial", "openai", "prom-client"])
      expect(lock.packages[`node_modules/${peer}`]).toBeUndefined();
    const paths = Object.keys(lock.packages).filter((path) => path.startsWith("node_modules/"));
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) {
      const entry = lock.packages[path] as Entry;
      if (path !== "node_modules/plantwire") {
        expect(entry.version).toBe(repository[path]?.version);
        expect(entry.integrity).toBe(repository[path]?.integrity);
      }
      const unresolved = Object.keys(entry.dependencies ?? {}).filter((name) => !resolveIn(lock.packages, path, name));
      expect({ path, unresolved }).toEqual({ path, unresolved: [] });
    }
  });

  it("names the fix when a package is not in the repository's lock file", () => {
    expect(() => cut(["zod", "left-pad-that-is-not-here"])).toThrow(/npm i -D -E left-pad-that-is-not-here/);
  });
});
