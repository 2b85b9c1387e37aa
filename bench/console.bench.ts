/**
 * The operator console in Chromium against `plantwire serve` on the simulator:
 *  - page weight: every byte a first load transfers (the page, its modules and style, the login, the site's state),
 *    compressed as sent, against the 150 KB budget;
 *  - sample to screen: from a sample's time at the plant to its value painted in the page (p95, measured in the
 *    browser), against the plant's own refresh period (how often a tag's sample time moves on, measured in the same
 *    run), and beside it the event stream's own delivery time to a plain client.
 * Skipped, with a note, when Chromium is not installed.
 */
import { existsSync } from "node:fs";
import type { Request } from "playwright-core";
import { chromiumPath, launchBrowser } from "../tests/console/console-browser.js";
import { people, startServedSite } from "../tests/console/console-site.js";
import { type BenchResult, median, ratioResult } from "./bench-kit.js";

const budgetKb = 150;
const collectMs = 20_000;

function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? Number.NaN;
}

/** The plant's refresh period as served: the median step of one tag's sample time between snapshots read often. */
async function refreshPeriod(url: string, cookie: string, until: number): Promise<number> {
  const steps: number[] = [];
  let previous: number | undefined;
  while (Date.now() < until) {
    const snapshot = (await (await fetch(`${url}/api/snapshot`, { headers: { cookie } })).json()) as {
      tags: Record<string, { time: number }>;
    };
    const time = snapshot.tags.motorCurrent?.time;
    if (time !== undefined && previous !== undefined && time > previous) steps.push(time - previous);
    previous = time;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return median(steps);
}

/** The event stream read by a plain client: each sample's delivery delay. */
async function readStream(url: string, cookie: string, signal: AbortSignal) {
  const delays: number[] = [];
  const response = await fetch(`${url}/api/events`, { headers: { cookie, accept: "text/event-stream" }, signal });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const done = (async () => {
    try {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
          if (!event.startsWith("event: sample")) continue;
          const data = JSON.parse(event.slice(event.indexOf("data: ") + 6)) as { time: number };
          delays.push(Date.now() - data.time);
        }
      }
    } catch {
      // Aborted at the end of the measurement.
    }
  })();
  return { delays, done };
}

export default async function consoleBench(): Promise<BenchResult[]> {
  if (!existsSync(chromiumPath)) {
    console.log(`console bench skipped: Chromium is not installed at ${chromiumPath} (apt-get install -y chromium)`);
    return [];
  }
  const site = await startServedSite({ speedup: 5 });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const finished: Request[] = [];
    page.on("requestfinished", (request) => finished.push(request));
    await page.goto(site.url);
    await page.getByLabel("User name").fill(people.operator.name);
    await page.getByLabel("Password").fill(people.operator.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("tr[data-tag] .value[data-time]").first().waitFor();
    await page.waitForLoadState("networkidle").catch(() => {});
    let bytes = 0;
    let assetBytes = 0;
    for (const request of finished) {
      const sizes = await request.sizes();
      const transferred = sizes.responseBodySize + sizes.responseHeadersSize + sizes.requestHeadersSize;
      bytes += transferred;
      if (!new URL(request.url()).pathname.startsWith("/api/")) assetBytes += transferred;
    }

    // Painted, not just in the DOM: the delay is taken in the animation frame after the value changed.
    // The page's own code, as text: this project compiles without the DOM's types.
    await page.evaluate(`(() => {
      const delays = [];
      globalThis.consoleDelays = delays;
      new MutationObserver((mutations) => {
        const values = new Set();
        for (const mutation of mutations) {
          const target = mutation.target.nodeType === 1 ? mutation.target : mutation.target.parentElement;
          if (target && target.classList.contains("value")) values.add(target);
        }
        requestAnimationFrame(() => {
          for (const value of values) delays.push(Date.now() - Number(value.dataset.time));
        });
      }).observe(document.getElementById("page"), { subtree: true, childList: true, characterData: true });
    })()`);
    const cookie = (await context.cookies())
      .filter((entry) => entry.name === "pw_session")
      .map((entry) => `${entry.name}=${entry.value}`)
      .join("; ");
    const abort = new AbortController();
    const stream = await readStream(site.url, cookie, abort.signal);
    // Cavitation makes pressure and vibration noisy, so values pass their deadbands and reach the page often.
    await site.simulator.setFault("cavitation", true);
    const period = await refreshPeriod(site.url, cookie, Date.now() + collectMs);
    abort.abort();
    await stream.done;
    const shown = ((await page.evaluate("globalThis.consoleDelays")) as number[]).filter(
      (delay) => Number.isFinite(delay) && delay >= 0,
    );
    const shownP95 = percentile(shown, 0.95);
    const streamP95 = percentile(stream.delays, 0.95);
    await context.close();

    return [
      ratioResult(
        "console: first load, all bytes transferred (compressed)",
        { label: "budget", value: budgetKb, unit: "KB" },
        { label: "page, modules, style, login and the site's state", value: bytes / 1024, unit: "KB" },
        { at: "most", ratio: 1 },
        `${finished.length} requests; the console's own files ${(assetBytes / 1024).toFixed(1)} KB, the API ${((bytes - assetBytes) / 1024).toFixed(1)} KB (headers included, the event stream excluded)`,
      ),
      ratioResult(
        "console: sample to screen, p95",
        { label: "the plant's refresh period (median step of a sample's time)", value: period, unit: "ms" },
        { label: "sample time to value painted in Chromium, p95", value: shownP95, unit: "ms" },
        { at: "most", ratio: 0.5 },
        `${shown.length} values painted in ${collectMs / 1000} s; p50 ${percentile(shown, 0.5).toFixed(1)} ms; the event stream alone delivers to a plain client in p95 ${streamP95.toFixed(1)} ms (${stream.delays.length} samples)`,
      ),
    ];
  } finally {
    await browser.close();
    await site.stop();
  }
}
