import { UnavailableError } from "../protocol/Errors.ts";

/** A Nostr event as carried by NIP-01 frames (shape-checked here; signatures are the caller's job). */
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
  /**
   * Called once when the socket dies on its own (the relay closed it, or the network
   * failed), with the reason. Not called after `close()`.
   */
  onClose?: (reason: string) => void;
};

/** Receives a persistent subscription's events, and its end if the relay ends it. */
export type SubscriptionHandlers = {
  onEvent: (event: RelayEvent) => void;
  /** The relay closed the subscription (NIP-01 `CLOSED`) after it was live. */
  onClosed?: (reason: string) => void;
};

/** A relay's NIP-01 `OK` answer to a published event. */
export type PublishResult = { accepted: boolean; message: string };

type Waiter = {
  resolve: (frame: unknown[]) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

/** The runtime has no WebSocket (Node before 22): no relay can be tried, and it is not the relay's fault. */
export class NoWebSocketError extends Error {
  constructor() {
    super(
      "No WebSocket implementation: NWC needs a global WebSocket (Node 22 or newer, Deno, Bun, Workers, browsers) or the `WebSocket` option (e.g. the `ws` package's WebSocket).",
    );
    this.name = "NoWebSocketError";
  }
}

/**
 * One WebSocket to one Nostr relay with request/response helpers on top of NIP-01
 * frames: `query` (REQ … EOSE), `publish` (EVENT → OK), `subscribe` (a REQ kept open,
 * events delivered as they come) and `probe`, a liveness check answered by the relay
 * itself. Every call has a timeout, so a half-open socket surfaces as an error instead
 * of a hang; the owner learns of a dead socket through `onClose`. Used inside a
 * merchant's Durable Object, which may keep it open across requests.
 */
export class RelaySocket {
  readonly url: string;
  private readonly socket: WebSocket;
  private readonly onClose: ((reason: string) => void) | undefined;
  private readonly waiters = new Map<string, Waiter>();
  private readonly collected = new Map<string, RelayEvent[]>();
  private readonly subscriptions = new Map<string, SubscriptionHandlers>();
  private nextId = 0;
  private closedReason: string | null = null;

  private constructor(url: string, socket: WebSocket, options: RelaySocketOptions) {
    this.url = url;
    this.socket = socket;
    this.onClose = options.onClose;
    socket.addEventListener("message", (msg) => this.onFrame(msg.data));
    socket.addEventListener("close", () => this.fail("closed the connection", true));
    socket.addEventListener("error", () => this.fail("connection failed", true));
  }

  /** Opens a socket to `url`; rejects with a 503 problem if it does not open in time. */
  static async open(url: string, options: RelaySocketOptions = {}): Promise<RelaySocket> {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (Ctor === undefined) {
      // Node before 22 has no global WebSocket; without this the failure reads as an
      // unreachable relay, which sends people looking in the wrong place.
      throw new NoWebSocketError();
    }
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
      socket.addEventListener("error", (event) => {
        clearTimeout(timer);
        reject(relayUnavailable(url, openFailure(event)));
      });
    });
    return new RelaySocket(url, socket, options);
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
      await this.req(subId, filters, timeoutMs, "query");
      return this.collected.get(subId) ?? [];
    } finally {
      this.collected.delete(subId);
      this.send(["CLOSE", subId]);
    }
  }

  /**
   * Opens a subscription that stays open: every matching event goes to `onEvent` until
   * `unsubscribe`. Resolves with its id once the relay has sent EOSE, i.e. once the
   * relay holds the subscription, so ephemeral events published after that reach it.
   */
  async subscribe(
    filters: RelayFilter[],
    handlers: SubscriptionHandlers,
    timeoutMs = 5000,
  ): Promise<string> {
    const subId = `s${this.nextId++}`;
    this.subscriptions.set(subId, handlers);
    try {
      await this.req(subId, filters, timeoutMs, "subscription");
      return subId;
    } catch (err) {
      this.unsubscribe(subId);
      throw err;
    }
  }

  /** Ends a subscription opened with `subscribe` (NIP-01 CLOSE); unknown ids are ignored. */
  unsubscribe(subId: string): void {
    if (this.subscriptions.delete(subId)) this.send(["CLOSE", subId]);
  }

  /** Publishes an event and resolves with the relay's OK verdict and message. */
  async publish(event: RelayEvent, timeoutMs = 5000): Promise<PublishResult> {
    const [, , ok, message] = await this.exchange(`OK:${event.id}`, ["EVENT", event], timeoutMs);
    return { accepted: ok === true, message: typeof message === "string" ? message : "" };
  }

  /**
   * Liveness probe: a REQ that matches nothing, answered by EOSE from the relay's own
   * event loop. Resolves with the round-trip time in ms; rejects if it takes too long.
   * What a failed probe means (close, reconnect) is the owner's decision.
   */
  async probe(timeoutMs = 3000): Promise<number> {
    const started = Date.now();
    await this.query([{ ids: ["0".repeat(64)], limit: 1 }], timeoutMs);
    return Date.now() - started;
  }

  /** Closes the socket; pending calls fail and `onClose` is not called. */
  close(): void {
    this.fail("socket closed by ln402", false);
  }

  /** Sends a REQ and waits for its EOSE; a CLOSED instead is a refusal. */
  private async req(
    subId: string,
    filters: RelayFilter[],
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    const frame = ["REQ", subId, ...filters];
    const [verb, , reason] = await this.exchange(`EOSE:${subId}`, frame, timeoutMs);
    if (verb === "CLOSED")
      throw relayUnavailable(this.url, `refused the ${what} (${String(reason)})`);
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
      this.send(frame);
    });
  }

  /** Sends a frame if the socket is open; a send that throws means the socket is gone. */
  private send(frame: unknown[]): void {
    if (this.closedReason !== null) return;
    try {
      this.socket.send(JSON.stringify(frame));
    } catch {
      this.fail("connection failed", true);
    }
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
      if (!isRelayEvent(payload)) return;
      const collected = this.collected.get(subOrId);
      if (collected) collected.push(payload);
      else this.subscriptions.get(subOrId)?.onEvent(payload);
      return;
    }
    const key =
      verb === "EOSE" || verb === "CLOSED"
        ? `EOSE:${String(subOrId)}`
        : `${verb}:${String(subOrId)}`;
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
      return;
    }
    if (verb === "CLOSED" && typeof subOrId === "string") {
      const handlers = this.subscriptions.get(subOrId);
      this.subscriptions.delete(subOrId);
      handlers?.onClosed?.(typeof payload === "string" ? payload : "");
    }
  }

  /** Marks the socket dead once: pending calls reject, the socket closes, the owner hears. */
  private fail(reason: string, notify: boolean): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    for (const waiter of this.waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(relayUnavailable(this.url, reason));
    }
    this.waiters.clear();
    this.subscriptions.clear();
    try {
      this.socket.close(1000, "bye");
    } catch {
      // Already closed.
    }
    if (notify) this.onClose?.(`Relay ${hostOf(this.url)} ${reason}`);
  }
}

/**
 * Why a socket failed to open, as far as it can be told. A name that does not resolve
 * is said so; refused, unreachable and TLS failures are one answer, so that a relay URL
 * (attacker input at registration) cannot be used to learn which ports are open.
 */
function openFailure(event: Event): string {
  const error = (event as { error?: unknown }).error;
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const text = `${error instanceof Error ? error.message : ""} ${String(cause?.code ?? "")}`;
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo|DNS/i.test(text))
    return "could not be found (its host name does not resolve)";
  return "could not be connected to (refused, unreachable, or the TLS handshake failed)";
}

function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : "the relay";
}

function relayUnavailable(url: string, reason: string): UnavailableError {
  return new UnavailableError(
    "relay-unavailable",
    "Wallet relay unavailable",
    `Relay ${hostOf(url)} ${reason}.`,
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
    Number.isSafeInteger(e.kind) &&
    Number.isSafeInteger(e.created_at) &&
    Array.isArray(e.tags) &&
    e.tags.every((tag) => Array.isArray(tag) && tag.every((item) => typeof item === "string"))
  );
}
