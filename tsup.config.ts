import { defineConfig } from "tsup";

/** Optional peers and zod stay external: the core must never bundle or load a protocol library. */
const external = [
  "zod",
  "yaml",
  "vitest",
  "node-opcua",
  "modbus-serial",
  "mqtt",
  "aedes",
  "pg",
  "mysql2",
  "better-sqlite3",
  "sparkplug-payload",
  "openai",
  "gpt-tokenizer",
  "croner",
  "prom-client",
  "@toon-format/toon",
];

export default defineConfig([
  {
    entry: {
      index: "src/index.ts",
      testing: "src/testing/index.ts",
      modbus: "adapters/modbus/index.ts",
      opcua: "adapters/opcua/index.ts",
      mqtt: "adapters/mqtt/index.ts",
      sql: "adapters/sql/index.ts",
      simulator: "src/simulator-entry.ts",
      serve: "src/serve-entry.ts",
    },
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    platform: "node",
    shims: true,
    splitting: true,
    treeshake: true,
    external,
  },
  {
    // The CLI is ESM only (it uses top-level await) and starts with a shebang.
    entry: { cli: "src/cli/bin.ts" },
    format: ["esm"],
    dts: false,
    sourcemap: true,
    target: "node20",
    platform: "node",
    shims: true,
    banner: { js: "#!/usr/bin/env node" },
    external,
  },
]);
