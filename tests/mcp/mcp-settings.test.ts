/**
 * The site file's `mcp:` section (every wrong name in the exposure lists named, with its place and fix; read-only by
 * default), the per-client call limit, and a client's self-given name made safe for a proposal's source.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "plantwire";
import { afterAll, describe, expect, it } from "vitest";
import { createRateLimiter, sourceOf } from "../../src/mcp/mcp-limits.js";
import { loadSite } from "../../src/site/site-config.js";

const tagMap = fileURLToPath(new URL("../../tag-maps/pump-station/modbus.yaml", import.meta.url));
const folder = mkdtempSync(join(tmpdir(), "plantwire-mcp-settings-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function siteWith(section: string, extra = ""): Promise<Awaited<ReturnType<typeof loadSite>>> {
  const file = join(folder, `site-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `adapters:\n  drive: { kind: modbus, url: "modbus+tcp://127.0.0.1:5020", unit: 1 }\ntags: ${tagMap}\n${extra}${section}`,
  );
  return loadSite(file);
}

async function issuesOf(section: string, extra = ""): Promise<{ path: string; message: string; fix: string }[]> {
  try {
    await siteWith(section, extra);
  } catch (error) {
    if (ConfigError.isInstance(error)) return [...error.issues];
    throw error;
  }
  throw new Error("the site loaded");
}

describe("the mcp: section of a site file", () => {
  it("is read-only by default, and keeps tag-map order", async () => {
    expect((await siteWith("")).mcp).toBeUndefined();
    const site = await siteWith("mcp:\n  expose: [pressure, level, speedSetpoint]\n  propose: [speedSetpoint]\n");
    expect(site.mcp).toEqual({
      expose: ["level", "speedSetpoint", "pressure"],
      propose: ["speedSetpoint"],
      callsPerMinute: 60,
      maxWindowSeconds: 3600,
    });
    expect((await siteWith("mcp: {}\n")).mcp?.propose).toEqual([]);
  });

  it("names every unknown, hidden, read-only or unguarded tag in the lists, with its place and a fix", async () => {
    const issues = await issuesOf(
      "mcp:\n  expose: [level, levle, speedSetpoint, pressure]\n  propose: [nope, mode, pressure, speedSetpoint]\n",
      "guard: { writable: [mode] }\n",
    );
    expect(issues.map((issue) => issue.path)).toEqual([
      "mcp.expose.1",
      "mcp.propose.0",
      "mcp.propose.1",
      "mcp.propose.2",
      "mcp.propose.3",
    ]);
    expect(issues[0]?.message).toContain('"levle" is not a tag of this site');
    expect(issues[0]?.fix).toContain("speedSetpoint");
    expect(issues[2]?.message).toContain("not in mcp.expose");
    expect(issues[3]?.message).toContain("read-only");
    expect(issues[4]?.message).toContain("not in guard.writable");
  });

  it("refuses wrong limits and unknown fields with a fix for each", async () => {
    const issues = await issuesOf("mcp:\n  callsPerMinute: 0\n  maxWindowSeconds: 1.5\n  topics: [a]\n");
    const paths = issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["mcp.callsPerMinute", "mcp.maxWindowSeconds"]));
    expect(issues.find((issue) => issue.path === "mcp.callsPerMinute")?.fix).toContain("calls per person per minute");
    expect(issues.some((issue) => issue.message.includes("topics"))).toBe(true);
  });
});

describe("MCP limits", () => {
  it("allows calls per client per minute, then says how long to wait", () => {
    let now = 1_000_000;
    const limiter = createRateLimiter(
      () => 3,
      () => now,
    );
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0]);
    expect(limiter.take("a")).toBe(60);
    expect(limiter.take("b")).toBe(0);
    now += 30_000;
    expect(limiter.take("a")).toBe(30);
    now += 30_001;
    expect(limiter.take("a")).toBe(0);
  });

  it("keeps a client's name to plain characters in its source", () => {
    expect(sourceOf("Claude Desktop")).toBe("mcp:Claude Desktop");
    expect(sourceOf("evil\n«name»\u202e")).toBe("mcp:evilname");
    expect(sourceOf(undefined)).toBe("mcp:unnamed-client");
    expect(sourceOf("x".repeat(500))).toHaveLength(64);
  });
});
