/** CLI commands of the SQL adapter: `plantwire sql init <url>`. */
import type { CliCommand } from "../../src/cli/cli-command.js";
import { exitCodes } from "../../src/cli/cli-command.js";
import { parseFlags, stringFlag } from "../../src/cli/cli-flags.js";
import { createPlantwireSchema } from "./sql-schema.js";

const initCommand: CliCommand = {
  name: "sql init",
  summary: "Create the plantwire historian/events schema (tables and indexes) in a database",
  usage: `Usage: plantwire sql init <url> [--prefix <name>]

  <url>            sqlite:./plant.db, postgres://user@host:5432/db or mysql://user@host:3306/db
  --prefix <name>  table name prefix (tables <name>_samples and <name>_events); default plantwire

Safe to run twice: existing tables and indexes are kept. Use credentials that may CREATE tables (not the
read-only role plantwire reads with). Exit 0 when the schema is there, 1 when the database refused or cannot be
reached, 2 for a wrong command line, 3 for an invalid URL.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { prefix: stringFlag({ nonBlank: true, hint: "plantwire" }) },
      { positionals: { names: ["<url>"] } },
    );
    const prefix = values.prefix;
    const url = positionals[0] as string;
    const statements = await createPlantwireSchema(prefix === undefined ? { url } : { url, prefix });
    const where = url.replace(/\/\/([^@/]*)@/, "//***@");
    io.out(`Created the plantwire schema in ${where} (${statements.length} statements):\n`);
    for (const statement of statements) io.out(`  ${statement}\n`);
    return exitCodes.ok;
  },
};

/** The SQL adapter's commands, wired into the CLI by src/cli/commands.ts. */
export const commands: CliCommand[] = [initCommand];
