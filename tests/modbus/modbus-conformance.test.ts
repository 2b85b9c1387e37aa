import { describeAdapterConformance } from "plantwire/testing";
import { sampleValues, startFixture } from "./modbus-fixture.js";

await describeAdapterConformance("modbus (TCP, simulator)", async () => {
  const { simulator, drive, tags, setValue } = await startFixture();
  return {
    adapter: drive,
    tags,
    values: sampleValues,
    setValue,
    write: { name: "speed", value: 1234.5 },
    breakPeer: () => simulator.stop(),
    restorePeer: () => simulator.start(),
    dispose: () => simulator.close(),
    patienceMs: 3000,
  };
});
