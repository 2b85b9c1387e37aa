/**
 * `plantwire serve` as a process of its own, as systemd runs it: it prints its address, SIGHUP with an invalid site
 * file keeps it running and names every problem, SIGHUP with a valid one applies it, and SIGTERM stops it cleanly
 * (exit 0, discovery file gone, audit closed and verifiable, the device free for the next guard).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { verifyAuditLog } from "plantwire";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoveryFile } from "../../src/serve/serve-discovery.js";
import { startServe } from "../../src/serve/serve-process.js";
import { auditRecords, ServeClient, type ServeSite, serveSite } from "./serve-fixture.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));

let site: ServeSite;
let child: ChildProcess | undefined;

beforeAll(async () => {
  site = await serveSite({ loops: false });
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await site?.cleanup();
});

describe("plantwire serve in a process of its own", () => {
  it("reloads on SIGHUP, refuses an invalid file while running on, and stops cleanly on SIGTERM", async () => {
    const running = spawn(process.execPath, ["--import", "tsx", bin, "serve", "--site", site.siteFile], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PLANTWIRE_LOG: "warn" },
    });
    child = running;
    let stdout = "";
    let stderr = "";
    running.stdout?.on("data", (chunk) => {
      stdout += String(chunk);
    });
    running.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => running.on("exit", (code) => resolve(code)));
    expect(await waitFor(() => /listening on (http:\/\/\S+)/.test(stdout), 25_000), stderr).toBe(true);
    const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1] as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await new ServeClient(url).get("/healthz")).body).toMatchObject({ ok: true });
    expect(existsSync(discoveryFile(site.approvals))).toBe(true);

    writeFileSync(site.siteFile, site.siteText.replace("mode: approval", "mode: never").replace("unit: 1", "unit: x"));
    running.kill("SIGHUP");
    expect(await waitFor(() => stderr.includes("reload refused"), 15_000), stderr).toBe(true);
    expect(stderr).toContain("guard.mode");
    expect(stderr).toContain("Fix:");
    expect((await new ServeClient(url).get("/healthz")).body).toMatchObject({ ok: true, site: "pump-station-7" });

    writeFileSync(site.siteFile, site.siteText.replace("site: pump-station-7", "site: station-renamed"));
    running.kill("SIGHUP");
    expect(await waitFor(() => stdout.includes("site reloaded"), 15_000), stderr).toBe(true);
    expect((await new ServeClient(url).get("/healthz")).body).toMatchObject({ ok: true, site: "station-renamed" });

    running.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout).toContain("SIGTERM: stopping");
    expect(stdout).toContain("plantwire serve: stopped");
    expect(existsSync(discoveryFile(site.approvals))).toBe(false);
    expect(verifyAuditLog(site.audit).ok).toBe(true);
    const notes = auditRecords(site.audit).map((record) => record.note);
    expect(notes).toEqual(expect.arrayContaining(["site-reload-refused", "site-reloaded"]));
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    // The audit and the device are free again: the next serve of the site starts.
    const next = await startServe({
      siteFile: site.siteFile,
      listen: "127.0.0.1:0",
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    expect((await new ServeClient(next.url).get("/healthz")).body.ok).toBe(true);
    await next.close();
  });

  it("exits 3 naming every problem when the site cannot be served", async () => {
    writeFileSync(
      site.siteFile,
      site.siteText.replace('listen: "127.0.0.1:0"', "listen: nowhere").replace("mode: approval", "mode: x"),
    );
    const failed = spawn(process.execPath, ["--import", "tsx", bin, "serve", "--site", site.siteFile], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    failed.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => failed.on("exit", (exit) => resolve(exit)));
    expect(code).toBe(3);
    expect(stderr).toContain("serve.listen");
    expect(stderr).toContain("guard.mode");
    writeFileSync(site.siteFile, site.siteText);
  });
});
