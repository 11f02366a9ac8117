import type { AddressInfo } from "node:net";
import type { Filter } from "nostr-tools/filter";
import { matchFilters } from "nostr-tools/filter";
import { isAddressableKind, isEphemeralKind, isReplaceableKind } from "nostr-tools/kinds";
import type { NostrEvent } from "nostr-tools/pure";
import { verifyEvent } from "nostr-tools/pure";
import { type WebSocket, WebSocketServer } from "ws";

/** Options of the devnet relay. */
export type RelayOptions = {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Largest accepted message in bytes (NIP-11 `max_message_length`). */
  maxMessageBytes?: number;
};

/** Fault controls: each simulates something real relays do to their clients. */
export type RelayFaults = {
  /** Closes every client connection abruptly (as a relay restart does). */
  dropAll(): void;
  /**
   * Stops answering while keeping sockets open: no OK, EOSE, events or pongs
   * (a half-open TCP connection, as after a NAT or load-balancer timeout).
   */
  setHalfOpen(on: boolean): void;
  /** Delays the handling of every incoming message by `ms`. */
  setDelay(ms: number): void;
  /** Answers every EVENT with `OK false` and this reason; `null` accepts again. */
  refusePublishes(reason: string | null): void;
  /**
   * Simulates network distance: every frame takes `ms` each way, and opening a
   * connection takes three round trips more (TCP, TLS 1.3, WebSocket upgrade).
   */
  setLatency(ms: number): void;
};

/** A running devnet relay. */
export type DevnetRelay = {
  url: string;
  port: number;
  faults: RelayFaults;
  /** Number of open client connections (for leak checks in tests). */
  connectionCount(): number;
  /**
   * How many live subscriptions would receive an event like `probe`; tests wait on it
   * before publishing ephemeral events, which reach only subscribers already listening.
   */
  subscribersFor(probe: Pick<NostrEvent, "kind" | "pubkey" | "tags">): number;
  stop(): Promise<void>;
};

type Subscription = { id: string; filters: Filter[] };
type Client = { socket: WebSocket; subs: Map<string, Subscription> };

/**
 * Starts a NIP-01 relay on 127.0.0.1. Events are signature-checked; replaceable and
 * addressable kinds keep only the latest version; ephemeral kinds (20000–29999, which
 * carry every NIP-47 request, response and notification) are fanned out, never stored.
 */
export async function startRelay(options: RelayOptions = {}): Promise<DevnetRelay> {
  const maxMessageBytes = options.maxMessageBytes ?? 256 * 1024;
  // autoPong off: pongs are sent by hand so a half-open relay can withhold them.
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port: options.port ?? 0,
    maxPayload: maxMessageBytes,
    autoPong: false,
    // Connection set-up under simulated latency: the handshakes before the upgrade.
    verifyClient: (_info, accept) => {
      if (latencyMs > 0) setTimeout(() => accept(true), 6 * latencyMs).unref();
      else accept(true);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;

  const stored = new Map<string, NostrEvent>();
  const clients = new Set<Client>();
  let halfOpen = false;
  let delayMs = 0;
  let refusal: string | null = null;
  let latencyMs = 0;

  const sendNow = (client: Client, frame: string) => {
    if (client.socket.readyState === client.socket.OPEN) client.socket.send(frame);
  };
  // Equal delays keep frames in order (timers of equal duration fire first-in, first-out).
  const send = (client: Client, message: unknown[]) => {
    const frame = JSON.stringify(message);
    if (latencyMs > 0) setTimeout(() => sendNow(client, frame), latencyMs).unref();
    else sendNow(client, frame);
  };

  const storageKey = (event: NostrEvent): string | null => {
    if (isEphemeralKind(event.kind)) return null;
    if (isReplaceableKind(event.kind)) return `${event.kind}:${event.pubkey}`;
    if (isAddressableKind(event.kind)) {
      const d = event.tags.find((tag) => tag[0] === "d")?.[1] ?? "";
      return `${event.kind}:${event.pubkey}:${d}`;
    }
    return event.id;
  };

  const handleEvent = (client: Client, event: unknown) => {
    if (!isEventShape(event) || !verifyEvent(event)) {
      const id = isRecord(event) && typeof event.id === "string" ? event.id : "";
      send(client, ["OK", id, false, "invalid: bad event id or signature"]);
      return;
    }
    if (refusal !== null) {
      send(client, ["OK", event.id, false, `blocked: ${refusal}`]);
      return;
    }
    const key = storageKey(event);
    if (key !== null) {
      const previous = stored.get(key);
      if (previous?.id === event.id) {
        send(client, ["OK", event.id, true, "duplicate: already have this event"]);
        return;
      }
      // NIP-01: for replaceable events keep the newest; ties go to the lowest id.
      if (
        previous &&
        (previous.created_at > event.created_at ||
          (previous.created_at === event.created_at && previous.id < event.id))
      ) {
        send(client, ["OK", event.id, true, "duplicate: have a newer version"]);
        return;
      }
      stored.set(key, event);
    }
    send(client, ["OK", event.id, true, ""]);
    for (const other of clients) {
      for (const sub of other.subs.values()) {
        if (matchFilters(sub.filters, event)) send(other, ["EVENT", sub.id, event]);
      }
    }
  };

  const handleReq = (client: Client, subId: unknown, filters: unknown[]) => {
    if (typeof subId !== "string" || subId.length === 0 || subId.length > 64) {
      send(client, ["NOTICE", "invalid: subscription id must be a 1–64 character string"]);
      return;
    }
    if (filters.length === 0 || !filters.every(isRecord)) {
      send(client, ["CLOSED", subId, "invalid: REQ needs at least one filter object"]);
      return;
    }
    const sub: Subscription = { id: subId, filters: filters as Filter[] };
    client.subs.set(subId, sub);
    const limit = Math.min(
      ...sub.filters.map((f) => (typeof f.limit === "number" ? f.limit : 500)),
    );
    const matches = [...stored.values()]
      .filter((event) => matchFilters(sub.filters, event))
      .sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id))
      .slice(0, limit);
    for (const event of matches) send(client, ["EVENT", subId, event]);
    send(client, ["EOSE", subId]);
  };

  const handleMessage = (client: Client, raw: string) => {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      send(client, ["NOTICE", "invalid: message is not JSON"]);
      return;
    }
    if (!Array.isArray(message) || typeof message[0] !== "string") {
      send(client, ["NOTICE", "invalid: message must be a JSON array starting with a verb"]);
      return;
    }
    const [verb, ...rest] = message;
    if (verb === "EVENT") handleEvent(client, rest[0]);
    else if (verb === "REQ") handleReq(client, rest[0], rest.slice(1));
    else if (verb === "CLOSE" && typeof rest[0] === "string") client.subs.delete(rest[0]);
    else send(client, ["NOTICE", `invalid: unsupported verb ${String(verb).slice(0, 16)}`]);
  };

  server.on("connection", (socket) => {
    const client: Client = { socket, subs: new Map() };
    clients.add(client);
    socket.on("message", (data, isBinary) => {
      if (halfOpen || isBinary) return;
      const raw = data.toString();
      const wait = delayMs + latencyMs;
      if (wait > 0) {
        setTimeout(() => {
          if (!halfOpen) handleMessage(client, raw);
        }, wait).unref();
      } else handleMessage(client, raw);
    });
    socket.on("ping", (payload) => {
      if (!halfOpen) socket.pong(payload);
    });
    socket.on("close", () => clients.delete(client));
    socket.on("error", () => socket.terminate());
  });

  const faults: RelayFaults = {
    dropAll() {
      for (const client of clients) client.socket.terminate();
      clients.clear();
    },
    setHalfOpen(on) {
      halfOpen = on;
    },
    setDelay(ms) {
      delayMs = Math.max(0, ms);
    },
    refusePublishes(reason) {
      refusal = reason;
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
  };

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    faults,
    connectionCount: () => clients.size,
    subscribersFor(probe) {
      const event = {
        ...probe,
        id: "0".repeat(64),
        sig: "",
        content: "",
        created_at: Math.floor(Date.now() / 1000),
      };
      let count = 0;
      for (const client of clients) {
        for (const sub of client.subs.values()) if (matchFilters(sub.filters, event)) count++;
      }
      return count;
    },
    async stop() {
      faults.dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Shape check before `verifyEvent`, which assumes well-typed fields. */
function isEventShape(value: unknown): value is NostrEvent {
  return (
    isRecord(value) &&
    typeof value.id === "string" &&
    typeof value.pubkey === "string" &&
    typeof value.sig === "string" &&
    typeof value.content === "string" &&
    Number.isSafeInteger(value.kind) &&
    Number.isSafeInteger(value.created_at) &&
    Array.isArray(value.tags) &&
    value.tags.every((tag) => Array.isArray(tag) && tag.every((item) => typeof item === "string"))
  );
}
