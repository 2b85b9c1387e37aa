/**
 * Writes the package-lock.json of a consumer project from the repository's own lock file, so that `npm ci --offline`
 * installs the packed tarball and a chosen set of peers from the npm cache alone: a lock file names every version and
 * its integrity, so npm needs no registry metadata (which `npm ci` of the repository never put in the cache).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * Where `name` resolves from the folder `from` (a lock path such as "node_modules/a"), as Node and npm resolve it:
 * the nearest node_modules up the chain that holds it.
 * @param {Record<string, Record<string, unknown>>} packages
 * @param {string} from
 * @param {string} name
 */
function locate(packages, from, name) {
  let folder = from;
  for (;;) {
    const candidate = folder ? `${folder}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!folder) return undefined;
    const cut = folder.lastIndexOf("/node_modules/");
    folder = cut < 0 ? "" : folder.slice(0, cut);
  }
}

/**
 * Copies into `into` every lock entry `name` needs from `from`: its dependencies, the optional ones the lock holds,
 * and the peers it does not mark optional (npm installs those too). Paths stay as they are, so the subset is a valid
 * layout whenever the whole was.
 * @param {Record<string, Record<string, unknown>>} packages
 * @param {Record<string, Record<string, unknown>>} into
 * @param {string} from
 * @param {string} name
 */
function take(packages, into, from, name) {
  const path = locate(packages, from, name);
  if (!path) return;
  if (into[path]) return;
  const { dev, devOptional, peer, optional, ...entry } = packages[path];
  into[path] = entry;
  const optionalPeers = /** @type {Record<string, { optional?: boolean }>} */ (entry.peerDependenciesMeta ?? {});
  const needed = [
    ...Object.keys(/** @type {object} */ (entry.dependencies ?? {})),
    ...Object.keys(/** @type {object} */ (entry.optionalDependencies ?? {})),
    ...Object.keys(/** @type {object} */ (entry.peerDependencies ?? {})).filter(
      (peerName) => !optionalPeers[peerName]?.optional,
    ),
  ];
  for (const dependency of needed) take(packages, into, path, dependency);
}

/**
 * The version the repository's lock file holds for a top-level package, or an error naming it.
 * @param {Record<string, Record<string, unknown>>} packages
 * @param {string} name
 */
export function lockedVersion(packages, name) {
  const entry = packages[`node_modules/${name}`];
  if (!entry)
    throw new Error(`${name} is not in package-lock.json. Fix: add it to devDependencies (npm i -D -E ${name})`);
  return /** @type {string} */ (entry.version);
}

/**
 * The package.json and package-lock.json of a consumer of the tarball at `tarball` (a path relative to the project)
 * with `packages` (names; their versions come from the repository's lock) installed beside it.
 * @param {{ repositoryLock: string, tarball: string, tarballFile: string, dependencies: string[], name: string }} options
 */
export function consumerManifests(options) {
  const lock = JSON.parse(readFileSync(options.repositoryLock, "utf8"));
  /** @type {Record<string, Record<string, unknown>>} */
  const packages = lock.packages;
  const root = packages[""];
  const integrity = `sha512-${createHash("sha512").update(readFileSync(options.tarballFile)).digest("base64")}`;
  /** @type {Record<string, string>} */
  const dependencies = { plantwire: `file:${options.tarball}` };
  for (const name of options.dependencies) dependencies[name] = lockedVersion(packages, name);
  /** @type {Record<string, Record<string, unknown>>} */
  const entries = {
    "": { name: options.name, dependencies },
    "node_modules/plantwire": {
      version: root.version,
      resolved: `file:${options.tarball}`,
      integrity,
      license: root.license,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
      peerDependencies: root.peerDependencies,
      peerDependenciesMeta: root.peerDependenciesMeta,
    },
  };
  for (const name of Object.keys(/** @type {object} */ (root.dependencies ?? {}))) take(packages, entries, "", name);
  for (const name of options.dependencies) take(packages, entries, "", name);
  const manifest = { name: options.name, private: true, dependencies };
  return { manifest, lock: { name: options.name, lockfileVersion: 3, requires: true, packages: entries } };
}
