import { NotFoundError, ProblemError } from "../../protocol/Errors.ts";
import {
  type NwcConnection,
  parseConnectionString,
} from "../../protocol/nip47/ConnectionString.ts";
import { isSettled, type NwcNotification } from "../../protocol/nip47/Messages.ts";
import { proves } from "../../protocol/Preimage.ts";
import { NwcClient } from "../../relay/NwcClient.ts";
import { NwcLink } from "../../relay/NwcLink.ts";
import type { Config } from "../config.ts";
import { unseal } from "../secrets.ts";
import type { BookEntry, InvoiceBook } from "./InvoiceBook.ts";
import type { Confirmation } from "./PaymentDesk.ts";
import type { WalletRecord } from "./registration.ts";
import { walletProblem } from "./walletErrors.ts";

/** At most one `lookup_invoice` per invoice in this long, however often status is polled. */
export const LOOKUP_INTERVAL_MS = 3_000;

/** What the watch needs from its Durable Object. */
export type WatchDeps = {
  config: Config;
  book: InvoiceBook;
  /** The stored wallet (its sealed string is opened only here, to connect). */
  wallet(): WalletRecord | null;
  /** The socket closed: the object re-plans its alarm (notifications stopped with it). */
  onClosed(): void;
};

/**
 * The merchant's wallet connection and what it says was received: the one socket
 * (`NwcLink`), wallet calls with an immediate liveness check after a timeout, the
 * `payment_received` notifications, and lookups that count only a *settled* invoice as
 * paid (a payee's wallet knows its own preimage before anyone pays). Lookups are capped
 * at one per invoice every few seconds, and reconciled after a reconnect.
 */
export class WalletWatch {
  readonly link: NwcLink;
  private readonly deps: WatchDeps;
  private connection: NwcConnection | null = null;
  /** When each invoice was last looked up (unix ms): a cap on wallet calls, so memory is enough. */
  private readonly lookedUpAt = new Map<string, number>();

  constructor(deps: WatchDeps) {
    this.deps = deps;
    this.link = new NwcLink({
      now: Date.now,
      open: (onClose) => this.open(onClose),
      onConnected: (client, isReconnect) => {
        if (isReconnect) void this.reconcile(client);
      },
    });
  }

  /** Switches to a new connection (registration, wallet replacement); returns the previous one. */
  use(connection: NwcConnection | null): NwcConnection | null {
    const previous = this.connection;
    this.connection = connection;
    return previous;
  }

  /**
   * One wallet call. A call that times out may mean a half-open relay: check liveness at
   * once (a failed ping closes the socket) so that at most this one call is lost,
   * instead of every call waiting out its timeout until the next scheduled ping.
   */
  async ask<T>(action: string, call: (client: NwcClient) => Promise<T>): Promise<T> {
    const client = await this.link.client();
    try {
      return await call(client);
    } catch (err) {
      if (err instanceof ProblemError && err.status === 503)
        void this.link.ping(Math.min(3_000, this.deps.config.walletTimeoutMs));
      throw walletProblem(err, action);
    }
  }

  /**
   * Brings a pending entry up to date. Trusted as is when expired (an expired invoice is
   * never looked up), while the notification subscription has been live since the entry
   * was last confirmed, or when it was looked up moments ago; otherwise looked up.
   * `graceMs` lets an invoice just past its end be asked about (lnbtc's paid-but-expired
   * window); `force` asks even while notifications are live (a payer showed a preimage,
   * and the notification may still be on its way).
   */
  async confirm(entry: BookEntry, graceMs = 0, force = false): Promise<Confirmation> {
    if (entry.status === "paid") return "paid";
    const nowMs = Date.now();
    if (entry.expiresAt * 1000 + graceMs <= nowMs) return "pending";
    const liveSince = this.link.liveSince;
    const notified =
      liveSince !== null &&
      liveSince <= entry.checkedAtMs &&
      this.deps.wallet()?.capabilities.notifications;
    const lastLookup = this.lookedUpAt.get(entry.paymentHash) ?? 0;
    if ((notified && !force) || nowMs - lastLookup < LOOKUP_INTERVAL_MS) return "pending";
    try {
      await this.refresh(await this.link.client(), entry.paymentHash);
    } catch {
      return "unavailable";
    }
    return this.deps.book.get(entry.paymentHash)?.status === "paid" ? "paid" : "pending";
  }

  private async open(onClose: (reason: string) => void): Promise<NwcClient> {
    if (!this.connection) {
      const wallet = this.deps.wallet();
      if (!wallet) throw new NotFoundError("No such merchant.");
      const { secretsKey, allowInsecureRelays } = this.deps.config;
      const nwcUrl = await unseal(secretsKey, wallet.merchantId, wallet.sealedNwc);
      this.connection = parseConnectionString(nwcUrl, { allowInsecureRelays });
    }
    return NwcClient.connect(this.connection, {
      requestTimeoutMs: this.deps.config.walletTimeoutMs,
      openTimeoutMs: Math.min(4_000, this.deps.config.walletTimeoutMs),
      onNotification: (n) => this.onNotification(n),
      onClose: (reason) => {
        onClose(reason);
        this.deps.onClosed();
      },
    });
  }

  private onNotification(n: NwcNotification): void {
    if (n.type !== "payment_received") return;
    const { paymentHash, preimage, settledAt } = n.transaction;
    // The wallet says it received the payment; the preimage check rules out a garbled note.
    if (preimage === undefined || !proves(preimage, paymentHash)) return;
    this.deps.book.markPaid(paymentHash, settledAt ?? Math.floor(Date.now() / 1000), Date.now());
  }

  /** Asks the wallet about one invoice: paid only if it says it received the payment. */
  private async refresh(client: NwcClient, paymentHash: string): Promise<void> {
    if (this.lookedUpAt.size >= 10_000) this.lookedUpAt.clear();
    this.lookedUpAt.set(paymentHash, Date.now());
    const tx = await client.lookupInvoice({ paymentHash });
    const { book } = this.deps;
    if (tx.paymentHash === paymentHash && isSettled(tx)) {
      book.markPaid(paymentHash, tx.settledAt ?? Math.floor(Date.now() / 1000), Date.now());
    } else {
      book.markChecked(paymentHash, Date.now());
    }
  }

  /** After a reconnect, notifications sent while disconnected are lost: ask about each pending invoice. */
  private async reconcile(client: NwcClient): Promise<void> {
    for (const entry of this.deps.book.pending(Math.floor(Date.now() / 1000))) {
      if (!client.isOpen) return;
      await this.refresh(client, entry.paymentHash).catch(() => {});
    }
  }
}
