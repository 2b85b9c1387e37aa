/**
 * One site running inside `plantwire serve`: its plant (adapters connected), its one guard (the one writer of each
 * device, with its audit and approvals folder, and the login door for decisions made in the console or by token), and
 * its loops, which get a proposer-only view of the guard. A reload builds a new runtime and closes the old one.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { AuditLog } from "../audit/audit-log.js";
import { PlantwireError } from "../errors.js";
import type { Proposal } from "../guard/guard-types.js";
import { proposerOnly } from "../guard/proposer-only.js";
import { createGuard, type WriteGuard } from "../guard/write-guard.js";
import type { Logger } from "../logger.js";
import type { Loop } from "../loop/loop-runner.js";
import type { SiteLoops } from "../loop/site-loops.js";
import { createPlant, type Plant, type TagChange, type Watcher } from "../plant.js";
import { isStale, type TimedSample } from "../sample.js";
import { type Site, type SiteGuardSettings, siteDefaults } from "../site/site-config.js";
import type { TagDefinitions } from "../tags.js";
import type { AdapterView } from "./api-types.js";
import { adapterView } from "./serve-views.js";

type Tags = TagDefinitions;

/** A running site. */
export interface SiteRuntime {
  readonly site: Site;
  readonly guardSettings: SiteGuardSettings;
  readonly plant: Plant<Tags>;
  /** The deciding guard: it stays in the server; loops only ever see `proposerOnly(guard)`. */
  readonly guard: WriteGuard<Tags>;
  readonly audit: AuditLog;
  readonly loops: readonly Loop[];
  /** The loops module's export the loops came from (a reload that fails restarts with it). */
  readonly loopsFactory?: SiteLoops;
  /** The latest sample of each tag (from the watch), judged for staleness now. */
  latest(name: string): TimedSample | undefined;
  adapters(): AdapterView[];
  /** Proposals seen lately that are no longer pending, newest first. */
  recent(limit?: number): Proposal[];
  /** Notes a proposal id (from the audit) so that `recent()` can show it once decided. */
  noteProposal(id: string): void;
  close(): Promise<void>;
}

/** What a runtime tells the server as it runs. */
export interface SiteRuntimeOptions {
  readonly logger: Logger;
  /** The loops module's default export, already imported (undefined: the site has no loops). */
  readonly loopsFactory?: SiteLoops;
  onSample(change: TagChange<Tags>): void;
  onAdapterStatus(): void;
}

/** Starts a site: opens its audit, creates its plant and guard, connects, watches, and starts its loops. */
export async function startSiteRuntime(site: Site, options: SiteRuntimeOptions): Promise<SiteRuntime> {
  const { logger } = options;
  const guardSettings = siteDefaults(site).guard;
  const plant = createPlant({ tags: site.tags, logger, pollIntervalMs: 1000 });
  const closers: (() => Promise<void> | void)[] = [() => plant.close()];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        logger.error(`[plantwire serve] while stopping: ${String(error)}`);
      }
    }
  };
  try {
    // The server opens the audit itself so that logins, logouts and refused requests go into the same chain. A fresh
    // site folder has no state folder yet: make the audit's folder (not the file: the audit creates that itself).
    mkdirSync(dirname(guardSettings.audit), { recursive: true, mode: 0o750 });
    const audit = AuditLog.open(guardSettings.audit);
    closers.push(() => audit.close());
    const guard = createGuard({
      plant,
      audit,
      approvals: guardSettings.approvals,
      mode: guardSettings.mode,
      ...(guardSettings.writable ? { writable: guardSettings.writable } : {}),
      ...(guardSettings.proposalTtlMs ? { proposalTtlMs: guardSettings.proposalTtlMs } : {}),
      ...(guardSettings.separateApproverUsers ? { separateApproverUsers: true } : {}),
      // The door for people the server logged in; never allowSameProcessApproval: the loops in this process propose.
      loginDecisions: true,
    });
    closers.push(() => guard.close());
    const reconnections = new Map<string, number>();
    const everConnected = new Set<string>();
    for (const adapter of Object.values(site.adapters)) {
      reconnections.set(adapter.name, 0);
      const stop = adapter.onStatus((status) => {
        if (status.state === "connected") {
          if (everConnected.has(adapter.name))
            reconnections.set(adapter.name, (reconnections.get(adapter.name) ?? 0) + 1);
          everConnected.add(adapter.name);
        }
        options.onAdapterStatus();
      });
      closers.push(stop);
    }
    await plant.connect();
    for (const adapter of Object.values(site.adapters)) {
      if (adapter.status().state === "connected") everConnected.add(adapter.name);
    }
    const watcher: Watcher = await plant.watch((change) => options.onSample(change));
    closers.push(() => watcher.stop());

    const controller = new AbortController();
    closers.push(() => controller.abort(new PlantwireError("PW_CONNECTION", "the site was stopped or reloaded")));
    const loops = options.loopsFactory
      ? [
          ...(await options.loopsFactory({
            plant,
            guard: proposerOnly(guard),
            logger,
            site: { name: site.name, file: site.file },
            signal: controller.signal,
          })),
        ]
      : [];
    const names = new Set<string>();
    for (const loop of loops) {
      if (names.has(loop.name)) {
        throw new PlantwireError("PW_CONFIG", `two loops are named "${loop.name}"; give each loop its own name`);
      }
      names.add(loop.name);
    }
    closers.push(async () => {
      await Promise.allSettled(loops.map((loop) => loop.stop({ abandonAfterMs: 10_000 })));
    });
    for (const loop of loops) await loop.start();

    const seen: string[] = [];
    const noteProposal = (id: string) => {
      if (seen.includes(id)) return;
      seen.push(id);
      if (seen.length > 200) seen.shift();
    };
    return {
      site,
      guardSettings,
      plant,
      guard,
      audit,
      loops,
      ...(options.loopsFactory ? { loopsFactory: options.loopsFactory } : {}),
      latest(name) {
        const definition = site.tags[name];
        if (!definition) return undefined;
        const sample = plant.history(name).at(-1);
        return sample ? { ...sample, stale: isStale(sample, definition, Date.now()) } : undefined;
      },
      adapters() {
        return Object.values(site.adapters).map((adapter) =>
          adapterView(adapter.name, adapter.kind, adapter.status(), reconnections.get(adapter.name) ?? 0),
        );
      },
      recent(limit = 50) {
        for (const proposal of guard.pending()) noteProposal(proposal.id);
        return seen
          .map((id) => guard.get(id))
          .filter((proposal): proposal is Proposal => proposal !== undefined && proposal.state !== "pending")
          .reverse()
          .slice(0, limit);
      },
      noteProposal,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
