/**
 * `plantwire mcp --site site.yaml`: the site as an MCP server over stdio, for an assistant that starts it. Standard
 * output carries MCP only; every log line goes to standard error. The assistant reads and proposes; a person decides.
 */
import { environmentLogger } from "../logger.js";
import { type CliCommand, exitCodes } from "./cli-command.js";
import { parseFlags, stringFlag } from "./cli-flags.js";
import { untilStopped } from "./cli-signals.js";

export const mcpCommand: CliCommand = {
  name: "mcp",
  summary: "Serve a site to an MCP client over stdio: read tags, propose writes (a person decides)",
  usage: [
    "Usage: plantwire mcp --site site.yaml [--token-file FILE]",
    "  --site FILE        the site file; its mcp: section says which tags an assistant sees and may propose for",
    "  --token-file FILE  an API token for the running plantwire serve of this site (else PLANTWIRE_TOKEN)",
    "Speaks MCP on standard input and output (logs on standard error). While plantwire serve holds the site,",
    "proposals go to it with the token; otherwise this process holds the site's guard and a person decides with",
    '"plantwire approve". No tool approves. Stops when its input ends, or on SIGINT/SIGTERM. See docs/mcp.md.',
  ].join("\n"),
  async run(args) {
    const { values } = parseFlags(args, {
      site: stringFlag({ required: true, hint: "site.yaml" }),
      "token-file": stringFlag({ hint: "token.txt" }),
    });
    // Standard output carries the protocol: anything a protocol library prints goes to standard error instead.
    const toError = (...parts: unknown[]) => console.error(...parts);
    Object.assign(console, { log: toError, info: toError, debug: toError });
    const { runStdioServer } = await import("../mcp/mcp-stdio.js");
    const stop = untilStopped();
    try {
      await runStdioServer({
        siteFile: values.site,
        ...(values["token-file"] ? { tokenFile: values["token-file"] } : {}),
        // Never standard output: it carries the protocol.
        logger: environmentLogger({ write: (line) => void process.stderr.write(line) }),
        stopped: stop.stopped,
      });
    } finally {
      stop.cancel();
    }
    return exitCodes.ok;
  },
};
