/** CLI commands of the SQL adapter: `plantwire sql init <url>`. */
import type { CliCommand } from "../../src/cli/cli-command.js";
import { exitCodes } from "../../src/cli/cli-command.js";
import { createPlantwireSchema } from "./sql-schema.js";

const initCommand: CliCommand = {
  name: "sql init",
  summary: "Create the plantwire historian/events schema (tables and indexes) in a database",
  usage: `Usage: plantwire sql init <url> [--prefix <name>]

  <url>            sqlite:./plant.db, postgres://user@host:5432/db or mysql://user@host:3306/db
  --prefix <name>  table name prefix (tables <name>_samples and <name>_events); default plantwire

Safe to run twice: existing tables and indexes are kept. Use credentials that may CREATE tables (not the
read-only role plantwire reads with).`,
  async run(args, io) {
    const positional: string[] = [];
    let prefix: string | undefined;
    for (let index = 0; index < args.length; index++) {
      const argument = args[index] as string;
      if (argument === "--prefix") {
        prefix = args[++index];
        if (prefix === undefined) {
          io.err("--prefix needs a name\n");
          return exitCodes.usage;
        }
      } else if (argument.startsWith("--")) {
        io.err(`Unknown option ${argument}\n`);
        return exitCodes.usage;
      } else {
        positional.push(argument);
      }
    }
    if (positional.length !== 1) {
      io.err(`Expected one database URL.\n${initCommand.usage}\n`);
      return exitCodes.usage;
    }
    const url = positional[0] as string;
    const statements = await createPlantwireSchema(prefix === undefined ? { url } : { url, prefix });
    const where = url.replace(/\/\/([^@/]*)@/, "//***@");
    io.out(`Created the plantwire schema in ${where} (${statements.length} statements):\n`);
    for (const statement of statements) io.out(`  ${statement}\n`);
    return exitCodes.ok;
  },
};

/** The SQL adapter's commands, wired into the CLI by src/cli/commands.ts. */
export const commands: CliCommand[] = [initCommand];
