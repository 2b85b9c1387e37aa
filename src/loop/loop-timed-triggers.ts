/**
 * The timed triggers: a period and a cron schedule. Unlike the event-driven ones they know when they will next fire,
 * and say so (`TriggerContext.schedule`), for the status page's "next run".
 */
import { ConfigError } from "../errors.js";
import type { TagDefinitions } from "../tags.js";
import type { Trigger } from "./loop-triggers.js";

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from a number of ms or a text like "500ms", "10s", "5m", "1h". */
export function parseDuration(value: number | string, field = "interval"): number {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  const match = typeof value === "string" ? /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(value.trim()) : null;
  if (!match) {
    throw new ConfigError([
      { path: field, message: `"${String(value)}" is not a duration`, fix: 'write e.g. 10000, "10s", "5m" or "1h"' },
    ]);
  }
  return Number(match[1]) * (units[match[2] as string] as number);
}

/** Runs every `interval` (ms or "10s"). */
export function every<TTags extends TagDefinitions = TagDefinitions>(interval: number | string): Trigger<TTags> {
  const ms = parseDuration(interval);
  const description = `every ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}`;
  return {
    description,
    async start({ clock, fire, schedule }) {
      schedule?.(clock.now() + ms);
      const stop = clock.repeat(ms, () => {
        const time = clock.now();
        // Said before the run starts, so a status page during the run already shows the one after it.
        schedule?.(time + ms);
        fire({ kind: "interval", trigger: description, time });
      });
      return async () => {
        stop();
        schedule?.(undefined);
      };
    },
  };
}

/**
 * Runs on a cron schedule, e.g. "0 6,14,22 * * *" for each shift change (croner; seconds field optional).
 * It follows the wall clock whatever clock the loop is given.
 */
export function cron<TTags extends TagDefinitions = TagDefinitions>(
  expression: string,
  options: { timezone?: string } = {},
): Trigger<TTags> {
  const description = `cron "${expression}"`;
  return {
    description,
    async start({ fire, schedule }) {
      const { Cron } = await import("croner");
      let job: InstanceType<typeof Cron>;
      const next = () => schedule?.(job.nextRun()?.getTime());
      try {
        job = new Cron(expression, { ...(options.timezone ? { timezone: options.timezone } : {}) }, () => {
          fire({ kind: "cron", trigger: description, time: Date.now() });
          next();
        });
      } catch (error) {
        throw new ConfigError([
          {
            path: "cron",
            message: `"${expression}" is not a cron expression (${(error as Error).message})`,
            fix: 'write e.g. "*/5 * * * *" (every 5 minutes)',
          },
        ]);
      }
      next();
      return async () => {
        job.stop();
        schedule?.(undefined);
      };
    },
  };
}
