/**
 * A real node:http server on 127.0.0.1 (port 0) that mounts createServeAuth() the way `plantwire serve` does, for the
 * auth HTTP tests. Each test starts its own server, users file and clock, so one test's wrong passwords never slow
 * another down; the servers close after each test and the folder after the file.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach } from "vitest";
import type { AuthAuditEvent, Permission, ServeAuth, ServeAuthOptions } from "../../src/serve/auth/serve-auth.js";
import { createServeAuth } from "../../src/serve/auth/serve-auth.js";
import { addUser } from "../../src/serve/auth/users-changes.js";
import { emptyUsersFile, writeUsersFile } from "../../src/serve/auth/users-file.js";

const cheap = { N: 1024, r: 8, p: 1 };
/** The passwords of ada (operator), vic (viewer) and eng (engineer). */
export const passwords = { ada: "amber river lantern", vic: "copper field window", eng: "silent harbor maple" };
const root = mkdtempSync(join(tmpdir(), "plantwire-auth-http-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A started server and what a test reads from it. */
export interface Harness {
  base: string;
  file: string;
  auth: ServeAuth;
  events: AuthAuditEvent[];
  advance(ms: number): void;
}
const open: { server: Server; auth: ServeAuth }[] = [];
afterEach(async () => {
  for (const { server, auth } of open.splice(0)) {
    auth.close();
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  }
});

/** A users file (ada operator, vic viewer, eng engineer) and a server mounting the auth like `serve` does. */
export async function start(options: Partial<ServeAuthOptions> = {}): Promise<Harness> {
  const file = join(mkdtempSync(join(root, "site-")), "users.json");
  let content = emptyUsersFile;
  content = await addUser(content, { name: "ada", role: "operator", password: passwords.ada, scrypt: cheap });
  content = await addUser(content, { name: "vic", role: "viewer", password: passwords.vic, scrypt: cheap });
  content = await addUser(content, { name: "eng", role: "engineer", password: passwords.eng, scrypt: cheap });
  writeUsersFile(file, content);
  let offset = 0;
  const events: AuthAuditEvent[] = [];
  const auth = createServeAuth({
    usersFile: file,
    secure: false,
    idleTimeoutMs: 60_000,
    now: () => Date.now() + offset,
    audit: (event) => void events.push(event),
    ...options,
  });
  const needs: Record<string, Permission> = {
    "/api/snapshot": "read",
    "/api/proposals/p1/approve": "decide",
    "/api/site/reload": "engineer",
    "/api/proposals/new": "propose",
  };
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (await auth.handle(request, response, url)) return;
    const needed = needs[url.pathname];
    if (!needed) return void response.writeHead(404).end();
    const person = auth.authorize(request, response, needed);
    if (!person) return;
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(person));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  open.push({ server, auth });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, file, auth, events, advance };
  function advance(ms: number): void {
    offset += ms;
  }
}

/** The answer to a login. */
export interface Login {
  status: number;
  cookie: string;
  setCookie: string;
  csrf: string;
  body: Record<string, unknown>;
  headers: Headers;
}

/** Posts a login as the console page does. */
export async function login(h: Harness, user: string, password: string): Promise<Login> {
  const response = await fetch(`${h.base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user, password }),
  });
  const setCookie = response.headers.get("set-cookie") ?? "";
  const body = (await response.json()) as Record<string, unknown>;
  return {
    status: response.status,
    setCookie,
    cookie: setCookie.split(";")[0] ?? "",
    csrf: String(body.csrf ?? ""),
    body,
    headers: response.headers,
  };
}

/** A request with a cookie, CSRF header or bearer token. */
export function call(
  h: Harness,
  path: string,
  init: { method?: string; cookie?: string; csrf?: string; token?: string },
) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (init.cookie) headers.cookie = init.cookie;
  if (init.csrf !== undefined) headers["x-csrf-token"] = init.csrf;
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  return fetch(`${h.base}${path}`, {
    method: init.method ?? "GET",
    headers,
    ...(init.method === "POST" ? { body: "{}" } : {}),
  });
}

/** The answer to a raw request. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  setCookie: string;
}

/** A raw HTTP request from a chosen loopback address (127.0.0.0/8 is all local), so tests can be many clients. */
export function send(
  h: Harness,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; from?: string; chunked?: boolean },
): Promise<Answer> {
  const url = new URL(path, h.base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.chunked) headers["transfer-encoding"] = "chunked";
    const req = httpRequest(
      url,
      { method: init.method ?? "POST", headers, localAddress: init.from ?? "127.0.0.1", agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => {
          let body: Record<string, unknown> = {};
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, body, setCookie: String(res.headers["set-cookie"] ?? "") });
        });
      },
    );
    req.on("error", reject);
    if (init.body !== undefined) req.end(init.body);
    else req.end();
  });
}

/** JSON request headers. */
export const json = { "content-type": "application/json" };
/** A login attempt from a chosen loopback address. */
export const attempt = (h: Harness, user: string, password: string, from: string) =>
  send(h, "/api/login", { headers: json, body: JSON.stringify({ user, password }), from });
