/**
 * The site file's sections for `plantwire serve` (loops, guard, serve): paths resolved beside the file, defaults when
 * a section is left out, and each mistake named by its field with a fix.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSite } from "plantwire";
import { afterAll, describe, expect, it } from "vitest";
import { siteDefaults } from "../../src/site/site-config.js";
import { configErrorOf } from "../support/test-lifecycle.js";

const folder = mkdtempSync(join(tmpdir(), "plantwire-site-serve-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const base = `adapters:
  plc: { kind: memory, values: { speed: 1200 } }
tags:
  speed: { type: float, unit: rpm, source: { adapter: plc, key: speed }, write: { range: [600, 1500] } }
`;

function site(extra: string, name = "site.yaml"): string {
  const file = join(folder, name);
  writeFileSync(file, base + extra);
  return file;
}

describe("site file: loops, guard and serve", () => {
  it("resolves paths beside the site file and fills what is left out", async () => {
    const loaded = await loadSite(
      site(`loops: ./loops.ts
guard: { audit: ./state/audit.jsonl, approvals: ./state/approvals, mode: shadow, writable: [speed] }
serve: { listen: "0.0.0.0:9000", tls: { cert: ./c.pem, key: ./k.pem }, users: ./people.json, idleTimeoutMinutes: 5 }
`),
    );
    expect(loaded.loops).toBe(join(folder, "loops.ts"));
    expect(loaded.guard).toEqual({
      audit: join(folder, "state/audit.jsonl"),
      approvals: join(folder, "state/approvals"),
      mode: "shadow",
      writable: ["speed"],
    });
    expect(loaded.serve).toEqual({
      listen: "0.0.0.0:9000",
      tls: { cert: join(folder, "c.pem"), key: join(folder, "k.pem") },
      users: join(folder, "people.json"),
      idleTimeoutMinutes: 5,
    });
    const plain = await loadSite(site("", "plain.yaml"));
    expect(plain.loops).toBeUndefined();
    expect(siteDefaults(plain)).toEqual({
      guard: { audit: join(folder, "audit.jsonl"), approvals: join(folder, ".plantwire/approvals"), mode: "approval" },
      serve: { listen: "127.0.0.1:8470", users: join(folder, "users.json"), idleTimeoutMinutes: 15 },
    });
  });

  it("names every wrong field with a fix", async () => {
    const error = await configErrorOf(
      loadSite(
        site(`loops: ""
guard: { mode: sometimes, proposalTtlMs: 5, colour: red }
serve: { listen: "localhost", tls: { cert: ./c.pem }, idleTimeoutMinutes: 0 }
`),
      ),
    );
    const byPath = Object.fromEntries(error.issues.map((issue) => [issue.path, issue]));
    expect(Object.keys(byPath)).toEqual(
      expect.arrayContaining([
        "loops",
        "guard.mode",
        "guard.proposalTtlMs",
        "guard.colour",
        "serve.listen",
        "serve.tls.key",
        "serve.idleTimeoutMinutes",
      ]),
    );
    expect(byPath.loops?.fix).toContain("loops: ./loops.ts");
    expect(byPath["guard.mode"]?.fix).toContain('"approval"');
    expect(byPath["serve.listen"]?.fix).toContain("127.0.0.1:8470");
    expect(byPath["serve.tls.key"]?.fix).toContain("key:");
    expect(byPath["serve.idleTimeoutMinutes"]?.fix).toContain("minutes");
    for (const issue of error.issues) expect(issue.fix).not.toBe("correct the value");
  });
});
