/**
 * The event stream of `plantwire serve` (GET /api/events, server-sent events): samples, proposals, loops, adapters
 * and audit records as they happen, with a keep-alive comment every 15 s. A client whose session has ended (logout,
 * idle, user removed) is dropped at the next keep-alive; a client that stops reading is dropped before it can make the
 * server hold much for it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServeEvents } from "./api-types.js";

/** Connected event-stream clients. */
export interface EventHub {
  /**
   * Starts a stream on `response`; `allowed` is asked at each keep-alive whether the person may still read. At most
   * {@link maxStreamsPerOwner} streams per `owner` (the person): beyond it the answer is 429 and false is returned.
   */
  add(request: IncomingMessage, response: ServerResponse, allowed: () => boolean, owner?: string): boolean;
  send<K extends keyof ServeEvents>(event: K, data: ServeEvents[K]): void;
  /** How many clients are connected. */
  readonly size: number;
  /** Ends every stream. */
  close(): void;
}

interface Client {
  readonly response: ServerResponse;
  readonly allowed: () => boolean;
  readonly owner: string | undefined;
}

/** Most bytes a slow client may have waiting before it is dropped. */
const maxBuffered = 1024 * 1024;

/** Streams one person may hold at once (a console tab each); more would let one token pin memory at will. */
export const maxStreamsPerOwner = 8;

/** Creates the hub. @param keepAliveMs the keep-alive period, 15 s by default */
export function createEventHub(keepAliveMs = 15_000): EventHub {
  const clients = new Set<Client>();
  const drop = (client: Client) => {
    clients.delete(client);
    if (!client.response.writableEnded) client.response.end();
  };
  const write = (client: Client, text: string) => {
    if (client.response.writableLength > maxBuffered) {
      // Ending would leave what is buffered waiting on a client that does not read, for as long as it keeps the
      // connection open: the socket is destroyed, so its memory goes with it.
      clients.delete(client);
      client.response.destroy();
      return;
    }
    client.response.write(text);
  };
  const timer = setInterval(() => {
    for (const client of [...clients]) {
      if (!client.allowed()) drop(client);
      else write(client, ": keep-alive\n\n");
    }
  }, keepAliveMs);
  timer.unref();
  return {
    add(request, response, allowed, owner) {
      if (owner !== undefined && [...clients].filter((client) => client.owner === owner).length >= maxStreamsPerOwner) {
        response.writeHead(429, { "content-type": "application/json; charset=utf-8", "retry-after": "15" });
        response.end(
          JSON.stringify({
            error: `${owner} already has ${maxStreamsPerOwner} event streams open`,
            code: "too-many-streams",
            fix: "close other console tabs or clients of this person",
          }),
        );
        return false;
      }
      response.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      // The page re-fetches what it shows when it reconnects, so a short retry loses nothing.
      response.write("retry: 3000\n\n");
      const client = { response, allowed, owner };
      clients.add(client);
      request.on("close", () => clients.delete(client));
      return true;
    },
    send(event, data) {
      if (clients.size === 0) return;
      // JSON never holds a raw newline, so one data line carries the whole event.
      const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      for (const client of [...clients]) write(client, text);
    },
    get size() {
      return clients.size;
    },
    close() {
      clearInterval(timer);
      for (const client of [...clients]) drop(client);
    },
  };
}
