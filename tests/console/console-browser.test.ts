/**
 * The operator console in a real browser (Debian's Chromium, driven by playwright-core) against the real
 * `plantwire serve` on the plant simulator (T22): log in, see a fault move a value, approve a proposal and see the
 * write, the read-back and the audit record with the person's name; a viewer cannot decide; a request without the
 * CSRF token is refused; wrong passwords are slowed down; logout ends the session.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AxeViolation, axeViolations, browserSkipReason, launchBrowser } from "./console-browser.js";
import { people, type ServedSite, startServedSite } from "./console-site.js";

const skip = browserSkipReason();

type Person = (typeof people)[keyof typeof people];

const describeViolation = (violation: AxeViolation) =>
  `${violation.impact} ${violation.id} (${violation.help}) at ${violation.targets.slice(0, 3).join(", ")}`;

describe.skipIf(skip !== undefined)(
  `the console in Chromium against plantwire serve${skip ? ` (${skip})` : ""}`,
  () => {
    let site: ServedSite;
    let browser: Browser;
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      site = await startServedSite();
      browser = await launchBrowser();
    }, 120_000);
    afterAll(async () => {
      for (const context of contexts) await context.close().catch(() => {});
      await browser?.close();
      await site?.stop();
    }, 60_000);

    /** Every request a page made anywhere but the served site: the console must work with no internet. */
    const elsewhere: string[] = [];

    async function newContext(viewport = { width: 1366, height: 768 }): Promise<BrowserContext> {
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      await context.route(/.*/, (route) => {
        const url = route.request().url();
        if (url.startsWith(`${site.url}/`)) return route.continue();
        elsewhere.push(url);
        return route.abort();
      });
      return context;
    }

    async function signIn(person: Person, viewport = { width: 1366, height: 768 }): Promise<Page> {
      const context = await newContext(viewport);
      const page = await context.newPage();
      await page.goto(site.url);
      await page.getByLabel("User name").fill(person.name);
      await page.getByLabel("Password").fill(person.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => page.locator("#who-user").textContent(), { timeout: 30_000 }).toBe(person.name);
      return page;
    }

    /** The value shown for a tag on the Plant page, as a number. */
    async function shownNumber(page: Page, tag: string): Promise<number> {
      return Number.parseFloat((await page.locator(`tr[data-tag="${tag}"] .value`).textContent()) ?? "");
    }

    /** A pending proposal, waited for (the site's loop proposes when vibration moves). */
    async function pendingProposal(page: Page) {
      await page.goto(`${site.url}/#/proposals`);
      const card = page.locator("article.proposal").first();
      await card.waitFor({ timeout: 60_000 });
      return card;
    }

    it("an operator sees a fault move a value, approves a proposal, and sees the write, the read-back and the audit record with their name", async () => {
      const page = await signIn(people.operator);
      await expect.poll(() => page.locator("#who-role").textContent(), { timeout: 10_000 }).toBe("operator");
      await page.locator('tr[data-tag="vibration"] .value').waitFor();
      const before = await shownNumber(page, "vibration");
      expect(before).toBeLessThan(5);
      // Cavitation adds about 6 mm/s of vibration: the page must show it without a reload.
      await site.simulator.setFault("cavitation", true);
      await expect.poll(() => shownNumber(page, "vibration"), { timeout: 30_000 }).toBeGreaterThan(before + 3);

      const card = await pendingProposal(page);
      const id = await card.getAttribute("data-id");
      const proposed = Number.parseFloat((await card.locator(".proposed-value").textContent()) ?? "");
      expect(Number.isFinite(proposed)).toBe(true);
      await card.getByLabel("Your reason").fill("vibration high, slowing down");
      await card.getByRole("button", { name: /^Approve/ }).click();

      const decided = page.locator(`table.recent tr[data-id="${id}"]`);
      await expect.poll(() => decided.getAttribute("data-state"), { timeout: 30_000 }).toBe("executed");
      expect(await decided.locator('td[data-label="Decided by"]').textContent()).toBe(people.operator.name);
      expect(await decided.locator('td[data-label="Read-back"]').textContent()).toMatch(/^verified/);
      // The write reached the device: the simulator's drive takes the approved setpoint (on its next process step).
      await expect.poll(() => site.simulator.model.values.speedSetpoint, { timeout: 10_000 }).toBeCloseTo(proposed, 0);

      await page.goto(`${site.url}/#/audit`);
      await page.getByLabel("Person").fill(people.operator.name);
      await page.getByLabel("Type").selectOption("decision");
      await page.getByRole("button", { name: "Show records" }).click();
      // The filtered answer replaces the page's first, unfiltered one: wait for the decision record itself.
      const record = page.locator('table.audit tbody tr[data-type="decision"]', { hasText: id ?? "" }).first();
      await record.waitFor();
      expect(await record.locator(".person").textContent()).toBe(people.operator.name);
      await expect.poll(() => page.locator('table.audit tbody tr:not([data-type="decision"])').count()).toBe(0);
      expect(await page.locator("#audit-chain").textContent()).toMatch(/^Chain verified/);
      await site.simulator.setFault("cavitation", false);
    }, 120_000);

    it("shows a viewer no decide button, and the server refuses the viewer's own POST with 403", async () => {
      await site.simulator.setFault("cavitation", true);
      const page = await signIn(people.viewer);
      const card = await pendingProposal(page);
      expect(await card.locator("button").count()).toBe(0);
      const id = (await card.getAttribute("data-id")) ?? "";
      const digest = (await card.getAttribute("data-digest")) ?? "";
      // With everything a page could send: the session cookie, the CSRF token and the digest shown.
      const status = await page.evaluate(
        async ({ id, digest }) => {
          const session = (await (await fetch("/api/session")).json()) as { csrf: string };
          const response = await fetch(`/api/proposals/${id}/approve`, {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf },
            body: JSON.stringify({ digest }),
          });
          return response.status;
        },
        { id, digest },
      );
      expect(status).toBe(403);
      const still = await page.evaluate(
        async () => ((await (await fetch("/api/proposals")).json()) as { pending: { id: string }[] }).pending,
      );
      expect(still.map((proposal) => proposal.id)).toContain(id);
      await site.simulator.setFault("cavitation", false);
    }, 120_000);

    it("refuses a state-changing POST that lacks the CSRF token, even from a logged-in engineer", async () => {
      const page = await signIn(people.engineer);
      const loop = await page.evaluate(
        async () => ((await (await fetch("/api/loops")).json()) as { name: string }[])[0]?.name ?? "",
      );
      expect(loop).toBeTruthy();
      const answers = await page.evaluate(async (loop) => {
        const pause = await fetch(`/api/loops/${loop}/pause`, { method: "POST" });
        const logout = await fetch("/api/logout", { method: "POST" });
        const session = await fetch("/api/session");
        const loops = (await (await fetch("/api/loops")).json()) as { name: string; state: string }[];
        return { pause: pause.status, logout: logout.status, session: session.status, loops };
      }, loop);
      expect(answers.pause).toBe(403);
      expect(answers.logout).toBe(403);
      expect(answers.session).toBe(200);
      expect(answers.loops.find((entry) => entry.name === loop)?.state).toBe("running");
    }, 60_000);

    it("has no serious or critical accessibility problem on any page, on a panel PC and on a phone (axe-core)", async () => {
      const found: string[] = [];
      const serious = (violation: AxeViolation) => violation.impact === "serious" || violation.impact === "critical";
      // A proposal waiting, so that the Proposals page is checked with a card and its decision form on it.
      await site.simulator.setFault("cavitation", true);
      for (const viewport of [
        { width: 1366, height: 768 },
        { width: 390, height: 844 },
      ]) {
        const context = await newContext(viewport);
        const login = await context.newPage();
        await login.goto(site.url);
        await login.getByLabel("User name").waitFor();
        for (const violation of (await axeViolations(login)).filter(serious)) {
          found.push(`login ${viewport.width}px: ${describeViolation(violation)}`);
        }
        const page = await signIn(people.engineer, viewport);
        for (const name of ["plant", "proposals", "loops", "audit", "adapters"]) {
          await page.goto(`${site.url}/#/${name}`);
          await page.locator("#page h1").waitFor();
          await expect
            .poll(() => page.locator("#page h1").textContent(), { timeout: 10_000 })
            .toBe(name[0]?.toUpperCase() + name.slice(1));
          if (name === "proposals") await page.locator("article.proposal button.approve").waitFor({ timeout: 60_000 });
          for (const violation of (await axeViolations(page)).filter(serious)) {
            found.push(`${name} ${viewport.width}px: ${describeViolation(violation)}`);
          }
        }
      }
      await site.simulator.setFault("cavitation", false);
      expect(found).toEqual([]);
      // Every page of every test so far, at both sizes: nothing fetched from anywhere but the served site.
      expect(elsewhere).toEqual([]);
    }, 180_000);

    it("ends the session on the server when the person logs out", async () => {
      const page = await signIn(people.operator);
      const cookies = await page.context().cookies();
      const session = cookies.find((cookie) => cookie.name === "pw_session");
      expect(session?.httpOnly).toBe(true);
      expect(session?.sameSite).toBe("Strict");
      await page.getByRole("button", { name: "Log out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      expect(await page.evaluate(async () => (await fetch("/api/session")).status)).toBe(401);
      // The old cookie, replayed from outside the browser, opens nothing either.
      const replayed = await fetch(`${site.url}/api/snapshot`, { headers: { cookie: `pw_session=${session?.value}` } });
      expect(replayed.status).toBe(401);

      // Back in by keyboard alone: the form takes the focus, Tab moves on, Enter signs in; focus is visible.
      expect(await page.evaluate("document.activeElement.id")).toBe("login-user");
      await page.keyboard.type(people.operator.name);
      await page.keyboard.press("Tab");
      await page.keyboard.type(people.operator.password);
      await page.keyboard.press("Enter");
      await expect.poll(() => page.locator("#who-user").textContent(), { timeout: 30_000 }).toBe(people.operator.name);
      // Signed in, the focus goes to the page's content, and Tab reaches its first control with a visible ring.
      await expect.poll(() => page.evaluate("document.activeElement.id"), { timeout: 10_000 }).toBe("main");
      await page.keyboard.press("Tab");
      expect(await page.locator(":focus-visible").count()).toBe(1);
      expect(await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")).not.toBe("none");
    }, 60_000);

    it("slows down logins after five wrong passwords", async () => {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(site.url);
      const statuses: number[] = [];
      page.on("response", (response) => {
        if (response.url().endsWith("/api/login")) statuses.push(response.status());
      });
      for (let attempt = 1; attempt <= 6; attempt++) {
        await page.getByLabel("User name").fill(people.throttled.name);
        await page.getByLabel("Password").fill(`wrong-password-${attempt}`);
        await page.getByRole("button", { name: "Sign in" }).click();
        await expect.poll(() => statuses.length, { timeout: 10_000 }).toBe(attempt);
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses[5]).toBe(429);
      expect(await page.locator("#login-error").textContent()).toMatch(/Too many failed attempts/);
      // Slowed down means the right password does not get in either, for now.
      await page.getByLabel("Password").fill(people.throttled.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => statuses.length, { timeout: 10_000 }).toBe(7);
      expect(statuses[6]).toBe(429);
      expect(await page.locator("#who").isHidden()).toBe(true);
    }, 60_000);
  },
);
