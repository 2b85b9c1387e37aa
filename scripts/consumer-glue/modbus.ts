/**
 * A consumer with plantwire, zod and modbus-serial: the bundled Modbus simulator on a free loopback port, a drive's
 * registers read through the adapter into a typed snapshot.
 */
import { createPlant, defineTags, float } from "plantwire";
import { type ModbusAddress, modbus, startModbusSimulator } from "plantwire/modbus";

async function main(): Promise<void> {
  const simulator = await startModbusSimulator({ port: 0 });
  const drive = modbus({ url: simulator.url, unit: 1, name: "drive" });
  const tags = defineTags({
    speed: float({ unit: "rpm", range: [0, 1800], source: drive.holding(100, "uint16", { scale: 0.1 }) }),
    pressure: float({ unit: "bar", range: [0, 16], source: drive.input(10, "float32", { wordOrder: "CDAB" }) }),
  });
  simulator.setTag(tags.speed.source.address as ModbusAddress, 1234.5);
  simulator.setTag(tags.pressure.source.address as ModbusAddress, 6.25);
  const plant = createPlant({ tags });
  const snapshot = await plant.read();
  const speed: number = snapshot.value("speed");
  await plant.close();
  await simulator.close();
  console.log(`consumer-check modbus speed=${speed} pressure=${snapshot.value("pressure")}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
