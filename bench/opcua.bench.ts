/**
 * OPC UA: 1000 tags batched vs one read per node (target ≥ 100×), on loopback and through the fault proxy adding
 * 1 ms each way (a LAN); the SDK's read vs a raw node-opcua `session.read` of the same nodes (target ≤ 1.05× the
 * time); subscription notifications delivered / values produced (≥ 0.95).
 * Reads go to a simulator in its own process (as a real server would be), with the proxy in that process too;
 * notifications come from an in-process simulator whose values the bench sets. Everything runs over SignAndEncrypt
 * on 127.0.0.1. On loopback a round trip costs little next to the server's own work for 1000 nodes (node-opcua's
 * server spends several microseconds per node), so that ratio measures the server as much as the client.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClientSession } from "node-opcua";
import { type OpcuaAddress, type OpcuaSimulator, opcua, startOpcuaSimulator } from "../adapters/opcua/index.js";
import { type BoundTag, float } from "../src/index.js";
import { type BenchResult, ratioResult, timeSideBySide } from "./bench-kit.js";
import { startBenchPeer } from "./bench-peer.js";

const tagCount = 1000;

/** Starts the simulator and its 1 ms proxy in a process of their own; resolves with both endpoints. */
async function serverProcess(pkiFolder: string) {
  const peer = startBenchPeer(new URL("./opcua-server.ts", import.meta.url));
  const ready = await peer.ask<{ endpoint: string; lanEndpoint: string; certificate: string }>({
    pkiFolder,
    generate: tagCount,
  });
  return { ...ready, certificate: Buffer.from(ready.certificate, "base64"), stop: () => peer.close() };
}

function boundTags(
  plc: ReturnType<typeof opcua>,
  count: number,
  samplingIntervalMs?: number,
): BoundTag<OpcuaAddress>[] {
  return Array.from({ length: count }, (_, index) => {
    const nodeId = `ns=1;s=Generated.Area${Math.floor(index / 100)}.Value${index}`;
    const definition = float({
      source: plc.node(nodeId, samplingIntervalMs === undefined ? {} : { samplingIntervalMs, queueSize: 10 }),
    });
    return { name: `value${index}`, definition, address: definition.source.address as OpcuaAddress };
  });
}

export default async function opcuaBench(): Promise<BenchResult[]> {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-opcua-bench-"));
  const server = await serverProcess(join(folder, "server"));
  const simulator = await startOpcuaSimulator({
    port: 0,
    nodeset: "minimal",
    generate: 100,
    pkiFolder: join(folder, "local"),
  });
  const ua = (await import("node-opcua")).default ?? (await import("node-opcua"));
  const manager = new ua.OPCUACertificateManager({ rootFolder: join(folder, "client"), disableFileWatchers: true });
  await manager.initialize();
  await manager.trustCertificate(server.certificate);
  await manager.trustCertificate(simulator.certificate());
  await manager.dispose();
  const plc = opcua({ endpoint: server.endpoint, pkiFolder: join(folder, "client") });
  const lanPlc = opcua({ endpoint: server.lanEndpoint, pkiFolder: join(folder, "client") });
  const local = opcua({ endpoint: simulator.endpoint, pkiFolder: join(folder, "client"), publishingIntervalMs: 50 });
  const results: BenchResult[] = [];
  try {
    await plc.connect();
    const tags = boundTags(plc, tagCount);
    const session = plc.getInstance() as ClientSession;
    const nodes = tags.map((tag) => ({ nodeId: tag.address.nodeId as string, attributeId: ua.AttributeIds.Value }));
    await plc.read(tags);
    const batchedVersusPerNode = async (adapter: typeof plc, label: string, note: string) => {
      const adapterSession = adapter.getInstance() as ClientSession;
      const perNode = async () => {
        for (const node of nodes) await adapterSession.read(node);
      };
      const timing = await timeSideBySide(perNode, () => adapter.read(tags), 5);
      results.push(
        ratioResult(
          `opcua: 1000 tags batched vs one read per node, ${label}`,
          { label: "one session.read per node", value: tagCount / (timing.baselineMs / 1000), unit: "tags/s" },
          { label: "plc.read (batched)", value: tagCount / (timing.candidateMs / 1000), unit: "tags/s" },
          { at: "least", ratio: 100 },
          note,
        ),
      );
    };
    await batchedVersusPerNode(
      plc,
      "loopback",
      "a loopback round trip is cheap next to the server's work for 1000 nodes, so this ratio mostly measures the server",
    );
    await lanPlc.connect();
    await lanPlc.read(tags);
    await batchedVersusPerNode(lanPlc, "1 ms link", "through the fault proxy adding ≥1 ms each way, like a LAN");
    const sdk = await timeSideBySide(
      () => session.read(nodes),
      () => plc.read(tags),
      41,
    );
    results.push(
      ratioResult(
        "opcua: SDK read vs raw session.read (1000 nodes)",
        { label: "raw session.read", value: sdk.baselineMs, unit: "ms" },
        { label: "plc.read", value: sdk.candidateMs, unit: "ms" },
        { at: "most", ratio: 1.05 },
      ),
    );
    await local.connect();
    results.push(await notifications(local, simulator));
  } finally {
    await plc.close();
    await lanPlc.close();
    await local.close();
    await simulator.close();
    await server.stop();
    rmSync(folder, { recursive: true, force: true });
  }
  return results;
}

async function notifications(plc: ReturnType<typeof opcua>, simulator: OpcuaSimulator): Promise<BenchResult> {
  const tags = boundTags(plc, 100, 0);
  const seen = new Map<string, Set<unknown>>(tags.map((tag) => [tag.name, new Set()]));
  const subscription = await plc.subscribe(tags, (name, sample) => seen.get(name)?.add(sample.value));
  await new Promise((resolve) => setTimeout(resolve, 500));
  let produced = 0;
  const rounds = 30;
  for (let round = 1; round <= rounds; round++) {
    for (let index = 0; index < tags.length; index++) {
      simulator.set(`Generated/Area0/Value${index}`, 100_000 + round * 1000 + index);
      produced++;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await subscription.close();
  let delivered = 0;
  tags.forEach((tag, index) => {
    for (let round = 1; round <= rounds; round++)
      if (seen.get(tag.name)?.has(100_000 + round * 1000 + index)) delivered++;
  });
  return ratioResult(
    "opcua: subscription notifications delivered / values produced",
    { label: "values produced at the source (100 tags × 30 changes, 100 ms apart)", value: produced, unit: "values" },
    { label: "distinct values delivered to the listener", value: delivered, unit: "values" },
    { at: "least", ratio: 0.95 },
  );
}
