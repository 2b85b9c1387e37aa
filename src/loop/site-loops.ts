/**
 * A site's loops module: the file a site names with `loops: ./loops.ts`, whose default export makes the site's loops
 * from what `plantwire serve` gives it. The loops get a proposer-only guard: they propose, never decide.
 *
 * ```ts
 * import { createLoop, onChange, type SiteLoops } from "plantwire";
 * const loops: SiteLoops = ({ plant, guard }) => [
 *   createLoop(plant, { name: "advisor", guard, trigger: onChange(["pressure"]), run: async ({ propose }) => … }),
 * ];
 * export default loops;
 * ```
 */
import type { ProposerGuard } from "../guard/proposer-only.js";
import type { Logger } from "../logger.js";
import type { Plant } from "../plant.js";
import type { TagDefinitions } from "../tags.js";
import type { Loop } from "./loop-runner.js";

/** What a loops module's default export is given. */
export interface SiteLoopsContext<TTags extends TagDefinitions = TagDefinitions> {
  /** The site's plant (connected by the server; it closes it). */
  readonly plant: Plant<TTags>;
  /** The site's one guard, as a proposer sees it: propose, send, look; no approve, reject or close. */
  readonly guard: ProposerGuard<TTags>;
  readonly logger: Logger;
  readonly site: { readonly name: string; readonly file: string };
  /** Aborted when the server stops or reloads the site. */
  readonly signal: AbortSignal;
}

/** A loops module's default export: the site's loops (not yet started; the server starts and stops them). */
export type SiteLoops<TTags extends TagDefinitions = TagDefinitions> = (
  context: SiteLoopsContext<TTags>,
) => readonly Loop[] | Promise<readonly Loop[]>;
