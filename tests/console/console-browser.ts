/**
 * The real browser of the console tests: Debian's Chromium driven by playwright-core, and axe-core injected into the
 * page. Without Chromium the tests skip with a reason, or fail when PLANTWIRE_REQUIRE_SERVICES=1 (CI installs it).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type Browser, chromium, type Page } from "playwright-core";
import { servicesRequired } from "../support/services.js";

/** Where Debian's chromium package puts the browser. */
export const chromiumPath = "/usr/bin/chromium";

/** Flags for a quiet headless run: no GPU, no sandbox (containers), nothing that reaches the network by itself. */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The reason to skip the browser tests, or undefined to run them. Throws when Chromium is missing and
 * PLANTWIRE_REQUIRE_SERVICES=1.
 */
export function browserSkipReason(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  const reason = `Chromium is not installed at ${chromiumPath} (apt-get install -y chromium)`;
  if (servicesRequired) throw new Error(`${reason}, and PLANTWIRE_REQUIRE_SERVICES=1 requires it`);
  return `${reason}: skipping (set PLANTWIRE_REQUIRE_SERVICES=1 to make this fail)`;
}

/** Starts the browser. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** One accessibility problem axe found. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/**
 * Runs axe-core on the page as it is now (WCAG 2 A/AA and best practices). axe is evaluated through the debugging
 * protocol, which the page's Content-Security-Policy does not govern: the policy stays as strict as in production.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run(options: object): Promise<{ violations: AxeResultViolation[] }> };
      }
    ).axe;
    // Violations only: what passed is not needed, and leaving it out makes each run much cheaper.
    const result = await axe.run({ resultTypes: ["violations"] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => String(node.target)),
    }));
  });
}

interface AxeResultViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown }[];
}
