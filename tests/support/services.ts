/**
 * Which loopback services (PostgreSQL, MariaDB, Mosquitto) this machine has. Tests that need one skip with a one-line
 * reason when it is absent, unless PLANTWIRE_REQUIRE_SERVICES=1 (set by CI), where a missing service fails the run.
 */
import net from "node:net";

/** The loopback services tests may use. Only loopback addresses, ever. */
export const services = {
  postgres: { host: "127.0.0.1", port: 5432, url: "postgres://postgres@127.0.0.1:5432/test" },
  mariadb: { host: "127.0.0.1", port: 3306, url: "mysql://root@127.0.0.1:3306/test" },
  mosquitto: { host: "127.0.0.1", port: 1883, url: "mqtt://127.0.0.1:1883" },
} as const;

/** The name of a loopback service. */
export type ServiceName = keyof typeof services;

/** True when PLANTWIRE_REQUIRE_SERVICES=1: missing services must fail, not skip. */
export const servicesRequired = process.env.PLANTWIRE_REQUIRE_SERVICES === "1";

/** True when something accepts TCP connections at the service's loopback port. */
export async function isServiceUp(name: ServiceName, timeoutMs = 1000): Promise<boolean> {
  const { host, port } = services[name];
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Decides whether a service-backed suite runs. Returns the reason to skip (print it with `describe.skipIf`), or
 * undefined to run. Throws when the service is missing and PLANTWIRE_REQUIRE_SERVICES=1.
 */
export async function serviceSkipReason(name: ServiceName): Promise<string | undefined> {
  if (await isServiceUp(name)) return undefined;
  const { host, port } = services[name];
  const reason = `${name} is not running on ${host}:${port}`;
  if (servicesRequired) throw new Error(`${reason}, and PLANTWIRE_REQUIRE_SERVICES=1 requires it`);
  return `${reason}: skipping (set PLANTWIRE_REQUIRE_SERVICES=1 to make this fail)`;
}
