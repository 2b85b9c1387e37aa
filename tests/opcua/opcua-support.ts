/** Shared helpers of the OPC UA tests: temporary PKI folders and a client PKI that trusts a simulator. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OpcuaSimulator } from "plantwire/opcua";

/** A temporary folder for one test file's PKI folders; remove it in afterAll. */
export function temporaryFolder(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `plantwire-opcua-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Puts the simulator's certificate in a client PKI folder's trusted list (what `plantwire opcua trust --yes` does). */
export async function trustSimulator(pkiFolder: string, simulator: OpcuaSimulator): Promise<void> {
  const { OPCUACertificateManager } = (await import("node-opcua")).default ?? (await import("node-opcua"));
  const manager = new OPCUACertificateManager({ rootFolder: pkiFolder, disableFileWatchers: true });
  await manager.initialize();
  await manager.trustCertificate(simulator.certificate());
  await manager.dispose();
}

/** Collects warnings instead of printing them. */
export function warningSink(): { warnings: string[]; onWarning: (message: string) => void } {
  const warnings: string[] = [];
  return { warnings, onWarning: (message) => warnings.push(message) };
}
