/** Small HTTP pieces the auth routes share: JSON answers, bounded JSON bodies, cookies, client addresses, bearers. */
import type { IncomingMessage, ServerResponse } from "node:http";

/** The session cookie's name. */
export const sessionCookie = "pw_session";

/** Writes a JSON answer that no cache keeps (auth answers carry CSRF tokens). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  response.end(text);
}

/** An answered error: `{error, code, fix?}`. */
export function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  error: string,
  fix?: string,
  headers?: Record<string, string>,
): void {
  sendJson(response, status, { error, code, ...(fix ? { fix } : {}) }, headers);
}

/** Why a body could not be read, as the status and message to answer with. */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON request body of at most `limit` bytes; throws BodyError (415, 413, 400) otherwise. */
export async function readJsonBody(request: IncomingMessage, limit = 8 * 1024): Promise<unknown> {
  const type = request.headers["content-type"] ?? "";
  // Only JSON: a cross-site HTML form cannot send it without a CORS preflight, so login cannot be forged either.
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    request.resume();
    throw new BodyError(415, "send the body as JSON with Content-Type: application/json");
  }
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > limit) {
    request.resume();
    throw new BodyError(413, `the body is larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyError(413, `the body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BodyError(400, "the body is not valid JSON");
  }
}

/** The value of cookie `name` in a request, or undefined. */
export function cookieOf(request: IncomingMessage, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** A Set-Cookie value for the session cookie; an empty id with maxAge 0 clears it. */
export function sessionCookieHeader(id: string, secure: boolean, clear = false): string {
  const parts = [`${sessionCookie}=${id}`, "HttpOnly", "SameSite=Strict", "Path=/"];
  if (secure) parts.push("Secure");
  if (clear) parts.push("Max-Age=0");
  return parts.join("; ");
}

/** The client's address, with IPv4-mapped IPv6 written as plain IPv4. */
export function clientAddress(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** The token of an `Authorization: Bearer …` header; "" when the header is there but is not a bearer token. */
export function bearerOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? "";
}

/** Methods that change nothing, and so need no CSRF token. */
export function isSafeMethod(method: string | undefined): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}
