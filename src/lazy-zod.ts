/**
 * zod, loaded on first use. zod costs ~75 ms to load, most of plantwire's import time, and only validation needs it;
 * loading it lazily (and synchronously, so `defineTags()` can stay synchronous) keeps `import "plantwire"` light.
 */
import { createRequire } from "node:module";

let loaded: typeof import("zod") | undefined;

/** The zod module, required on first call. */
export function lazyZod(): typeof import("zod") {
  loaded ??= createRequire(import.meta.url)("zod") as typeof import("zod");
  return loaded;
}
