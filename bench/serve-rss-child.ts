/**
 * One side of the serve RSS bench, in a process of its own: `glue` runs the site as a glue script would (plant,
 * guard, the site's loops, a watch), `serve` runs it with `startServe` and one logged-in console client streaming
 * events. After the same warm-up both print their resident memory as JSON and stop.
 */
import { createGuard, createPlant, loadSite, proposerOnly, silentLogger } from "plantwire";
import { importLoopsModule } from "../src/serve/loops-module.js";
import { startServe } from "../src/serve/serve-process.js";

const [mode, siteFile, warmUpText] = process.argv.slice(2) as [string, string, string];
const warmUpMs = Number(warmUpText);
const settle = () => new Promise((resolve) => setTimeout(resolve, warmUpMs));
const measure = () => {
  globalThis.gc?.();
  return process.memoryUsage().rss / 1024 / 1024;
};

if (mode === "glue") {
  const site = await loadSite(siteFile);
  const plant = createPlant({ tags: site.tags, logger: silentLogger });
  const guard = createGuard({ plant, audit: site.guard?.audit as string, approvals: site.guard?.approvals as string });
  const loops = site.loops
    ? await (await importLoopsModule(site.loops))({
        plant,
        guard: proposerOnly(guard),
        logger: silentLogger,
        site,
        signal: new AbortController().signal,
      })
    : [];
  await plant.connect();
  const watcher = await plant.watch(() => {});
  for (const loop of loops) await loop.start();
  await settle();
  const rss = measure();
  for (const loop of loops) await loop.stop();
  await watcher.stop();
  await guard.close();
  await plant.close();
  process.stdout.write(JSON.stringify({ rss }));
} else {
  // The client speaks node:http, which the server loads anyway: fetch would load undici into this process and
  // charge a browser's library to the server.
  const { request } = await import("node:http");
  const call = (url: string, options: { method?: string; cookie?: string; body?: string }, keep = false) =>
    new Promise<{ cookie: string; stream: import("node:http").IncomingMessage }>((resolve, reject) => {
      const outgoing = request(
        url,
        {
          method: options.method ?? "GET",
          headers: {
            ...(options.cookie ? { cookie: options.cookie } : {}),
            ...(options.body ? { "content-type": "application/json" } : {}),
          },
        },
        (incoming) => {
          const cookie = String(incoming.headers["set-cookie"]?.[0] ?? "").split(";")[0] as string;
          if (!keep) incoming.resume();
          resolve({ cookie, stream: incoming });
        },
      );
      outgoing.on("error", reject);
      outgoing.end(options.body);
    });
  const serve = await startServe({ siteFile, listen: "127.0.0.1:0", logger: silentLogger });
  const { cookie } = await call(`${serve.url}/api/login`, {
    method: "POST",
    body: JSON.stringify({ user: "bench", password: "correct horse battery staple" }),
  });
  const { stream } = await call(`${serve.url}/api/events`, { cookie }, true);
  stream.resume(); // read and drop, as a browser tab would render and forget
  for (const path of ["/", "/api/site", "/api/snapshot", "/api/proposals", "/api/loops"]) {
    await call(`${serve.url}${path}`, { cookie });
  }
  await settle();
  const rss = measure();
  stream.destroy();
  await serve.close();
  process.stdout.write(JSON.stringify({ rss }));
}
