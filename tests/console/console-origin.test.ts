/**
 * Where a proposal came from, in a real browser (Debian's Chromium, driven by playwright-core) against the real
 * `plantwire serve`: an assistant's token proposes through POST /api/proposals as an MCP client would, and the card
 * shows the client's name and the token's user as plain text. The tag needs two people: the first approval shows
 * "first approved by …", the same person cannot approve twice (no button, and the server refuses), a second person
 * can, and the write reaches the simulator.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserSkipReason, launchBrowser } from "./console-browser.js";
import { people, type ServedSite, startServedSite } from "./console-site.js";

const skip = browserSkipReason();

type Person = (typeof people)[keyof typeof people];

/** Markup in the model's reason: it must arrive as text, never as an element. */
const reason = 'pressure low <img src="x" class="injected"> raise speed';

describe.skipIf(skip !== undefined)(
  `a proposal's origin and a two-person approval in Chromium${skip ? ` (${skip})` : ""}`,
  () => {
    let site: ServedSite;
    let browser: Browser;
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      // No loops: the assistant's proposal is the only one. The speed setpoint needs two different people.
      site = await startServedSite({
        loops: false,
        writePolicy: "{ range: [ 600, 1500 ], maxStep: 100, minIntervalMs: 0, approval: required, approvals: 2 }",
      });
      browser = await launchBrowser();
    }, 120_000);
    afterAll(async () => {
      for (const context of contexts) await context.close().catch(() => {});
      await browser?.close();
      await site?.stop();
    }, 60_000);

    async function signIn(person: Person): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(site.url);
      await page.getByLabel("User name").fill(person.name);
      await page.getByLabel("Password").fill(person.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => page.locator("#who-user").textContent(), { timeout: 30_000 }).toBe(person.name);
      return page;
    }

    /** A request to serve with a person's API token, as the CLI or an MCP client sends it. */
    async function withToken(person: Person, path: string, body?: object) {
      const response = await fetch(`${site.url}${path}`, {
        method: body ? "POST" : "GET",
        headers: {
          authorization: `Bearer ${site.tokens[person.name]}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    it("shows the assistant and the user it proposed for, then needs two different people to approve", async () => {
      const snapshot = await withToken(people.operator, "/api/snapshot");
      const current = (snapshot.body.tags as Record<string, { value: number }>).speedSetpoint?.value ?? Number.NaN;
      expect(Number.isFinite(current)).toBe(true);
      const value = Math.round(current) + 50;
      const proposed = await withToken(people.assistant, "/api/proposals", {
        tag: "speedSetpoint",
        value,
        reason,
        source: "mcp:claude-desktop",
      });
      expect(proposed.status, JSON.stringify(proposed.body)).toBe(200);
      const id = (proposed.body.proposal as { id: string }).id;

      const first = await signIn(people.operator);
      await first.goto(`${site.url}/#/proposals`);
      const card = first.locator(`article.proposal[data-id="${id}"]`);
      await card.waitFor({ timeout: 30_000 });
      expect(await card.locator(".origin-source").textContent()).toBe("mcp:claude-desktop");
      expect(await card.locator(".origin-user").textContent()).toBe(people.assistant.name);
      const from = card.locator("dt", { hasText: /^From$/ }).locator("xpath=following-sibling::dd[1]");
      expect(await from.textContent()).toBe(`assistant mcp:claude-desktop for user ${people.assistant.name}`);
      expect(await card.locator(".untrusted").textContent()).toBe(reason);
      expect(await card.locator("img, .injected").count()).toBe(0);

      await card.getByRole("button", { name: /^Approve/ }).click();
      // Redrawn with the first approval: the name shown, and no second approval from the same person.
      await expect
        .poll(() => card.locator(".approved-by").textContent(), { timeout: 30_000 })
        .toBe(` — first approved by ${people.operator.name}`);
      // One card for the proposal: the redrawn card replaces the old one rather than joining it.
      expect(await first.locator("article.proposal").count()).toBe(1);
      const again = card.locator("button.approve");
      expect(await again.isDisabled()).toBe(true);
      expect(await again.textContent()).toMatch(/waiting for a second person/);
      // Around the page, with everything it could send: the guard refuses the same person twice.
      const digest = (await card.getAttribute("data-digest")) ?? "";
      const twice = await first.evaluate(
        async ({ id, digest }) => {
          const session = (await (await fetch("/api/session")).json()) as { csrf: string };
          const response = await fetch(`/api/proposals/${id}/approve`, {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf },
            body: JSON.stringify({ digest }),
          });
          return { status: response.status, body: (await response.json()) as { code?: string } };
        },
        { id, digest },
      );
      expect(twice.status).toBe(409);
      expect(twice.body.code).toBe("same-person");
      expect(site.simulator.model.values.speedSetpoint).toBeCloseTo(current, 0);

      const second = await signIn(people.second);
      await second.goto(`${site.url}/#/proposals`);
      const seen = second.locator(`article.proposal[data-id="${id}"]`);
      await seen.waitFor({ timeout: 30_000 });
      expect(await seen.locator(".approved-by").textContent()).toBe(` — first approved by ${people.operator.name}`);
      await seen.getByRole("button", { name: /^Approve/ }).click();
      const decided = second.locator(`table.recent tr[data-id="${id}"]`);
      await expect.poll(() => decided.getAttribute("data-state"), { timeout: 30_000 }).toBe("executed");
      await expect.poll(() => site.simulator.model.values.speedSetpoint, { timeout: 10_000 }).toBeCloseTo(value, 0);
    }, 120_000);
  },
);
