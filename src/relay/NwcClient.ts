import { hexToBytes } from "@noble/hashes/utils.js";
import { getPublicKey } from "nostr-tools/pure";
import { type NwcConnection, redactRelay } from "../protocol/nip47/ConnectionString.ts";
import {
  getBalanceRequest,
  getInfoRequest,
  type LookupInvoiceArgs,
  lookupInvoiceRequest,
  type MakeInvoiceArgs,
  makeInvoiceRequest,
  type NwcMethod,
  type NwcNotification,
  type NwcPayResult,
  type NwcResult,
  type NwcTransaction,
  type PayInvoiceArgs,
  parseNotification,
  parseResponse,
  parseResult,
  payInvoiceRequest,
} from "../protocol/nip47/Messages.ts";
import {
  connectionDown,
  isSigned,
  KIND,
  type NwcCipher,
  type NwcInfo,
  noAck,
  nwcCipher,
  readWalletInfo,
  relayRefused,
  signRequest,
  walletTimeout,
} from "./NwcWallet.ts";
import { type RelayEvent, RelaySocket } from "./RelaySocket.ts";

export type { NwcInfo } from "./NwcWallet.ts";

/** Options of `NwcClient.connect`. */
export type NwcClientOptions = {
  /** Default time a request may take, publish to answer. Default 8000: fits inside an HTTP request. */
  requestTimeoutMs?: number;
  /** Time allowed for the relay socket to open. Default 4000. */
  openTimeoutMs?: number;
  WebSocket?: typeof WebSocket;
  /** Receives the wallet's notifications (NIP-47 §notifications); must not throw. */
  onNotification?: (notification: NwcNotification) => void;
  /** Called once when the client dies without `close()`: the owner reconnects if it wants to. */
  onClose?: (reason: string) => void;
};

/** Per-call options. */
export type CallOptions = { timeoutMs?: number };

type Pending = {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  /** The relay accepted the request event: silence after this is the wallet's. */
  acked: boolean;
};

/**
 * The NIP-47 (Nostr Wallet Connect) client ln402 runs inside a merchant's Durable
 * Object, over one `RelaySocket`. Not @getalby/sdk's NWCClient, because that one has
 * fixed 10–60 s reply timeouts with no per-call option, waits out the reply timeout
 * when a publish goes to a dead relay, never pings (half-open sockets go unnoticed),
 * opens a subscription per request (an extra round trip each), and takes its WebSocket
 * only from the global. Here: per-call timeouts of seconds; calls fail at once when the
 * socket is dead; ONE subscription, opened before anything is published (responses are
 * ephemeral, NIP-47 §events), routes responses to requests by their `e` tag and carries
 * notifications; `probe` checks liveness; the owner hears of death through `onClose`
 * and decides about reconnecting. Every incoming event must be signed by the wallet.
 */
export class NwcClient {
  readonly info: NwcInfo;
  readonly walletPubkey: string;
  readonly clientPubkey: string;
  readonly relayUrl: string;
  readonly #socket: RelaySocket;
  readonly #secretKey: Uint8Array;
  readonly #cipher: NwcCipher;
  readonly #options: NwcClientOptions;
  readonly #pending = new Map<string, Pending>();
  #closedReason: string | null = null;

  private constructor(
    socket: RelaySocket,
    conn: NwcConnection,
    info: NwcInfo,
    options: NwcClientOptions,
  ) {
    this.#socket = socket;
    this.#secretKey = hexToBytes(conn.secret);
    this.#cipher = nwcCipher(this.#secretKey, conn.walletPubkey, info.encryption);
    this.#options = options;
    this.info = info;
    this.walletPubkey = conn.walletPubkey;
    this.clientPubkey = getPublicKey(this.#secretKey);
    // Named in errors, which can reach API clients: without the URL's query (auth tokens).
    this.relayUrl = redactRelay(socket.url);
  }

  /**
   * Opens the socket to the first relay that works, reads the wallet's info event
   * (methods, encryptions, notifications), picks NIP-44 v2 when offered else NIP-04,
   * and opens the one subscription. Rejects with the last relay's problem.
   */
  static async connect(conn: NwcConnection, options: NwcClientOptions = {}): Promise<NwcClient> {
    let lastError: unknown = connectionDown("the connection names no relay");
    for (const url of conn.relays) {
      try {
        return await NwcClient.#connectVia(url, conn, options);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  static async #connectVia(url: string, conn: NwcConnection, options: NwcClientOptions) {
    // Until connect resolves, a dying socket surfaces as connect's rejection, not onClose.
    let client: NwcClient | null = null;
    const socket = await RelaySocket.open(url, {
      openTimeoutMs: options.openTimeoutMs ?? 4000,
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
      onClose: (reason) => {
        if (client) client.#die(reason);
      },
    });
    try {
      const timeoutMs = options.requestTimeoutMs ?? 8000;
      const info = await readWalletInfo(socket, conn.walletPubkey, timeoutMs);
      const connecting = new NwcClient(socket, conn, info, options);
      await connecting.#listen(timeoutMs);
      client = connecting;
      return client;
    } catch (err) {
      socket.close();
      throw err;
    }
  }

  /** True while the socket is up and the subscription live. */
  get isOpen(): boolean {
    return this.#closedReason === null && this.#socket.isOpen;
  }

  /**
   * Sends one NIP-47 request and resolves with its untyped `result`. A wallet error
   * rejects with `NwcWalletError`; silence with 503 `wallet-timeout`; a dead socket
   * rejects at once with 503 `relay-unavailable`.
   */
  request(
    method: string,
    params: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<unknown> {
    if (this.#closedReason !== null) return Promise.reject(connectionDown(this.#closedReason));
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? 8000;
    const plaintext = JSON.stringify({ method, params });
    const event = signRequest(this.#cipher.encrypt(plaintext), this, this.#secretKey, timeoutMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = pending.acked ? walletTimeout(method, timeoutMs) : noAck(this.relayUrl);
        this.#settle(event.id, { error });
      }, timeoutMs);
      const pending: Pending = { method, resolve, reject, timer, acked: false };
      // Registered before publishing: the answer may overtake the relay's OK.
      this.#pending.set(event.id, pending);
      // The publish gets a longer budget than the request, so the timer above decides
      // which of relay and wallet stayed silent.
      this.#socket.publish(event, timeoutMs + 1000).then(
        ({ accepted, message }) => {
          if (accepted) pending.acked = true;
          else this.#settle(event.id, { error: relayRefused(this.relayUrl, message) });
        },
        (error: Error) => this.#settle(event.id, { error }),
      );
    });
  }

  /** get_info: the wallet's own description (network, node pubkey, methods). */
  async getInfo(options?: CallOptions): Promise<NwcResult<"get_info">> {
    return this.#call(getInfoRequest(), "get_info", options);
  }

  /** make_invoice: a BOLT11 invoice for `amountMsat`, as a NIP-47 transaction. */
  async makeInvoice(args: MakeInvoiceArgs, options?: CallOptions): Promise<NwcTransaction> {
    return this.#call(makeInvoiceRequest(args), "make_invoice", options);
  }

  /** lookup_invoice by payment hash or invoice; settled ones carry `preimage`. */
  async lookupInvoice(args: LookupInvoiceArgs, options?: CallOptions): Promise<NwcTransaction> {
    return this.#call(lookupInvoiceRequest(args), "lookup_invoice", options);
  }

  /** pay_invoice: resolves with the preimage once paid. */
  async payInvoice(args: PayInvoiceArgs, options?: CallOptions): Promise<NwcPayResult> {
    return this.#call(payInvoiceRequest(args), "pay_invoice", options);
  }

  /** get_balance, in msat. */
  async getBalance(options?: CallOptions): Promise<NwcResult<"get_balance">> {
    return this.#call(getBalanceRequest(), "get_balance", options);
  }

  /**
   * Relay round trip in ms; rejects with 503 `relay-unavailable` when the relay stays
   * silent (a half-open socket). The owner then closes this client and opens another.
   */
  probe(timeoutMs = 3000): Promise<number> {
    if (this.#closedReason !== null) return Promise.reject(connectionDown(this.#closedReason));
    return this.#socket.probe(timeoutMs);
  }

  /** Closes the socket; pending calls reject and `onClose` is not called. */
  close(): void {
    this.#end("the client was closed");
    this.#socket.close();
  }

  async #call<M extends NwcMethod>(
    request: { method: NwcMethod; params: Record<string, unknown> },
    method: M,
    options?: CallOptions,
  ): Promise<NwcResult<M>> {
    return parseResult(method, await this.request(request.method, request.params, options));
  }

  async #listen(timeoutMs: number): Promise<void> {
    const kinds: number[] = [KIND.response];
    if (this.#options.onNotification)
      kinds.push(this.info.encryption === "nip44_v2" ? KIND.nip44Note : KIND.nip04Note);
    const filter = { kinds, authors: [this.walletPubkey], "#p": [this.clientPubkey] };
    await this.#socket.subscribe(
      [filter],
      {
        onEvent: (event) => this.#onEvent(event),
        onClosed: (reason) => this.#die(`Relay ${this.relayUrl} ended the subscription: ${reason}`),
      },
      timeoutMs,
    );
  }

  #onEvent(event: RelayEvent): void {
    // The relay filtered by author, but relays are not trusted: check who signed.
    if (event.pubkey !== this.walletPubkey || !isSigned(event)) return;
    if (event.kind === KIND.response) {
      const requestId = event.tags.find((t) => t[0] === "e")?.[1];
      const pending = requestId === undefined ? undefined : this.#pending.get(requestId);
      if (requestId === undefined || pending === undefined) return; // late, or another client's
      try {
        const plaintext = this.#cipher.decrypt(event.content, `${pending.method} response`);
        const parsed = parseResponse(plaintext, pending.method);
        this.#settle(requestId, parsed.ok ? { result: parsed.result } : { error: parsed.error });
      } catch (err) {
        this.#settle(requestId, { error: err instanceof Error ? err : new Error(String(err)) });
      }
    } else if (event.kind === KIND.nip44Note || event.kind === KIND.nip04Note) {
      let notification: NwcNotification | null;
      try {
        notification = parseNotification(this.#cipher.decrypt(event.content, "notification"));
      } catch {
        return; // A garbled notification is dropped: lookup_invoice stays authoritative.
      }
      if (notification) this.#options.onNotification?.(notification);
    }
  }

  #settle(requestId: string, outcome: { error: Error } | { result: unknown }): void {
    const pending = this.#pending.get(requestId);
    if (!pending) return;
    this.#pending.delete(requestId);
    clearTimeout(pending.timer);
    if ("error" in outcome) pending.reject(outcome.error);
    else pending.resolve(outcome.result);
  }

  /** Rejects every pending call; later calls fail at once. */
  #end(reason: string): boolean {
    if (this.#closedReason !== null) return false;
    this.#closedReason = reason;
    for (const id of [...this.#pending.keys()]) this.#settle(id, { error: connectionDown(reason) });
    return true;
  }

  #die(reason: string): void {
    if (!this.#end(reason)) return;
    this.#socket.close();
    this.#options.onClose?.(reason);
  }
}
