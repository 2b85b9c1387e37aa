/**
 * A consumer with plantwire, zod and node-opcua: the bundled OPC UA simulator on a free loopback port, one variable
 * read through the adapter into a typed snapshot. Security None is accepted here only because it is loopback.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlant, defineTags, float } from "plantwire";
import { opcua, startOpcuaSimulator } from "plantwire/opcua";

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-consumer-opcua-"));
  try {
    const simulator = await startOpcuaSimulator({
      port: 0,
      nodeset: "minimal",
      pkiFolder: join(folder, "server"),
      variables: [{ path: "Pump7/Pressure", dataType: "Double", value: 6.25 }],
    });
    const plc = opcua({
      endpoint: simulator.endpoint,
      name: "plc",
      securityMode: "None",
      insecure: true,
      pkiFolder: join(folder, "client"),
      onWarning: () => {},
    });
    const tags = defineTags({
      pressure: float({ unit: "bar", range: [0, 16], source: plc.node("ns=1;s=Pump7.Pressure") }),
    });
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    const pressure: number = snapshot.value("pressure");
    await plant.close();
    await simulator.close();
    console.log(`consumer-check opcua pressure=${pressure}`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
