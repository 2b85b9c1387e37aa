/**
 * A stand-in for `plantwire serve` speaking the console's API contract from memory, for working on the pages before
 * the real process exists. Run: npx tsx tests/console/console-fixture.ts
 */
import { randomUUID } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { ProposalView } from "../../src/serve/api-types.js";
import { serveConsoleAsset } from "../../src/serve/console-assets.js";

const sessions = new Map<string, { user: string; role: string; csrf: string }>();
const clients = new Set<ServerResponse>();
const tags = [
  { name: "pressure", type: "float", unit: "bar", description: "outlet pressure", writable: false },
  {
    name: "speedSetpoint",
    type: "float",
    unit: "rpm",
    writable: true,
    writeRange: { min: 600, max: 1500 },
    maxStep: 100,
  },
  { name: "alarmText", type: "string", writable: false },
];
const values: Record<string, number | string> = { pressure: 3.9, speedSetpoint: 1200, alarmText: "" };
const proposals: ProposalView[] = [
  {
    id: "p1",
    tag: "speedSetpoint",
    unit: "rpm",
    value: 1240,
    current: 1200,
    step: 40,
    writeRange: { min: 600, max: 1500 },
    reason: "<img src=x onerror=alert(1)> pressure low",
    origin: { loop: "advisor", modelId: "speed rule" },
    verdicts: [{ check: "range", passed: true, detail: "1240 in 600..1500" }],
    createdAt: Date.now(),
    expiresAt: Date.now() + 300_000,
    digest: "abc",
    approvalsRequired: 1,
    approvals: [],
    state: "pending",
  },
];
const recent: ProposalView[] = [];

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(body === undefined ? undefined : JSON.stringify(body));
};
const sample = (name: string) => ({ value: values[name], quality: "good", time: Date.now(), ageMs: 0, stale: false });
const send = (event: string, data: unknown) => {
  for (const client of clients) client.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (await serveConsoleAsset(req, res, url)) return;
  const cookie = /pw_session=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
  const session = cookie ? sessions.get(cookie) : undefined;
  let body = "";
  for await (const chunk of req) body += chunk;
  const input = body ? JSON.parse(body) : {};
  if (url.pathname === "/api/login") {
    const id = randomUUID();
    const role = input.user === "viewer" ? "viewer" : "engineer";
    const made = { user: input.user, role, csrf: randomUUID() };
    sessions.set(id, made);
    res.setHeader("Set-Cookie", `pw_session=${id}; HttpOnly; SameSite=Strict; Path=/`);
    return json(res, 200, { ...made, idleTimeoutMs: 900_000 });
  }
  if (!session) return json(res, 401, { error: "not signed in" });
  if (req.method === "POST" && req.headers["x-csrf-token"] !== session.csrf) return json(res, 403, { error: "csrf" });
  if (url.pathname === "/api/session") return json(res, 200, { ...session, idleTimeoutMs: 900_000 });
  if (url.pathname === "/api/logout") return json(res, 204, undefined);
  if (url.pathname === "/api/site")
    return json(res, 200, { name: "fixture", tags, loops: ["advisor"], adapters: ["drive"] });
  if (url.pathname === "/api/snapshot")
    return json(res, 200, {
      time: Date.now(),
      tags: Object.fromEntries(tags.map((tag) => [tag.name, sample(tag.name)])),
    });
  if (url.pathname === "/api/history") {
    const points = Array.from({ length: 30 }, (_, index) => ({
      t: Date.now() - (30 - index) * 1000,
      v: 3.5 + Math.sin(index / 3),
      q: "good",
    }));
    return json(res, 200, { tag: url.searchParams.get("tag"), points });
  }
  if (url.pathname === "/api/proposals") return json(res, 200, { pending: proposals, recent });
  if (url.pathname === "/api/loops")
    return json(res, 200, [
      { name: "advisor", state: "running", trigger: "onChange(pressure)", modelCalls: 3, tokens: 900 },
    ]);
  if (url.pathname === "/api/adapters")
    return json(res, 200, [{ name: "drive", kind: "modbus", state: "connected", reconnections: 0 }]);
  if (url.pathname === "/api/audit")
    return json(res, 200, {
      records: [{ seq: 1, time: Date.now(), type: "note", detail: "start" }],
      chain: { ok: true, records: 1 },
    });
  const decide = /^\/api\/proposals\/([^/]+)\/(approve|reject)$/.exec(url.pathname);
  if (decide && req.method === "POST") {
    if (session.role === "viewer") return json(res, 403, { error: "viewer" });
    const proposal = proposals.find((entry) => entry.id === decide[1]);
    if (!proposal) return json(res, 404, { error: "no such proposal" });
    proposals.splice(proposals.indexOf(proposal), 1);
    const done = { ...proposal, state: decide[2] === "approve" ? "executed" : "declined", decidedBy: session.user };
    recent.unshift(done);
    send("proposal", done);
    return json(res, 200, done);
  }
  if (url.pathname === "/api/events") {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
    res.write(": hello\n\n");
    clients.add(res);
    req.on("close", () => clients.delete(res));
    return;
  }
  json(res, 404, { error: "not found" });
});

setInterval(() => {
  values.pressure = Number((3.5 + Math.random()).toFixed(2));
  send("sample", { tag: "pressure", ...sample("pressure") });
}, 500).unref();

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  console.log(`fixture on http://127.0.0.1:${typeof address === "object" && address ? address.port : "?"}`);
});
