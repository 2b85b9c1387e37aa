/**
 * `plantwire serve` attacked by its own clients over real sockets: an event-stream client that never reads, one
 * person opening streams by the dozen, a malformed path, and a discovery file planted by another local user to make
 * the real CLI send a person's API token to a server of theirs.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announceServe, discoveryFile } from "../../src/serve/serve-discovery.js";
import { createEventHub, maxStreamsPerOwner } from "../../src/serve/serve-events.js";
import { type RunningServe, startServe } from "../../src/serve/serve-process.js";
import { runCli } from "../support/cli-process.js";
import { auditRecords, ServeClient, type ServeSite, serveSite } from "./serve-fixture.js";

let site: ServeSite;
let serve: RunningServe;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const scratch = mkdtempSync(join(tmpdir(), "plantwire-serve-attacks-"));

beforeAll(async () => {
  site = await serveSite({ loops: false });
  serve = await startServe({ siteFile: site.siteFile, logger: quiet });
});

afterAll(async () => {
  await serve?.close();
  await site?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return (server.address() as AddressInfo).port;
};

describe("the event stream under slow and greedy clients", () => {
  it("destroys the connection of a client that stops reading, so what was buffered for it is freed", async () => {
    const hub = createEventHub(60_000);
    let held: ServerResponse | undefined;
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      held = response;
      hub.add(request, response, () => true);
    });
    const port = await listen(server);
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    socket.pause(); // reads nothing from here on
    try {
      expect(await waitFor(() => hub.size === 1)).toBe(true);
      const big = "x".repeat(64 * 1024);
      for (let sent = 0; sent < 2000 && hub.size > 0; sent++) {
        hub.send("audit", { seq: sent, type: "note", time: 0, big });
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(hub.size, "the slow client was dropped").toBe(0);
      // Ended but not destroyed, the socket would keep over a megabyte for a client that never reads again.
      expect(await waitFor(() => held?.socket?.destroyed !== false)).toBe(true);
    } finally {
      socket.destroy();
      hub.close();
      server.close();
    }
  });

  it(`answers 429 to a person's stream beyond ${maxStreamsPerOwner}, and still serves another person`, async () => {
    const controllers: AbortController[] = [];
    const open = async (token: string) => {
      const controller = new AbortController();
      controllers.push(controller);
      const response = await fetch(`${serve.url}/api/events`, {
        headers: { authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      return response.status;
    };
    try {
      const statuses: number[] = [];
      for (let index = 0; index < maxStreamsPerOwner; index++) statuses.push(await open(site.tokens.vera as string));
      expect(statuses.every((status) => status === 200)).toBe(true);
      expect(await open(site.tokens.vera as string)).toBe(429);
      expect(await open(site.tokens.alice as string)).toBe(200);
    } finally {
      for (const controller of controllers) controller.abort();
    }
  });
});

describe("paths a client makes up", () => {
  it("refuses a malformed %-escape with 400, not a server failure", async () => {
    const alice = new ServeClient(serve.url, site.tokens.alice);
    const decided = await alice.post("/api/proposals/%E0%A4%A/approve", { digest: "x" });
    expect(decided.status).toBe(400);
    expect(decided.body.code).toBe("bad-request");
    expect((await alice.get("/api/proposals/%E0%A4%A")).status).toBe(400);
    expect((await alice.post("/api/loops/%ZZ/pause")).status).toBe(400);
  });
});

describe("refused requests of known people", () => {
  it("are audited with the person, the client and why: bad bodies, no digest, no reason, an unknown loop", async () => {
    const alice = new ServeClient(serve.url, site.tokens.alice);
    const notJson = await alice.request("POST", "/api/proposals/p-1/approve", undefined, {
      "content-type": "application/json",
    });
    expect(notJson.status).toBe(400);
    expect((await alice.post("/api/proposals/p-2/approve", {})).status).toBe(400);
    expect((await alice.post("/api/proposals/p-3/reject", { digest: "d" })).status).toBe(400);
    expect((await alice.post("/api/proposals", { tag: "speedSetpoint" })).status).toBe(400);
    const erin = await ServeClient.login(serve.url, "erin");
    expect((await erin.post("/api/loops/no-such-loop/pause")).status).toBe(404);
    const refused = () =>
      auditRecords(site.audit).filter((record) => record.type === "note" && record.note === "request-refused");
    expect(await waitFor(() => refused().length >= 5)).toBe(true);
    const paths = refused().map((record) => `${record.user} ${record.status} ${record.path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        "alice 400 /api/proposals/p-1/approve",
        "alice 400 /api/proposals/p-2/approve",
        "alice 400 /api/proposals/p-3/reject",
        "alice 400 /api/proposals",
        "erin 404 /api/loops/no-such-loop/pause",
      ]),
    );
    expect(refused().every((record) => typeof record.client === "string" && record.client.length > 0)).toBe(true);
  });
});

describe("the discovery file", () => {
  /** A server that records the Authorization headers it is sent, standing in for an attacker's. */
  async function catcher() {
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(String(request.headers.authorization ?? ""));
      response.writeHead(200, { "content-type": "application/json" }).end('{"pending":[],"recent":[]}');
    });
    const port = await listen(server);
    return { seen, url: `http://127.0.0.1:${port}`, close: () => server.close() };
  }

  /** An approvals folder with a discovery file pointing at `url`, claimed by this (live) process. */
  function planted(name: string, url: string) {
    const folder = join(scratch, name);
    const approvals = join(folder, "approvals");
    mkdirSync(approvals, { recursive: true });
    announceServe(approvals, { url, pid: process.pid, site: "fake", startedAt: Date.now() });
    const tokenFile = join(folder, "alice.token");
    writeFileSync(tokenFile, `${site.tokens.alice}\n`, { mode: 0o600 });
    return { approvals, tokenFile, file: discoveryFile(approvals) };
  }

  it("is believed when the approvals folder's owner wrote it (the CLI goes to that serve)", async () => {
    const fake = await catcher();
    try {
      const { approvals, tokenFile } = planted("own", fake.url);
      await runCli("proposals", "--dir", approvals, "--token-file", tokenFile);
      expect(fake.seen).toContain(`Bearer ${site.tokens.alice}`);
    } finally {
      fake.close();
    }
  });

  it("is not believed when others can write it: the token is not sent", async () => {
    const fake = await catcher();
    try {
      const { approvals, tokenFile, file } = planted("writable", fake.url);
      chmodSync(file, 0o666);
      await runCli("proposals", "--dir", approvals, "--token-file", tokenFile);
      expect(fake.seen).toEqual([]);
    } finally {
      fake.close();
    }
  });

  // Planting a file as another user needs chown, which only root may do; as any other user there is no such user.
  it.skipIf(process.getuid?.() !== 0)(
    "is not believed when another local user planted it: the token is not sent (runs as root only)",
    async () => {
      const fake = await catcher();
      try {
        const { approvals, tokenFile, file } = planted("planted", fake.url);
        chownSync(file, 65_534, 65_534);
        await runCli("proposals", "--dir", approvals, "--token-file", tokenFile);
        expect(fake.seen).toEqual([]);
      } finally {
        fake.close();
      }
    },
  );
});

describe("a reload that moves the approvals folder", () => {
  it("moves the discovery file with it, so the CLI still finds this serve for the new folder", async () => {
    const moved = join(site.folder, ".plantwire", "approvals-moved");
    expect(existsSync(discoveryFile(site.approvals))).toBe(true);
    writeFileSync(site.siteFile, site.siteText.replace("./.plantwire/approvals", "./.plantwire/approvals-moved"));
    const erin = await ServeClient.login(serve.url, "erin");
    const reloaded = await erin.post("/api/site/reload");
    expect(reloaded.status, JSON.stringify(reloaded.body)).toBe(200);
    expect(existsSync(discoveryFile(moved))).toBe(true);
    expect(existsSync(discoveryFile(site.approvals))).toBe(false);
  });
});
