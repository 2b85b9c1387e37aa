/**
 * The embedded default broker: aedes, started in-process on its own port, for the simulator, the examples and tests
 * when no broker is configured. aedes speaks MQTT 3.1.1 only; the adapter falls back to 3.1.1 on its own.
 */
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { Aedes, AedesOptions } from "aedes";
import { ConnectionError } from "../../src/errors.js";
import { loadOptionalDependency } from "../../src/optional-dependency.js";

/** The default port of the embedded broker (never 1883, which belongs to a real broker). */
export const DEFAULT_BROKER_PORT = 1884;

/** Options of {@link startBroker}. */
export interface BrokerOptions {
  /** TCP port; 0 picks a free one. @default 1884 */
  port?: number;
  /** Address to listen on. @default "127.0.0.1" */
  host?: string;
  /**
   * An aedes persistence to use. Pass the `persistence` of a stopped broker to restart it with its sessions,
   * subscriptions, retained messages and queued QoS 1 messages intact (in-process only).
   */
  persistence?: unknown;
  /** Serve MQTT over TLS (`mqtts://`) with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** A client of the embedded broker, as its events and hooks name it (a part of aedes's `Client`). */
export interface BrokerClient {
  readonly id: string;
}

/** A message as the embedded broker publishes and reports it (a part of aedes's publish packet). */
export interface BrokerPublishPacket {
  readonly cmd: "publish";
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly dup: boolean;
}

/**
 * The part of the aedes instance the escape hatch describes. It is described by shape, not imported from aedes, so
 * that the types of `plantwire/mqtt` never require aedes (an optional peer needed only to run the embedded broker);
 * for anything not named here, cast it to aedes's `Aedes`.
 */
export interface AedesBroker {
  /** Serves one client connection (a socket or a WebSocket stream). */
  handle(stream: Duplex): unknown;
  /** Publishes a message as the broker (retained messages for the simulator, for example). */
  publish(packet: BrokerPublishPacket, callback: (error?: Error) => void): void;
  on(event: "publish", listener: (packet: BrokerPublishPacket, client: BrokerClient | null) => void): this;
  on(
    event: "subscribe",
    listener: (subscriptions: { topic: string; qos: number }[], client: BrokerClient) => void,
  ): this;
  on(event: "client" | "clientReady" | "clientDisconnect", listener: (client: BrokerClient) => void): this;
  /** Decides whether a client may connect (aedes's authenticate hook). */
  authenticate: (
    client: BrokerClient,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: (Error & { returnCode: number }) | null, success: boolean | null) => void,
  ) => void;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** The port it listens on. */
  readonly port: number;
  /** The URL clients connect to, e.g. `mqtt://127.0.0.1:1884`. */
  readonly url: string;
  /** The aedes persistence, to hand to a restarted broker. */
  readonly persistence: unknown;
  /** The aedes instance (escape hatch). */
  readonly aedes: AedesBroker;
  /** Stops listening and drops every client. Safe to call twice. */
  close(): Promise<void>;
}

interface AedesModule {
  Aedes: { createBroker(options?: AedesOptions): Promise<Aedes> };
}

/**
 * aedes's default export is a migration warning, not the module, so `loadOptionalDependency` (which prefers the
 * default export) cannot be used here; this loads the namespace with the same "npm i aedes" error.
 */
function loadAedes(): Promise<AedesModule> {
  // aedes is ESM-only and its default export is only a migration warning: take the namespace.
  return loadOptionalDependency<AedesModule>("aedes", "The embedded MQTT broker", { namespace: true });
}

/** Starts an aedes broker in this process. */
export async function startBroker(options: BrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? "127.0.0.1";
  const module = await loadAedes();
  const brokerOptions: AedesOptions = {};
  if (options.persistence !== undefined) brokerOptions.persistence = options.persistence;
  const aedes = await module.Aedes.createBroker(brokerOptions);
  const sockets = new Set<net.Socket>();
  const accept = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    aedes.handle(socket);
  };
  const server = options.tls
    ? tls.createServer({ cert: options.tls.cert, key: options.tls.key }, accept)
    : net.createServer(accept);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => {
      // The broker's own timers would keep the process alive after a failed start.
      aedes.close();
      reject(
        new ConnectionError(`the embedded MQTT broker cannot listen on ${host}:${options.port}: ${error.message}`, {
          cause: error,
        }),
      );
    });
    server.listen(options.port ?? DEFAULT_BROKER_PORT, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `${options.tls ? "mqtts" : "mqtt"}://${host}:${port}`,
    persistence: (aedes as unknown as { persistence: unknown }).persistence,
    // aedes's own handler types name its full Client; the shape above names what plantwire's callers use.
    aedes: aedes as unknown as AedesBroker,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        aedes.close();
      });
      return closing;
    },
  };
}
