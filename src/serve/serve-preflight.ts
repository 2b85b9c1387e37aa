/**
 * What `plantwire serve` checks before it starts a site: the folders its state goes into (the audit's folder, the
 * approvals folder) can be made, and the users file and the TLS certificate and key are there. A fresh site folder has neither state folder yet (the
 * runtime makes them), and without this check a wrong path surfaced as a bare ENOENT, EEXIST or ENOTDIR from deep
 * inside the guard. Nothing is created here, so a refused start leaves the site folder as it was.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError, type ConfigIssue } from "../errors.js";
import type { SiteGuardSettings, SiteServeSettings } from "../site/site-config.js";

/** Why `folder` cannot be used or made, or undefined when it can: its nearest existing ancestor decides. */
function folderProblem(folder: string): string | undefined {
  let current = resolve(folder);
  for (;;) {
    try {
      const stats = statSync(current);
      if (!stats.isDirectory()) return `${current} is a file, not a folder`;
      accessSync(current, constants.W_OK);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM") return `${current} is not writable by this user`;
      // ENOTDIR: a part of the path above is a file; going up finds it and names it.
      if (code !== "ENOENT" && code !== "ENOTDIR") return `cannot use ${current}: ${(error as Error).message}`;
    }
    const parent = dirname(current);
    if (parent === current) return `no part of ${folder} exists`;
    current = parent;
  }
}

/**
 * Throws one ConfigError naming every problem (field and fix) that would stop `startServe()` on this site's paths.
 * @param siteFile the site file as the user gave it, so the fix can be copied as it is
 */
export function checkServeState(siteFile: string, guard: SiteGuardSettings, serve: SiteServeSettings): void {
  const issues: ConfigIssue[] = [];
  const auditFolder = folderProblem(dirname(guard.audit));
  if (auditFolder) {
    issues.push({
      path: "guard.audit",
      message: `cannot make the audit's folder for ${guard.audit}: ${auditFolder}`,
      fix: "point guard.audit at a file in a folder this user can write, e.g. ./.plantwire/audit.jsonl",
    });
  }
  const approvals = folderProblem(guard.approvals);
  if (approvals) {
    issues.push({
      path: "guard.approvals",
      message: `cannot make the approvals folder ${guard.approvals}: ${approvals}`,
      fix: "point guard.approvals at a folder this user can write, e.g. ./.plantwire/approvals",
    });
  }
  try {
    statSync(serve.users);
  } catch (error) {
    // Only a missing file is named here; any other problem with it is named by the users file's own checks.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      issues.push({
        path: "serve.users",
        message: `there is no users file at ${serve.users}, so nobody could log in`,
        fix: `add the first person: plantwire users add <name> --role operator --site ${siteFile}`,
      });
    }
  }
  for (const part of ["cert", "key"] as const) {
    const file = serve.tls?.[part];
    if (file !== undefined && !existsSync(file)) {
      issues.push({
        path: `serve.tls.${part}`,
        message: `there is no file at ${file}`,
        fix: `point serve.tls.${part} at the console's PEM ${part === "cert" ? "certificate" : "private key"} (see docs/console.md)`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, { file: siteFile });
}
