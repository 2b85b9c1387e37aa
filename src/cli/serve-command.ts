/**
 * `plantwire serve --site site.yaml`: runs a site as one long-running process (its adapters, its one guard, its
 * loops) and serves the operator console, the JSON API, `/metrics` and `/healthz`. SIGHUP (or POST /api/site/reload)
 * applies a changed site file when it is valid; SIGINT/SIGTERM stop it cleanly.
 */
import { type CliCommand, exitCodes } from "./cli-command.js";
import { parseFlags, stringFlag } from "./cli-flags.js";
import { untilStopped } from "./cli-signals.js";

export const serveCommand: CliCommand = {
  name: "serve",
  summary: "Run a site (adapters, guard, loops) and serve its operator console and API",
  usage: [
    "Usage: plantwire serve --site site.yaml [--listen 127.0.0.1:8470]",
    "  --site FILE      the site file: adapters, tags, loops, guard and serve sections",
    "  --listen H:P     where to listen (overrides serve.listen; loopback by default, 127.0.0.1:0 for any free port)",
    "Prints the address when it listens. SIGHUP reloads the site file (an invalid one is refused, every problem named,",
    "and the running configuration stays); SIGINT or SIGTERM stops loops, closes the guard and audit, disconnects.",
    "Exit 0 after a clean stop, 3 when the site cannot be served (every problem named).",
  ].join("\n"),
  async run(args, io) {
    const { values } = parseFlags(args, {
      site: stringFlag({ required: true, hint: "site.yaml" }),
      listen: stringFlag({ hint: "127.0.0.1:8470" }),
    });
    const { startServe } = await import("../serve/serve-process.js");
    const stop = untilStopped();
    let running: Awaited<ReturnType<typeof startServe>>;
    try {
      running = await startServe({ siteFile: values.site, ...(values.listen ? { listen: values.listen } : {}) });
    } catch (error) {
      stop.cancel();
      throw error;
    }
    io.out(`plantwire serve: listening on ${running.url}\n`);
    const onHangup = () => {
      void running.reload("SIGHUP").then((result) => {
        if ("applied" in result) io.out("plantwire serve: site reloaded\n");
        else {
          const lines = result.issues.map((issue) => `  - ${issue.path}: ${issue.message}. Fix: ${issue.fix}`);
          io.err(`plantwire serve: reload refused, the running configuration stays:\n${lines.join("\n")}\n`);
        }
      });
    };
    process.on("SIGHUP", onHangup);
    const reason = await stop.stopped;
    process.off("SIGHUP", onHangup);
    io.out(`plantwire serve: ${reason}: stopping\n`);
    await running.close();
    io.out("plantwire serve: stopped\n");
    return exitCodes.ok;
  },
};
