// The console's side of the JSON API: same origin, the session cookie sent by the browser, and the CSRF token in a
// header on every request that changes something (the server refuses those without it).

/** An API answer that was not 2xx: the status, the server's message, its code and fix when it gave them. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `the server answered ${status}`);
    this.status = status;
    this.code = body?.code;
    this.fix = body?.fix;
    this.body = body;
  }
}

let csrf = "";
let lastRequestAt = Date.now();
let onUnauthorized = () => {};

/** Sets the CSRF token of the session (from login or GET /api/session). */
export function setCsrf(token) {
  csrf = token ?? "";
}

/** Called when the server says the session is gone (401), so the page can show the login form. */
export function onSessionEnded(handler) {
  onUnauthorized = handler;
}

async function request(method, path, body, { quietUnauthorized = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  lastRequestAt = Date.now();
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  if (response.status === 204) return undefined;
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { error: text.slice(0, 200) };
  }
  if (!response.ok) {
    if (response.status === 401 && !quietUnauthorized) onUnauthorized();
    throw new ApiError(response.status, parsed);
  }
  return parsed;
}

/** When the page last asked the server something (the event stream does not count, as on the server). */
export function lastRequestTime() {
  return lastRequestAt;
}

/** GET a JSON resource. */
export const get = (path, options) => request("GET", path, undefined, options);
/** POST JSON (with the CSRF token). */
export const post = (path, body, options) => request("POST", path, body, options);

/** A query string from the fields that are set. */
export function query(fields) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
