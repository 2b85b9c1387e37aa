import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^plantwire\/testing$/, replacement: here("./src/testing/index.ts") },
      { find: /^plantwire\/simulator$/, replacement: here("./src/simulator-entry.ts") },
      { find: /^plantwire\/serve$/, replacement: here("./src/serve-entry.ts") },
      { find: /^plantwire\/(modbus|opcua|mqtt|sql)$/, replacement: here("./adapters/$1/index.ts") },
      { find: /^plantwire$/, replacement: here("./src/index.ts") },
    ],
  },
  test: {
    include: ["tests/**/*.test.ts"],
    // One temp folder per run for every worker and child process, removed at the end: no run leaves plantwire-*
    // folders behind in the real temp dir.
    globalSetup: ["tests/support/temp-root.ts"],
    // A passing run prints only what vitest prints: a test's own console lines (measurements, progress) are shown
    // when it fails, where they help.
    silent: "passed-only",
    // Most files wait on sockets, child processes and browsers rather than compute: two workers even on a 2-core box
    // (vitest's default there is one) halve the run without crowding the timing-bound reliability tests.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 30_000,
    typecheck: { enabled: true, include: ["tests/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
  },
});
