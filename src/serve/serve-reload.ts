/**
 * Loads everything a site needs to be served, checking it all before anything is applied: the site file (adapters,
 * tags, guard and serve sections), the guard's writable tags, and the loops module. Every problem is collected into
 * one ConfigError, so a reload that is refused names all of them at once.
 */
import { ConfigError, type ConfigIssue } from "../errors.js";
import type { SiteLoops } from "../loop/site-loops.js";
import { loadSite, type Site } from "../site/site-config.js";
import { importLoopsModule } from "./loops-module.js";

/** A site ready to start. */
export interface SiteParts {
  readonly site: Site;
  readonly loopsFactory?: SiteLoops;
}

/** Loads and checks a site file for `plantwire serve`. Throws a ConfigError naming every problem. */
export async function loadSiteParts(file: string): Promise<SiteParts> {
  const site = await loadSite(file);
  const issues: ConfigIssue[] = [];
  for (const [index, name] of (site.guard?.writable ?? []).entries()) {
    if (!Object.hasOwn(site.tags, name)) {
      issues.push({
        path: `guard.writable.${index}`,
        message: `"${name}" is not a tag of this site`,
        fix: `use one of: ${Object.keys(site.tags).slice(0, 12).join(", ")}`,
      });
    }
  }
  let loopsFactory: SiteLoops | undefined;
  if (site.loops) {
    try {
      loopsFactory = await importLoopsModule(site.loops);
    } catch (error) {
      if (!ConfigError.isInstance(error)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, { file });
  return { site, ...(loopsFactory ? { loopsFactory } : {}) };
}
