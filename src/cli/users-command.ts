/**
 * `plantwire users add|passwd|role|remove|list|token`: the people who may use the console of `plantwire serve`, their
 * roles and their API tokens. Passwords are read from the terminal without echo (twice) or from standard input with
 * --password-stdin, hashed with scrypt, and never printed or stored in clear; a token is printed once, then only its
 * SHA-256 is kept. A running `serve` picks every change up by itself (a removed user's sessions end).
 */
import { dirname, resolve } from "node:path";
import { configFormatOf, parseConfigText, readConfigText } from "../config-file.js";
import { ValidationError } from "../errors.js";
import { type Role, roles } from "../serve/auth/auth-types.js";
import { minimumPasswordLength } from "../serve/auth/password-hash.js";
import { addToken, addUser, removeUser, revokeTokens, setPassword, setRole } from "../serve/auth/users-changes.js";
import { readUsersFile, readUsersFileOrEmpty, type UsersFile } from "../serve/auth/users-file.js";
import { updateUsersFile } from "../serve/auth/users-file-lock.js";
import { type CliCommand, type CliIo, exitCodes } from "./cli-command.js";
import { booleanFlag, CliUsageError, choiceFlag, parseFlags, stringFlag } from "./cli-flags.js";
import { terminalSafe } from "./terminal-text.js";

const fileFlags = {
  file: stringFlag({ nonBlank: true, hint: "users.json" }),
  site: stringFlag({ nonBlank: true, hint: "site.yaml" }),
} as const;
const fileUsage = `  --file <users.json>   the users file (default ./users.json)
  --site <site.yaml>    take the users file from the site's serve.users instead`;
const one = { positionals: { names: ["<name>"] } } as const;

/** The users file the command works on: --file, else the site's `serve.users`, else ./users.json. */
async function usersFileOf(values: { file?: string; site?: string }): Promise<string> {
  if (values.file !== undefined && values.site !== undefined) {
    throw new CliUsageError("Give --file or --site, not both.");
  }
  if (values.file !== undefined) return resolve(values.file);
  if (values.site === undefined) return resolve("users.json");
  const site = resolve(values.site);
  const document = await parseConfigText(await readConfigText(site), configFormatOf(site) ?? "yaml", site);
  const users = (document as { serve?: { users?: unknown } } | null)?.serve?.users;
  if (users !== undefined && typeof users !== "string") {
    throw new ValidationError(`serve.users in ${site} is not a path. Fix: write users: ./users.json`);
  }
  return resolve(dirname(site), users ?? "./users.json");
}

/** Reads standard input to its end (at most 4 KB) and drops one trailing line break. */
async function passwordFromStdin(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > 4096) throw new ValidationError("the password on standard input is longer than 4 KB");
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (text.length === 0) throw new ValidationError("standard input held no password. Fix: pipe the password in");
  return text;
}

/** Asks for a line on the terminal without echoing it. */
function askHidden(prompt: string, io: CliIo): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolvePassword, reject) => {
    let typed = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.err("\n");
      if (error) reject(error);
      else resolvePassword(typed);
    };
    const onData = (data: Buffer) => {
      for (const character of data.toString("utf8")) {
        if (character === "\r" || character === "\n") return finish();
        if (character === "\u0003" || character === "\u0004") return finish(new ValidationError("cancelled"));
        if (character === "\u007f" || character === "\b") typed = [...typed].slice(0, -1).join("");
        else if (character >= " ") typed += character;
      }
    };
    // Echo goes off before the prompt shows: keys typed as soon as it appears must not stand on the screen.
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
    io.err(prompt);
  });
}

/** The new password: from standard input with --password-stdin, else asked twice on the terminal. */
async function newPassword(fromStdin: boolean, io: CliIo): Promise<string> {
  if (fromStdin) {
    const input = io.input ?? process.stdin;
    // On a terminal, standard input echoes every key: the password would stand on the screen and in its scrollback.
    if ((input as { isTTY?: boolean }).isTTY) {
      throw new CliUsageError(
        "--password-stdin reads a pipe, but standard input is a terminal that would show the password. Fix: leave out --password-stdin to be asked without echo, or pipe the password in.",
      );
    }
    return passwordFromStdin(input);
  }
  if (!process.stdin.isTTY) {
    throw new CliUsageError("There is no terminal to ask the password on. Fix: pipe it in and add --password-stdin.");
  }
  io.err(`Choose a password of at least ${minimumPasswordLength} characters.\n`);
  const first = await askHidden("Password: ", io);
  const second = await askHidden("Password again: ", io);
  if (first !== second) {
    throw new ValidationError("the two passwords differ. Fix: run the command again and type the same one twice");
  }
  return first;
}

const name = (text: string) => terminalSafe(text);

export const usersAddCommand: CliCommand = {
  name: "users add",
  summary: "Add a person who may use the console, with a role",
  usage: `Usage: plantwire users add <name> [--role ${roles.join("|")}] [--password-stdin] [--file users.json]

  --role              viewer (look; the default), operator (decide proposals), engineer (also pause/resume
                      loops, reload the site), assistant (read and propose, never decide: for MCP clients)
  --password-stdin    read the password from standard input instead of asking twice on the terminal
${fileUsage}`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { ...fileFlags, role: choiceFlag(roles, { default: "viewer" as Role }), "password-stdin": booleanFlag() },
      one,
    );
    const file = await usersFileOf(values);
    readUsersFileOrEmpty(file); // a bad file is reported before anyone types a password
    const user = positionals[0] as string;
    const password = await newPassword(values["password-stdin"], io);
    const change = async (content: UsersFile) => ({
      content: await addUser(content, { name: user, role: values.role, password }),
    });
    await updateUsersFile(file, change, { allowMissing: true });
    io.out(`Added ${name(user)} (${values.role}) to ${file}.\n`);
    return exitCodes.ok;
  },
};

export const usersPasswdCommand: CliCommand = {
  name: "users passwd",
  summary: "Set a person's password (their console sessions end)",
  usage: `Usage: plantwire users passwd <name> [--password-stdin] [--file users.json]\n\n${fileUsage}`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { ...fileFlags, "password-stdin": booleanFlag() }, one);
    const file = await usersFileOf(values);
    const content = readUsersFile(file);
    const user = positionals[0] as string;
    if (!content.users.some((candidate) => candidate.name === user)) {
      throw new ValidationError(`there is no user "${user}". Fix: run \`plantwire users list\` to see the users`);
    }
    const password = await newPassword(values["password-stdin"], io);
    await updateUsersFile(file, async (latest) => ({ content: await setPassword(latest, user, password) }));
    io.out(`Changed the password of ${name(user)}; their console sessions end.\n`);
    return exitCodes.ok;
  },
};

export const usersRoleCommand: CliCommand = {
  name: "users role",
  summary: "Change a person's role (their console sessions end)",
  usage: `Usage: plantwire users role <name> --role ${roles.join("|")} [--file users.json]\n\n${fileUsage}`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { ...fileFlags, role: choiceFlag(roles) }, one);
    if (values.role === undefined) throw new CliUsageError(`Missing --role: give one of ${roles.join(", ")}.`);
    const file = await usersFileOf(values);
    const user = positionals[0] as string;
    const role = values.role;
    await updateUsersFile(file, (content) => ({ content: setRole(content, user, role) }));
    io.out(`${name(user)} is now ${values.role}.\n`);
    return exitCodes.ok;
  },
};

export const usersRemoveCommand: CliCommand = {
  name: "users remove",
  summary: "Remove a person and their API tokens (their sessions end)",
  usage: `Usage: plantwire users remove <name> [--file users.json]\n\n${fileUsage}`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, fileFlags, one);
    const file = await usersFileOf(values);
    const user = positionals[0] as string;
    await updateUsersFile(file, (content) => ({ content: removeUser(content, user) }));
    io.out(`Removed ${name(user)} and their tokens.\n`);
    return exitCodes.ok;
  },
};

export const usersListCommand: CliCommand = {
  name: "users list",
  summary: "List the people, their roles and their API token ids",
  usage: `Usage: plantwire users list [--json] [--file users.json]\n\n  --json   print JSON (no hashes)\n${fileUsage}`,
  async run(args, io) {
    const { values } = parseFlags(args, { ...fileFlags, json: booleanFlag() });
    const content = readUsersFile(await usersFileOf(values));
    const rows = content.users.map((user) => ({
      name: user.name,
      role: user.role,
      created: user.created,
      tokens: content.tokens
        .filter((token) => token.user === user.name)
        .map((token) => ({ id: token.id, created: token.created, ...(token.label ? { label: token.label } : {}) })),
    }));
    if (values.json) {
      io.out(`${JSON.stringify(rows, null, 2)}\n`);
      return exitCodes.ok;
    }
    if (rows.length === 0) {
      io.out(
        "No users yet. Add one with `plantwire users add <name> --role operator` (--role engineer to also reload the site and pause loops).\n",
      );
    }
    const width = Math.max(4, ...rows.map((row) => row.name.length));
    if (rows.length > 0) io.out(`${"NAME".padEnd(width)}  ROLE      CREATED                   TOKENS\n`);
    for (const row of rows) {
      const tokens = row.tokens.map((token) => (token.label ? `${token.id} (${token.label})` : token.id)).join(", ");
      io.out(
        `${name(row.name).padEnd(width)}  ${row.role.padEnd(8)}  ${row.created.padEnd(24)}  ${name(tokens) || "-"}\n`,
      );
    }
    return exitCodes.ok;
  },
};

export const usersTokenCommand: CliCommand = {
  name: "users token",
  summary: "Make an API token for a person (shown once), or revoke their tokens",
  usage: `Usage: plantwire users token <name> [--label "mcp on panel-2"] [--file users.json]
       plantwire users token <name> --revoke [--id <token id>] [--file users.json]

  Prints a new token on standard output, once; only its SHA-256 is kept. Clients send it as
  "Authorization: Bearer <token>" and act as the person, with the person's role.
  --revoke   revoke the person's tokens: all of them, or the one given by --id (see \`plantwire users list\`)
${fileUsage}`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        ...fileFlags,
        label: stringFlag({ nonBlank: true }),
        revoke: booleanFlag(),
        id: stringFlag({ nonBlank: true }),
      },
      one,
    );
    const file = await usersFileOf(values);
    const user = positionals[0] as string;
    if (values.revoke) {
      const id = values.id;
      const count = await updateUsersFile(file, (content) => {
        const revoked = revokeTokens(content, user, id);
        return { content: revoked.content, result: revoked.revoked };
      });
      io.out(`Revoked ${count} token${count === 1 ? "" : "s"} of ${name(user)}.\n`);
      return exitCodes.ok;
    }
    if (values.id !== undefined) throw new CliUsageError("--id goes with --revoke.");
    if (values.label !== undefined && values.label.length > 200)
      throw new CliUsageError("--label is longer than 200 characters.");
    const label = values.label;
    const made = await updateUsersFile(file, (content) => {
      const added = addToken(content, user, label);
      return { content: added.content, result: added };
    });
    if (!made) throw new Error("the token was not made");
    io.err(`A new token for ${name(user)} (id ${made.stored.id}). It is shown only this once; keep it secret:\n`);
    io.out(`${made.token}\n`);
    return exitCodes.ok;
  },
};

/** Every `plantwire users` command. */
export const usersCommands: readonly CliCommand[] = [
  usersAddCommand,
  usersPasswdCommand,
  usersRoleCommand,
  usersRemoveCommand,
  usersListCommand,
  usersTokenCommand,
];
