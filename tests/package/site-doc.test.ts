/**
 * docs/site.md against the site schema: every field the schema has (including the sections other features add) is
 * documented, every adapter kind has its section, and every site file shown in the page loads with `loadSite`.
 * Also the two messages a newcomer meets first: an empty or non-mapping file, and `name:` for `site:`.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { adapterKinds, ConfigError, loadSite } from "plantwire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { siteSchema } from "../../src/site/site-config.js";

const page = fileURLToPath(new URL("../../docs/site.md", import.meta.url));
let text: string;
let folder: string;

beforeAll(async () => {
  text = await readFile(page, "utf8");
  folder = await mkdtemp(join(tmpdir(), "plantwire-site-doc-"));
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      innerType?: SchemaNode;
      valueType?: SchemaNode;
      options?: SchemaNode[];
    };
  };
}

/** Every field path the schema accepts: `guard.mode`, `adapters.<name>.kind`, … (record keys as `<name>`). */
function fieldPaths(node: SchemaNode, prefix: string, into: string[]): string[] {
  const def = node._zod.def;
  if (def.type === "object" && def.shape) {
    for (const [key, child] of Object.entries(def.shape)) {
      const path = prefix ? `${prefix}.${key}` : key;
      into.push(path);
      fieldPaths(child, path, into);
    }
  } else if ((def.type === "optional" || def.type === "nullable" || def.type === "default") && def.innerType) {
    fieldPaths(def.innerType, prefix, into);
  } else if (def.type === "record" && def.valueType) {
    fieldPaths(def.valueType, `${prefix}.<name>`, into);
  } else if (def.type === "union" && def.options) {
    for (const option of def.options) fieldPaths(option, prefix, into);
  }
  return into;
}

/** The YAML blocks of the page that start with `# <file>`, by that file name. */
function yamlBlocks(name: string): string[] {
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? "")
    .filter((block) => block.startsWith(`# ${name}\n`));
}

async function siteFrom(content: string, file = "site.yaml"): Promise<string> {
  const path = join(folder, file);
  await writeFile(path, content);
  return path;
}

describe("docs/site.md", () => {
  it("documents every field of the site schema", () => {
    const paths = [...new Set(fieldPaths(siteSchema() as unknown as SchemaNode, "", []))];
    // The walk must see the sections, not stop at the top (the check would pass on an empty list).
    expect(paths).toEqual(expect.arrayContaining(["site", "adapters", "adapters.<name>.kind", "tags"]));
    const missing = paths.filter((path) => !text.includes(`\`${path}\``));
    expect(missing).toEqual([]);
  });

  it("has a section with an example for every adapter kind", () => {
    expect(adapterKinds.length).toBeGreaterThan(0);
    for (const kind of adapterKinds) {
      expect(text).toContain(`### \`kind: ${kind}\``);
      expect(yamlBlocks("site.yaml").some((block) => new RegExp(`kind: ${kind}\\b`).test(block))).toBe(true);
    }
  });

  it("shows only site files that load", async () => {
    const sites = yamlBlocks("site.yaml");
    expect(sites.length).toBeGreaterThanOrEqual(adapterKinds.length);
    for (const block of yamlBlocks("tags.yaml")) await siteFrom(block, "tags.yaml");
    for (const block of sites) {
      const site = await loadSite(await siteFrom(block)).catch((error: unknown) => {
        throw new Error(`docs/site.md shows a site that does not load:\n${block}\n${String(error)}`);
      });
      expect(Object.keys(site.tags).length).toBeGreaterThan(0);
      for (const adapter of Object.values(site.adapters)) await adapter.close();
    }
  });
});

describe("what a site file must hold", () => {
  const problem = async (content: string) => {
    const error = await loadSite(await siteFrom(content)).catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    return (error as ConfigError).issues;
  };

  it("says what a site file contains when it is empty, a list or a single value", async () => {
    for (const [content, said] of [
      ["", "is empty"],
      ["# nothing yet\n", "is empty"],
      ["- a\n- b\n", "a list, not a mapping"],
      ["pump station 7\n", "a string, not a mapping"],
    ] as const) {
      const [issue, ...rest] = await problem(content);
      expect(rest).toEqual([]);
      expect(issue?.message).toContain(said);
      expect(issue?.fix).toMatch(/adapters:.*kind:.*tags:/);
      expect(issue?.fix).not.toBe("correct the value");
    }
  });

  it("takes name: as the site's name, and refuses a name: that disagrees with site:", async () => {
    const body =
      "adapters:\n  plc: { kind: memory, values: { a: 1 } }\ntags:\n  a: { type: float, source: { adapter: plc, key: a } }\n";
    expect((await loadSite(await siteFrom(`name: station 7\n${body}`))).name).toBe("station 7");
    expect((await loadSite(await siteFrom(`site: station 7\nname: station 7\n${body}`))).name).toBe("station 7");
    const [issue] = await problem(`site: station 7\nname: station 8\n${body}`);
    expect(issue?.path).toBe("name");
    expect(issue?.fix).toContain("site:");
  });
});
