/**
 * CLI commands: `plantwire opcua browse` (address space → tag-map file) and `plantwire opcua trust` (show a server
 * certificate's fingerprint and trust it on confirmation).
 */
import { type CliCommand, type CliIo, exitCodes } from "../../src/cli/cli-command.js";
import { booleanFlag, choiceFlag, integerFlag, parseFlags, stringFlag } from "../../src/cli/cli-flags.js";
import { ConfigError } from "../../src/errors.js";
import { browseToTagMap } from "./opcua-browse.js";
import type { OpcuaOptions, OpcuaSecurityMode, OpcuaSecurityPolicy } from "./opcua-config.js";
import { fetchServerCertificate, trustServerCertificate } from "./opcua-trust.js";

const securityUsage = `  --security-mode <m>    SignAndEncrypt (default), Sign or None
  --security-policy <p>  Basic256Sha256 (default), Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, ...
  --insecure             allow mode None or a deprecated policy
  --pki <folder>         the PKI folder (default ./pki/opcua)
  --user <name>          log in as this user; the password comes from the environment variable
                         PLANTWIRE_OPCUA_PASSWORD (never from the command line, where others can read it)
  --user-cert <file>     log in with an X.509 user certificate (PEM or DER), with --user-key <file>`;

const connectionOptions = {
  "security-mode": choiceFlag(["SignAndEncrypt", "Sign", "None"]),
  "security-policy": stringFlag({ nonBlank: true, hint: "Basic256Sha256" }),
  insecure: booleanFlag(),
  pki: stringFlag({ nonBlank: true, hint: "./pki/opcua" }),
  user: stringFlag({ nonBlank: true, hint: "operator" }),
  "user-cert": stringFlag({ nonBlank: true, hint: "user.pem" }),
  "user-key": stringFlag({ nonBlank: true, hint: "user.key" }),
} as const;

const exitLine = "Exit 0 on success, 1 on failure, 2 for a wrong command line, 3 for invalid security settings.";

function failure(io: CliIo, error: unknown): number {
  io.err(`${error instanceof Error ? error.message : String(error)}\n`);
  return ConfigError.isInstance(error) ? exitCodes.config : exitCodes.failure;
}

const browse: CliCommand = {
  name: "opcua browse",
  summary: "Walk an OPC UA server's address space and write a typed tag-map file",
  usage: `Usage: plantwire opcua browse <endpoint> [--root <node id or /path>] [--depth N] --out tags.yaml
  --root <node>          where to start (default /Objects)
  --depth <n>            levels to walk (default 10)
  --out <file>           the tag-map file to write (YAML)
  --name <adapter>       the adapter name written in each source (default opcua)
  --include-server       also walk the Server diagnostics object (ns=0), left out by default
  Every node left out (the Server object, unreadable variables, arrays, types without a tag type) is listed with
  its reason, on the output and as comments at the top of the file.
${securityUsage}
${exitLine}`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        ...connectionOptions,
        root: stringFlag({ nonBlank: true, hint: "/Objects/Pump" }),
        depth: integerFlag({ min: 1, max: 100 }),
        out: stringFlag({ required: true, nonBlank: true, hint: "tags.yaml" }),
        name: stringFlag({ nonBlank: true, hint: "opcua" }),
        "include-server": booleanFlag(),
      },
      { positionals: { names: ["<endpoint>"] } },
    );
    const endpoint = positionals[0] as string;
    const depth = values.depth;
    try {
      const options: OpcuaOptions & { out: string; root?: string; depth?: number; includeServer?: boolean } = {
        endpoint,
        out: values.out,
        onWarning: (message) => io.err(`${message}\n`),
        ...security(values),
      };
      if (values.name !== undefined) options.name = values.name;
      if (values.root !== undefined) options.root = values.root;
      if (depth !== undefined) options.depth = depth;
      if (values["include-server"]) options.includeServer = true;
      const result = await browseToTagMap({
        ...options,
        onProgress: (progress) =>
          io.err(`level ${progress.depth}: ${progress.nodesVisited} nodes, ${progress.variablesFound} variables\n`),
      });
      io.out(`wrote ${result.variables.length} tags to ${values.out}`);
      io.out(result.skipped.length > 0 ? ` (${result.skipped.length} nodes left out)\n` : "\n");
      for (const node of result.skipped) io.out(`  left out ${node.path} (${node.nodeId}): ${node.why}\n`);
      return exitCodes.ok;
    } catch (error) {
      return failure(io, error);
    }
  },
};

interface ConnectionValues {
  "security-mode"?: string;
  "security-policy"?: string;
  insecure?: boolean;
  pki?: string;
  user?: string;
  "user-cert"?: string;
  "user-key"?: string;
}

/** The user token from the command line. Throws a ConfigError naming the flag to fix. */
function userToken(values: ConnectionValues, env: NodeJS.ProcessEnv): OpcuaOptions["user"] {
  const certificate = values["user-cert"];
  const key = values["user-key"];
  if (values.user !== undefined && (certificate !== undefined || key !== undefined)) {
    throw new ConfigError([
      { path: "--user", message: "a user name and a user certificate were both given", fix: "give one of them" },
    ]);
  }
  if (values.user !== undefined) {
    const password = env.PLANTWIRE_OPCUA_PASSWORD;
    if (password === undefined) {
      throw new ConfigError([
        {
          path: "PLANTWIRE_OPCUA_PASSWORD",
          message: `no password for user "${values.user}"`,
          fix: "set the environment variable PLANTWIRE_OPCUA_PASSWORD to the password",
        },
      ]);
    }
    return { username: values.user, password };
  }
  if (certificate !== undefined || key !== undefined) {
    if (certificate === undefined || key === undefined) {
      throw new ConfigError([
        {
          path: certificate === undefined ? "--user-cert" : "--user-key",
          message: "a user certificate needs both its certificate and its private key",
          fix: "give --user-cert <file> and --user-key <file>",
        },
      ]);
    }
    return { certificateFile: certificate, privateKeyFile: key };
  }
  return undefined;
}

function security(values: ConnectionValues, env: NodeJS.ProcessEnv = process.env) {
  const options: Partial<OpcuaOptions> = {};
  const user = userToken(values, env);
  if (user) options.user = user;
  if (values["security-mode"] !== undefined) options.securityMode = values["security-mode"] as OpcuaSecurityMode;
  if (values["security-policy"] !== undefined)
    options.securityPolicy = values["security-policy"] as OpcuaSecurityPolicy;
  if (values.insecure) options.insecure = true;
  if (values.pki !== undefined) options.pkiFolder = values.pki;
  return options;
}

const trust: CliCommand = {
  name: "opcua trust",
  summary: "Show an OPC UA server's certificate fingerprint and trust it on confirmation",
  usage: `Usage: plantwire opcua trust <endpoint> [--pki <folder>] [--yes]
  Shows the server certificate's SHA-1 and SHA-256 fingerprints. Compare them with the server's own display,
  then run again with --yes to put the certificate in <pki>/trusted.
  --pki <folder>         the PKI folder (default ./pki/opcua)
  --yes                  trust the certificate shown
Exit 0 when trusted, 1 when not trusted yet (no --yes) or on failure, 2 for a wrong command line.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { pki: stringFlag({ default: "./pki/opcua", nonBlank: true }), yes: booleanFlag() },
      { positionals: { names: ["<endpoint>"] } },
    );
    const endpoint = positionals[0] as string;
    const pkiFolder = values.pki;
    try {
      const info = await fetchServerCertificate(endpoint, pkiFolder);
      io.out(
        `server certificate of ${endpoint}\n  subject:     ${info.subject}\n  application: ${info.applicationUri}\n  valid:       ${info.validFrom} to ${info.validTo}\n  SHA-1:       ${info.sha1}\n  SHA-256:     ${info.sha256}\n`,
      );
      if (!values.yes) {
        io.out("not trusted yet: compare the fingerprint with the server's, then run again with --yes\n");
        return exitCodes.failure;
      }
      await trustServerCertificate(pkiFolder, info.certificate);
      io.out(`trusted: stored in ${pkiFolder}/trusted\n`);
      return exitCodes.ok;
    } catch (error) {
      return failure(io, error);
    }
  },
};

/** The OPC UA commands, for the CLI registry. */
export const commands: CliCommand[] = [browse, trust];
