/**
 * A Prometheus endpoint for loops and adapters, served only when asked (prom-client, an optional peer, is loaded
 * then). Listens on loopback unless told otherwise: metrics reveal plant activity.
 */
import type { Server } from "node:http";
import type { GuardStatus } from "../guard/write-guard.js";
import { loadOptionalDependency } from "../optional-dependency.js";
import type { Plant } from "../plant.js";
import type { TagDefinitions } from "../tags.js";
import type { Loop, LoopMetrics } from "./loop-runner.js";

type PromClient = typeof import("prom-client");

/**
 * What {@link metricsRegistry} gives back. At run time it is a prom-client `Registry` (cast it to merge it into
 * your own); the type names only the part callers use, so the package's types never require prom-client.
 */
export interface MetricsRegistry {
  /** The metrics in the Prometheus text format. */
  metrics(): Promise<string>;
  /** The content type to serve them with. */
  readonly contentType: string;
}

/** Options of {@link serveMetrics}. */
export interface MetricsOptions<TTags extends TagDefinitions> {
  loops: readonly Loop[];
  plant?: Plant<TTags>;
  /** Guards whose audit state and pending proposals are shown. */
  guards?: readonly { status(): GuardStatus }[];
  /** @default 9464 */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
}

const counters: [keyof Omit<LoopMetrics, "proposals" | "lastRunMs">, string][] = [
  ["runs", "Loop runs started"],
  ["failedRuns", "Loop runs that threw"],
  ["skippedRuns", "Trigger firings skipped because a run was active"],
  ["pausedRuns", "Trigger firings not run because the budget was spent"],
  ["modelRequests", "Model requests sent"],
  ["rejectedAnswers", "Model answers that failed validation (audited, never acted on)"],
  ["promptTokens", "Prompt tokens used"],
  ["cachedTokens", "Prompt tokens served from the provider's cache"],
  ["completionTokens", "Completion tokens used"],
  ["totalRunMs", "Total run time in milliseconds"],
];

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** Builds a registry whose metrics are read from the loops and the plant at scrape time. */
export async function metricsRegistry<TTags extends TagDefinitions>(
  options: Omit<MetricsOptions<TTags>, "port" | "host">,
): Promise<MetricsRegistry> {
  const prom = await loadOptionalDependency<PromClient>("prom-client", "The metrics endpoint");
  const registry = new prom.Registry();
  for (const [field, help] of counters) {
    new prom.Gauge({
      name: `plantwire_loop_${snakeCase(field)}`,
      help,
      labelNames: ["loop"],
      registers: [registry],
      collect() {
        for (const loop of options.loops) this.set({ loop: loop.name }, loop.metrics()[field]);
      },
    });
  }
  new prom.Gauge({
    name: "plantwire_loop_proposals",
    help: "Proposals by state",
    labelNames: ["loop", "state"],
    registers: [registry],
    collect() {
      for (const loop of options.loops) {
        for (const [state, count] of Object.entries(loop.metrics().proposals))
          this.set({ loop: loop.name, state }, count);
      }
    },
  });
  new prom.Gauge({
    name: "plantwire_loop_last_run_seconds",
    help: "Duration of the last run",
    labelNames: ["loop"],
    registers: [registry],
    collect() {
      for (const loop of options.loops) this.set({ loop: loop.name }, loop.metrics().lastRunMs / 1000);
    },
  });
  new prom.Gauge({
    name: "plantwire_adapter_up",
    help: "1 when the adapter is connected, 0.5 when degraded, 0 otherwise",
    labelNames: ["adapter", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [adapter, status] of Object.entries(options.plant?.status() ?? {})) {
        const value = status.state === "connected" ? 1 : status.state === "degraded" ? 0.5 : 0;
        this.set({ adapter, state: status.state }, value);
      }
    },
  });
  new prom.Gauge({
    name: "plantwire_guard_audit_ok",
    help: "1 while the guard's audit log records; 0 once an append failed (every proposal is refused until a restart)",
    labelNames: ["guard", "code"],
    registers: [registry],
    collect() {
      this.reset();
      for (const guard of options.guards ?? []) {
        const status = guard.status();
        this.set({ guard: status.identity, code: status.audit.code ?? "" }, status.audit.state === "ok" ? 1 : 0);
      }
    },
  });
  new prom.Gauge({
    name: "plantwire_guard_pending_proposals",
    help: "Proposals waiting for a person",
    labelNames: ["guard"],
    registers: [registry],
    collect() {
      this.reset();
      for (const guard of options.guards ?? []) this.set({ guard: guard.status().identity }, guard.status().pending);
    },
  });
  return registry;
}

/** Serves `/metrics` in the Prometheus text format. Resolves with the server (close it on shutdown). */
export async function serveMetrics<TTags extends TagDefinitions>(options: MetricsOptions<TTags>): Promise<Server> {
  const registry = await metricsRegistry(options);
  const { createServer } = await import("node:http");
  const server = createServer((request, response) => {
    if (request.url !== "/metrics") {
      response.writeHead(404).end("see /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 9464, options.host ?? "127.0.0.1", resolve);
  });
  return server;
}
