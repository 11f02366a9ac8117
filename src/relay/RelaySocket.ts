import { UnavailableError } from "../protocol/Errors.ts";

/** A Nostr event as carried by NIP-01 frames (fields already signature-checked by the relay). */
export type RelayEvent = {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
  sig: string;
};

/** A NIP-01 filter. */
export type RelayFilter = {
  ids?: string[];
  kinds?: number[];
  authors?: string[];
  since?: number;
  until?: number;
  limit?: number;
  [tag: `#${string}`]: string[] | undefined;
};

/** What opening a socket needs; the WebSocket constructor is passed in so tests and runtimes choose it. */
export type RelaySocketOptions = {
  /** Milliseconds allowed for the socket to open. */
  openTimeoutMs?: number;
  WebSocket?: typeof WebSocket;
};

type Waiter = {
  resolve: (frame: unknown[]) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

/**
 * One WebSocket to one Nostr relay with request/response helpers on top of NIP-01
 * frames: `query` (REQ … EOSE), `publish` (EVENT → OK) and `probe`, a liveness check
 * answered by the relay itself. Every call has a timeout, so a half-open socket
 * surfaces as an error instead of a hang. Used inside a merchant's Durable Object,
 * which may keep it open across requests.
 */
export class RelaySocket {
  readonly url: string;
  private readonly socket: WebSocket;
  private readonly waiters = new Map<string, Waiter>();
  private readonly collected = new Map<string, RelayEvent[]>();
  private nextId = 0;
  private closedReason: string | null = null;

  private constructor(url: string, socket: WebSocket) {
    this.url = url;
    this.socket = socket;
    socket.addEventListener("message", (msg) => this.onFrame(msg.data));
    socket.addEventListener("close", () => this.fail("relay closed the connection"));
    socket.addEventListener("error", () => this.fail("relay connection failed"));
  }

  /** Opens a socket to `url`; rejects with a 503 problem if it does not open in time. */
  static async open(url: string, options: RelaySocketOptions = {}): Promise<RelaySocket> {
    const Ctor = options.WebSocket ?? WebSocket;
    const socket = new Ctor(url);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.close();
        reject(relayUnavailable(url, "did not open in time"));
      }, options.openTimeoutMs ?? 5000);
      socket.addEventListener("open", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.addEventListener("error", () => {
        clearTimeout(timer);
        reject(relayUnavailable(url, "refused the connection"));
      });
    });
    return new RelaySocket(url, socket);
  }

  /** True until the socket closed or failed. */
  get isOpen(): boolean {
    return this.closedReason === null;
  }

  /** Runs a REQ and resolves with the stored events the relay sent before EOSE. */
  async query(filters: RelayFilter[], timeoutMs = 5000): Promise<RelayEvent[]> {
    const subId = `q${this.nextId++}`;
    this.collected.set(subId, []);
    try {
      const [verb, , reason] = await this.exchange(
        `EOSE:${subId}`,
        ["REQ", subId, ...filters],
        timeoutMs,
      );
      if (verb === "CLOSED")
        throw relayUnavailable(this.url, `refused the query (${String(reason)})`);
      return this.collected.get(subId) ?? [];
    } finally {
      this.collected.delete(subId);
      if (this.isOpen) this.socket.send(JSON.stringify(["CLOSE", subId]));
    }
  }

  /** Publishes an event and resolves with the relay's OK verdict and message. */
  async publish(
    event: RelayEvent,
    timeoutMs = 5000,
  ): Promise<{ accepted: boolean; message: string }> {
    const [, , accepted, message] = await this.exchange(
      `OK:${event.id}`,
      ["EVENT", event],
      timeoutMs,
    );
    return { accepted: accepted === true, message: typeof message === "string" ? message : "" };
  }

  /**
   * Liveness probe: a REQ that matches nothing, answered by EOSE from the relay's own
   * event loop. Resolves with the round-trip time in ms; rejects if it takes too long.
   */
  async probe(timeoutMs = 3000): Promise<number> {
    const started = Date.now();
    await this.query([{ ids: ["0".repeat(64)], limit: 1 }], timeoutMs);
    return Date.now() - started;
  }

  /** Closes the socket; pending calls fail. */
  close(): void {
    this.fail("socket closed by ln402");
    try {
      this.socket.close(1000, "bye");
    } catch {
      // Already closed.
    }
  }

  private exchange(key: string, frame: unknown[], timeoutMs: number): Promise<unknown[]> {
    if (this.closedReason !== null)
      return Promise.reject(relayUnavailable(this.url, this.closedReason));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(relayUnavailable(this.url, `did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, { resolve, reject, timer });
      this.socket.send(JSON.stringify(frame));
    });
  }

  private onFrame(data: unknown): void {
    if (typeof data !== "string") return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!Array.isArray(frame) || typeof frame[0] !== "string") return;
    const [verb, subOrId, payload] = frame as [string, unknown, unknown];
    if (verb === "EVENT" && typeof subOrId === "string") {
      if (isRelayEvent(payload)) this.collected.get(subOrId)?.push(payload);
      return;
    }
    const key =
      verb === "EOSE" || verb === "CLOSED"
        ? `EOSE:${String(subOrId)}`
        : `${verb}:${String(subOrId)}`;
    const waiter = this.waiters.get(key);
    if (!waiter) return;
    this.waiters.delete(key);
    clearTimeout(waiter.timer);
    waiter.resolve(frame);
  }

  private fail(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    for (const waiter of this.waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(relayUnavailable(this.url, reason));
    }
    this.waiters.clear();
  }
}

function relayUnavailable(url: string, reason: string): UnavailableError {
  const host = URL.canParse(url) ? new URL(url).host : "the relay";
  return new UnavailableError(
    "relay-unavailable",
    "Wallet relay unavailable",
    `Relay ${host} ${reason}.`,
  );
}

function isRelayEvent(value: unknown): value is RelayEvent {
  if (typeof value !== "object" || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.id === "string" &&
    typeof e.pubkey === "string" &&
    typeof e.sig === "string" &&
    typeof e.content === "string" &&
    typeof e.kind === "number" &&
    typeof e.created_at === "number" &&
    Array.isArray(e.tags)
  );
}
