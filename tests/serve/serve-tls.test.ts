/**
 * `serve.tls`: with a certificate and key the console and API are served over https only, and the session cookie is
 * Secure. The certificate is made for the test with openssl (skipped, saying so, on a machine without it).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServe, startServe } from "../../src/serve/serve-process.js";
import { password, type ServeSite, serveSite } from "./serve-fixture.js";

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

let site: ServeSite;
let serve: RunningServe;
let certificate: string;

beforeAll(async () => {
  if (!hasOpenssl) return;
  site = await serveSite({ loops: false });
  const cert = join(site.folder, "console.crt");
  const key = join(site.folder, "console.key");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  certificate = (await import("node:fs")).readFileSync(cert, "utf8");
  writeFileSync(
    site.siteFile,
    site.siteText.replace("serve:\n", "serve:\n  tls: { cert: ./console.crt, key: ./console.key }\n"),
  );
  serve = await startServe({ siteFile: site.siteFile, logger: { debug() {}, info() {}, warn() {}, error() {} } });
});

afterAll(async () => {
  await serve?.close();
  await site?.cleanup();
});

function post(url: string, body: unknown): Promise<{ status: number; cookie: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: "POST", ca: certificate, headers: { "content-type": "application/json" } },
      (incoming) => {
        incoming.resume();
        resolve({ status: incoming.statusCode ?? 0, cookie: String(incoming.headers["set-cookie"]?.[0] ?? "") });
      },
    );
    outgoing.on("error", reject);
    outgoing.end(JSON.stringify(body));
  });
}

describe.skipIf(!hasOpenssl)("plantwire serve over TLS (needs openssl to make a test certificate)", () => {
  it("serves https with the site's certificate and sets a Secure session cookie", async () => {
    expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const login = await post(`${serve.url}/api/login`, { user: "alice", password });
    expect(login.status).toBe(200);
    expect(login.cookie).toMatch(/^pw_session=[^;]+;.*HttpOnly/);
    expect(login.cookie).toContain("Secure");
    expect(login.cookie).toContain("SameSite=Strict");
    // Plain http to the same port is not answered as http.
    await expect(fetch(serve.url.replace("https:", "http:") + "/healthz")).rejects.toThrow();
  });
});
