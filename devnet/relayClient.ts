import type { Filter } from "nostr-tools/filter";
import type { NostrEvent } from "nostr-tools/pure";
import WebSocket from "ws";

/** A relay connection that stays up: it reconnects with backoff and resubscribes. */
export type RelayLink = {
  /** Publishes an event; resolves to the relay's OK verdict, false on timeout or when offline. */
  publish(event: NostrEvent, timeoutMs?: number): Promise<boolean>;
  /** Resolves once the subscription is live (its EOSE arrived) on the current socket. */
  ready(): Promise<void>;
  close(): void;
};

/**
 * Opens a link to `url` holding one subscription (`filters`), delivering each event to
 * `onEvent`. Used by the devnet wallet services, which must keep listening through
 * relay restarts as real wallet services do. Reconnects 50 ms → 1 s, doubling.
 */
export function openRelayLink(
  url: string,
  filters: Filter[],
  onEvent: (event: NostrEvent) => void,
): RelayLink {
  const subId = `sub-${Math.random().toString(36).slice(2, 10)}`;
  const pendingOks = new Map<string, (ok: boolean) => void>();
  let socket: WebSocket | null = null;
  let closed = false;
  let backoffMs = 50;
  let live: { promise: Promise<void>; resolve: () => void } = deferred();

  const connect = () => {
    if (closed) return;
    const ws = new WebSocket(url);
    socket = ws;
    ws.on("open", () => {
      backoffMs = 50;
      ws.send(JSON.stringify(["REQ", subId, ...filters]));
    });
    ws.on("message", (data) => {
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (!Array.isArray(message)) return;
      const [verb, a, b] = message as [unknown, unknown, unknown];
      if (verb === "EVENT" && a === subId && isEvent(b)) onEvent(b);
      else if (verb === "EOSE" && a === subId) live.resolve();
      else if (verb === "OK" && typeof a === "string") {
        pendingOks.get(a)?.(b === true);
        pendingOks.delete(a);
      }
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      if (socket === ws) socket = null;
      live = deferred();
      for (const settle of pendingOks.values()) settle(false);
      pendingOks.clear();
      if (closed) return;
      setTimeout(connect, backoffMs).unref();
      backoffMs = Math.min(backoffMs * 2, 1000);
    });
  };
  connect();

  return {
    publish(event, timeoutMs = 5000) {
      const ws = socket;
      if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          pendingOks.delete(event.id);
          resolve(false);
        }, timeoutMs);
        timer.unref();
        pendingOks.set(event.id, (ok) => {
          clearTimeout(timer);
          resolve(ok);
        });
        ws.send(JSON.stringify(["EVENT", event]));
      });
    },
    ready: () => live.promise,
    close() {
      closed = true;
      socket?.terminate();
      socket = null;
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function isEvent(value: unknown): value is NostrEvent {
  return typeof value === "object" && value !== null && "id" in value && "content" in value;
}
