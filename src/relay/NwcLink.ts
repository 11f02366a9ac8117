import { UnavailableError } from "../protocol/Errors.ts";
import type { NwcClient } from "./NwcClient.ts";

/** What the merchant page shows about the wallet connection. Times are unix ms. */
export type LinkStatus = {
  connected: boolean;
  since: number | null;
  lastPingAt: number | null;
  lastPingMs: number | null;
  reconnects: number;
  lastError: string | null;
  retryAt: number | null;
};

/** How the link opens a connection; given by its owner, which holds the secret. */
export type LinkDeps = {
  open(onClose: (reason: string) => void): Promise<NwcClient>;
  now(): number;
  /** Called after every successful (re)connection, e.g. to reconcile pending invoices. */
  onConnected?(client: NwcClient, isReconnect: boolean): void;
  /**
   * Back off after a failed open (default true): callers then fail fast with a 503 and
   * `Retry-After` until the next attempt is due. Off, every call tries at once.
   */
  backoff?: boolean;
};

function initialState(): Omit<LinkStatus, "connected"> {
  return {
    since: null,
    lastPingAt: null,
    lastPingMs: null,
    reconnects: 0,
    lastError: null,
    retryAt: null,
  };
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/**
 * The one holder of an NWC wallet connection, used by the merchant's Durable Object,
 * `NwcLightningProvider` and `nwcPayer` alike: opened on demand, shared by every call,
 * replaced when it dies. Failed opens back off exponentially with jitter; while backing
 * off, callers fail fast with a 503 and `Retry-After` instead of hanging (the DO's alarm
 * makes the next attempt). Single-threaded code: no locks needed, only one open at a
 * time (concurrent callers share its promise). A connection that finishes opening after
 * `close()` is closed at once and never handed out.
 */
export class NwcLink {
  private readonly deps: LinkDeps;
  private current: NwcClient | null = null;
  private opening: Promise<NwcClient> | null = null;
  private everConnected = false;
  private failures = 0;
  private state = initialState();
  /** Bumped by close(): an open that was started before it is discarded. */
  private epoch = 0;

  constructor(deps: LinkDeps) {
    this.deps = deps;
  }

  /** The open client, connecting if needed; rejects fast while the wallet is unreachable. */
  async client(): Promise<NwcClient> {
    if (this.current?.isOpen) return this.current;
    if (this.opening) return this.opening;
    const retryAt = this.state.retryAt;
    if (retryAt !== null && retryAt > this.deps.now()) {
      const waitSecs = Math.ceil((retryAt - this.deps.now()) / 1000);
      throw new UnavailableError(
        "wallet-unreachable",
        "Wallet unreachable",
        `The merchant's wallet could not be reached (${this.state.lastError ?? "unknown error"}). Retrying in ${waitSecs} s.`,
        { headers: { "Retry-After": String(waitSecs) } },
      );
    }
    this.opening = this.open().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  /** True while a socket is open. */
  get connected(): boolean {
    return this.current?.isOpen === true;
  }

  /** Unix ms since which the current socket (and its notification subscription) has been live. */
  get liveSince(): number | null {
    return this.connected ? this.state.since : null;
  }

  /** Checks the relay still answers; a silent (half-open) socket is closed so the next call reconnects. */
  async ping(timeoutMs: number): Promise<boolean> {
    const client = this.current;
    if (!client?.isOpen) return false;
    try {
      this.state.lastPingMs = await client.probe(timeoutMs);
      this.state.lastPingAt = this.deps.now();
      return true;
    } catch {
      this.close(`relay did not answer a ping within ${timeoutMs} ms`);
      return false;
    }
  }

  /** Forgets past failures (a new wallet string deserves an immediate attempt). */
  reset(): void {
    this.failures = 0;
    this.everConnected = false;
    this.state = initialState();
  }

  /** Closes the socket (idle, removal, or a failed ping); an open under way is discarded. */
  close(reason: string): void {
    this.epoch++;
    this.opening = null;
    const client = this.current;
    this.current = null;
    if (client) {
      this.state.lastError = reason;
      client.close();
    }
  }

  /** A snapshot for the merchant status page. */
  status(): LinkStatus {
    return { connected: this.connected, ...this.state, since: this.liveSince };
  }

  private async open(): Promise<NwcClient> {
    const epoch = this.epoch;
    try {
      const client = await this.deps.open((reason) => {
        if (this.current === client) {
          this.current = null;
          this.state.lastError = reason;
        }
      });
      if (epoch !== this.epoch) {
        client.close();
        throw new UnavailableError(
          "relay-unavailable",
          "Wallet connection closed",
          "The wallet connection was closed while it was opening.",
        );
      }
      const isReconnect = this.everConnected;
      if (isReconnect) this.state.reconnects++;
      this.everConnected = true;
      this.failures = 0;
      this.current = client;
      this.state.since = this.deps.now();
      this.state.retryAt = null;
      this.deps.onConnected?.(client, isReconnect);
      return client;
    } catch (err) {
      if (epoch !== this.epoch || this.deps.backoff === false) {
        this.state.lastError = err instanceof Error ? err.message : "connection failed";
        throw err;
      }
      this.failures++;
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
      // Full jitter on the upper half: spreads reconnect storms after a relay restart.
      this.state.retryAt = this.deps.now() + Math.round(backoff * (0.5 + Math.random() * 0.5));
      this.state.lastError = err instanceof Error ? err.message : "connection failed";
      throw err;
    }
  }
}
