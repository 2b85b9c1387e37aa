/**
 * Loads an optional peer dependency (a protocol client or database driver) only when an adapter needs it, so that
 * `import "plantwire"` stays light and a missing package fails with "npm i <name>" instead of a stack trace.
 */
import { MissingDependencyError } from "./errors.js";

function isMissing(error: unknown, packageName: string): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  const message = (error as Error | undefined)?.message ?? "";
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && message.includes(packageName);
}

/**
 * Imports `packageName` on first use. `usedBy` names the adapter in the error, e.g. "The Modbus adapter".
 * Returns the module's default export when it has one (CommonJS packages), else the namespace; pass
 * `{ namespace: true }` for ESM packages whose default export is not the API (aedes).
 */
export async function loadOptionalDependency<TModule>(
  packageName: string,
  usedBy: string,
  options: { namespace?: boolean } = {},
): Promise<TModule> {
  try {
    const loaded = (await import(packageName)) as { default?: unknown };
    return (options.namespace ? loaded : (loaded.default ?? loaded)) as TModule;
  } catch (error) {
    if (isMissing(error, packageName)) throw new MissingDependencyError(packageName, usedBy, { cause: error });
    throw error;
  }
}
