/**
 * DNS rebinding: `plantwire serve` answers only requests whose Host header is its listen address, localhost,
 * 127.0.0.1, [::1] (with its port), an IP literal, or a name of the site's `serve.hosts`. Raw HTTP over a real socket
 * to a running serve, so that the Host header is exactly the one a rebinding page's browser would send.
 */
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { hostCheck, splitHost } from "../../src/serve/serve-hosts.js";
import { type RunningServe, startServe } from "../../src/serve/serve-process.js";
import { loadSite } from "../../src/site/site-config.js";
import { password, type ServeSite, serveSite } from "./serve-fixture.js";

let site: ServeSite;
let serve: RunningServe;
let port: number;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  site = await serveSite({ loops: false });
  const withHosts = site.siteText.replace(
    "idleTimeoutMinutes: 15",
    "idleTimeoutMinutes: 15\n  hosts: [console.plant.lan]",
  );
  if (withHosts === site.siteText) throw new Error("the example site's serve section changed: update this test");
  writeFileSync(site.siteFile, withHosts);
  serve = await startServe({ siteFile: site.siteFile, logger: quiet });
  port = Number(new URL(serve.url).port);
});

afterAll(async () => {
  await serve?.close();
  await site?.cleanup();
});

/** One raw HTTP/1.1 request on its own connection; `host` undefined sends an HTTP/1.0 request without Host. */
function raw(
  path: string,
  host: string | undefined,
  options: { method?: string; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const method = options.method ?? "GET";
  const body = options.body ?? "";
  const head = [
    `${method} ${path} HTTP/${host === undefined ? "1.0" : "1.1"}`,
    ...(host === undefined ? [] : [`Host: ${host}`]),
    "Connection: close",
    ...(body ? ["Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`] : []),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf("\r\n\r\n") + 4) });
    });
    socket.write(`${head.join("\r\n")}\r\n\r\n${body}`);
  });
}

describe("plantwire serve refuses a foreign Host (DNS rebinding)", () => {
  it("refuses /healthz, /metrics, a login and the console under a rebinding domain with 421 naming serve.hosts", async () => {
    const login = JSON.stringify({ user: "vera", password });
    for (const [path, method, body] of [
      ["/healthz", "GET", ""],
      ["/metrics", "GET", ""],
      ["/api/login", "POST", login],
      ["/", "GET", ""],
    ] as const) {
      const answer = await raw(path, `rebind.attacker.example:${port}`, { method, body });
      expect(answer.status, path).toBe(421);
      const error = JSON.parse(answer.body);
      expect(error.code).toBe("host-not-allowed");
      expect(error.error).toContain("rebind.attacker.example");
      expect(error.fix).toContain("serve.hosts");
      expect(answer.body, path).not.toContain("pump-station-7");
    }
    // The refused login set no session.
    expect(
      (await raw("/api/login", `rebind.attacker.example:${port}`, { method: "POST", body: login })).body,
    ).not.toContain("csrf");
  });

  it("refuses a known name on another port, a malformed Host and a request without Host", async () => {
    expect((await raw("/healthz", `localhost:${port === 65535 ? 1 : port + 1}`)).status).toBe(421);
    expect((await raw("/healthz", "local host")).status).toBe(421);
    expect((await raw("/healthz", "console.plant.lan:80:80")).status).toBe(421);
    expect((await raw("/healthz", undefined)).status).toBe(421);
  });

  it("answers the listen address, localhost, [::1], an IP literal and a name of serve.hosts", async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LocalHost:${port}`,
      `[::1]:${port}`,
      `10.0.0.5:${port}`,
      `console.plant.lan:${port}`,
      "console.plant.lan", // behind a reverse proxy on the default port
      `Console.Plant.LAN.:${port}`,
    ]) {
      const answer = await raw("/healthz", host);
      expect(answer.status, host).toBe(200);
      expect(JSON.parse(answer.body).site).toBe("pump-station-7");
    }
    const login = await raw("/api/login", `console.plant.lan:${port}`, {
      method: "POST",
      body: JSON.stringify({ user: "vera", password }),
    });
    expect(login.status).toBe(200);
  });
});

describe("serve.hosts in the site file and the Host check's parts", () => {
  it("refuses a host name with a port or a scheme in serve.hosts, naming the field and the fix", async () => {
    writeFileSync(
      site.siteFile,
      site.siteText.replace("idleTimeoutMinutes: 15", 'idleTimeoutMinutes: 15\n  hosts: ["https://console.lan:8470"]'),
    );
    const error = await loadSite(site.siteFile).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(ConfigError.isInstance(error)).toBe(true);
    const issue = (error as ConfigError).issues.find((found) => found.path.startsWith("serve.hosts"));
    expect(issue?.message).toContain("host name");
    expect(issue?.fix).toContain("hosts: [console.plant.lan]");
  });

  it("splits Host headers and compares names without case, brackets or a trailing dot", () => {
    expect(splitHost("[::1]:8470")).toEqual({ name: "::1", port: 8470 });
    expect(splitHost("Console.LAN.")).toEqual({ name: "console.lan" });
    expect(splitHost("a:b:c")).toBeUndefined();
    const check = hostCheck("0.0.0.0", 8470, ["scada-gw"]);
    expect(check("scada-gw:8470")).toBeUndefined();
    expect(check("scada-gw.evil.example:8470")?.status).toBe(421);
    expect(check("192.168.1.20:8470")).toBeUndefined();
    expect(hostCheck("gw.plant.lan", 8470)("gw.plant.lan:8470")).toBeUndefined();
  });
});
