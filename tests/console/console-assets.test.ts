/**
 * The console's files over real HTTP: gzip, ETag revalidation, content types, the security headers, and nothing
 * outside the console folder.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleFolder, serveConsoleAsset } from "../../src/serve/console-assets.js";

let server: Server;
let port: number;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: "127.0.0.1", port, path, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (!(await serveConsoleAsset(req, res, url))) {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not a console file");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("serveConsoleAsset", () => {
  it("serves the page at / with a strict policy against inline script, framing and sniffing", async () => {
    const answer = await get("/");
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(answer.body.toString("utf8")).toBe(readFileSync(`${consoleFolder()}index.html`, "utf8"));
    const policy = String(answer.headers["content-security-policy"]);
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain("unsafe-inline");
    expect(policy).not.toContain("unsafe-eval");
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    expect(answer.headers["cache-control"]).toBe("no-cache");
  });

  it("gzips for a browser that asks, and the body unpacks to the file", async () => {
    const plain = await get("/app.js");
    const packed = await get("/app.js", { "Accept-Encoding": "gzip, deflate, br" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(packed.headers["content-encoding"]).toBe("gzip");
    expect(packed.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(packed.headers.vary).toBe("Accept-Encoding");
    expect(gunzipSync(packed.body).equals(plain.body)).toBe(true);
    expect(packed.body.length).toBeLessThan(plain.body.length);
    expect(packed.headers.etag).not.toBe(plain.headers.etag);
    const refused = await get("/app.js", { "Accept-Encoding": "gzip;q=0" });
    expect(refused.headers["content-encoding"]).toBeUndefined();
  });

  it("answers 304 to a matching ETag, and the whole file to a stale one", async () => {
    const first = await get("/style.css", { "Accept-Encoding": "gzip" });
    expect(first.headers["content-type"]).toBe("text/css; charset=utf-8");
    const again = await get("/style.css", { "Accept-Encoding": "gzip", "If-None-Match": String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const stale = await get("/style.css", { "Accept-Encoding": "gzip", "If-None-Match": '"not-this-one"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBeGreaterThan(0);
  });

  it("answers HEAD with the headers only", async () => {
    const head = await get("/index.html", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(Number(head.headers["content-length"])).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
  });

  it("ships no script that parses text as markup, and no inline script, style or handler the policy would block", () => {
    const folder = consoleFolder();
    const files = readdirSync(folder);
    const scripts = files.filter((file) => file.endsWith(".js"));
    expect(scripts).toContain("app.js");
    for (const file of scripts) {
      const text = readFileSync(`${folder}${file}`, "utf8");
      // Plant text and the model's words reach the page: only textContent may carry them.
      expect(text, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
      expect(text, file).not.toMatch(/setAttribute\(\s*["']style["']|\.style\s*=/);
    }
    const page = readFileSync(`${folder}index.html`, "utf8");
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(page).not.toMatch(/https?:\/\//);
  });

  it("leaves everything else to the caller: the API, other methods, paths out of the folder, unknown files", async () => {
    for (const path of [
      "/api/site",
      "/../package.json",
      "/%2e%2e/package.json",
      "/.env",
      "/console/app.js",
      "/missing.js",
      "/app.ts",
    ]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.toString("utf8"), path).toBe("not a console file");
    }
    const post = await get("/app.js", {}, "POST");
    expect(post.status).toBe(404);
  });
});
