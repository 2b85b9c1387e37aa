/**
 * Serves the operator console's static files (console/ at the package root) to browsers: gzip when asked for,
 * ETag and revalidation, content types, and the security headers a page that moves equipment needs (a strict
 * Content-Security-Policy with no inline script or style, no framing, no MIME sniffing).
 *
 * The folder is found beside the sources in the repository (src/serve/ → ../../console) and beside the bundle in the
 * package (dist/ → ../console), so `plantwire serve` works from a checkout and from an installed package alike.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/**
 * The console's Content-Security-Policy: everything from this origin only, no inline script or style, no plugins,
 * no framing, forms post only here. The page builds every element with DOM calls, so none of this gets in its way.
 */
export const consoleContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers every console response carries (the API may send them too). */
export const consoleSecurityHeaders: Readonly<Record<string, string>> = {
  "Content-Security-Policy": consoleContentSecurityPolicy,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), usb=(), serial=()",
};

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json; charset=utf-8",
};

/** Only plain file names in the folder itself: no sub-paths, no dot files, so no way out of the folder. */
const assetName = /^[a-z0-9][a-z0-9-]*\.(?:html|js|css|svg|json)$/;

/** The console folder: beside the sources in a checkout, beside the bundle in the package. */
export function consoleFolder(): string {
  const candidates = ["../../console/", "../console/"].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  // The console folder sits beside plantwire's own package.json (the repository root, or the installed package's
  // root above dist/). Checking that keeps an unrelated installed package named "console" from being served.
  const ours = (folder: string) => {
    if (!existsSync(join(folder, "index.html"))) return false;
    try {
      return JSON.parse(readFileSync(join(folder, "..", "package.json"), "utf8")).name === "plantwire";
    } catch {
      return false;
    }
  };
  const found = candidates.find(ours);
  if (!found) {
    throw new Error(
      `the console's files are missing (looked in ${candidates.join(" and ")}): reinstall plantwire, or run from the repository root`,
    );
  }
  return found;
}

interface Asset {
  readonly mtimeMs: number;
  readonly size: number;
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

/** Compressed once per file version: a panel PC reloading the page does not cost a gzip each time. */
const cache = new Map<string, Asset>();
let folder: string | undefined;

async function load(file: string): Promise<Asset | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const cached = cache.get(file);
  if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
  const body = await readFile(file);
  const etag = createHash("sha256").update(body).digest("base64url").slice(0, 27);
  const asset: Asset = { mtimeMs: info.mtimeMs, size: info.size, body, gzip: gzipSync(body, { level: 9 }), etag };
  cache.set(file, asset);
  return asset;
}

function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers["accept-encoding"];
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  return value.split(",").some((part) => {
    const [coding, ...parameters] = part.split(";").map((piece) => piece.trim().toLowerCase());
    const quality = parameters.find((parameter) => parameter.startsWith("q="));
    return (coding === "gzip" || coding === "*") && (quality === undefined || Number(quality.slice(2)) > 0);
  });
}

function matches(req: IncomingMessage, etag: string): boolean {
  const header = req.headers["if-none-match"];
  if (!header) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === etag || tag === "*");
}

/**
 * Answers a request for one of the console's files: `/` (the page), `/index.html`, `/app.js`, `/style.css` and the
 * page's other modules. Returns false, writing nothing, for any other path (the API, metrics, a 404 the caller
 * writes) and for methods other than GET and HEAD.
 */
export async function serveConsoleAsset(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const name = url.pathname === "/" ? "index.html" : url.pathname.slice(1);
  if (!assetName.test(name)) return false;
  folder ??= consoleFolder();
  const asset = await load(join(folder, name));
  if (!asset) return false;
  const gzip = acceptsGzip(req);
  // The two encodings are two representations: each has its own tag, so a cache never mixes them up.
  const etag = `"${asset.etag}${gzip ? "-gz" : ""}"`;
  const headers: Record<string, string> = {
    ...consoleSecurityHeaders,
    "Content-Type": contentTypes[extname(name)] ?? "application/octet-stream",
    // No file names carry a version, so every load revalidates: a cheap 304 on the plant's LAN, never a stale page.
    "Cache-Control": "no-cache",
    Vary: "Accept-Encoding",
    ETag: etag,
  };
  if (matches(req, etag)) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  const body = gzip ? asset.gzip : asset.body;
  if (gzip) headers["Content-Encoding"] = "gzip";
  headers["Content-Length"] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
  return true;
}
