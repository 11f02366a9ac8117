import { DurableObject } from "cloudflare:workers";
import { NotFoundError } from "../../protocol/Errors.ts";
import {
  type NwcConnection,
  parseConnectionString,
} from "../../protocol/nip47/ConnectionString.ts";
import type { NwcNotification } from "../../protocol/nip47/Messages.ts";
import { proves } from "../../protocol/Preimage.ts";
import type { PaymentCheck } from "../../protocol/x402/Verify.ts";
import { NwcClient } from "../../relay/NwcClient.ts";
import { type Config, getConfig } from "../config.ts";
import type { Bindings } from "../env.ts";
import { seal, unseal } from "../secrets.ts";
import { Claims } from "./Claims.ts";
import { type BookEntry, InvoiceBook } from "./InvoiceBook.ts";
import { checkIssued } from "./issued.ts";
import { PaymentDesk, type SettleOutcome, type VerifyOutcome } from "./PaymentDesk.ts";
import { type Capabilities, checkWallet, type WalletRecord } from "./registration.ts";
import { capture, type RpcResult } from "./rpc.ts";
import { type LinkStatus, WalletLink } from "./WalletLink.ts";
import { walletProblem, walletRejected } from "./walletErrors.ts";

/** A new invoice, as `POST /invoice` returns it. `expiresAt` is unix seconds. */
export type IssuedInvoice = {
  invoice: string;
  paymentHash: string;
  amountMsat: number;
  expiresAt: number;
};

/** Invoice status without secrets (never the preimage). Times are unix seconds. */
export type InvoiceStatus = {
  paid: boolean;
  settledAt: number | null;
  amountMsat: number;
  expiresAt: number;
};

/** The merchant status page. */
export type WalletStatus = {
  network: string;
  capabilities: Capabilities;
  walletPubkey: string;
  connection: LinkStatus;
  invoices: { pending: number; paid: number; expired: number };
};

/** The stored wallet record without its sealed secret: what may leave the DO. */
export type PublicWallet = Omit<WalletRecord, "sealedNwc">;

const WALLET_KEY = "wallet";

/**
 * One Durable Object per merchant: the single writer of that merchant's wallet
 * connection and invoice book. It holds the only copy of the merchant's sealed NWC
 * string and is the only place it is decrypted. One alarm drives all later work:
 * relay pings, idle disconnects and reconnects while invoices are pending.
 */
export class MerchantDO extends DurableObject<Bindings> {
  private readonly config: Config;
  private readonly book: InvoiceBook;
  private readonly desk: PaymentDesk;
  private readonly link: WalletLink;
  private wallet: WalletRecord | null = null;
  private connection: NwcConnection | null = null;
  private lastActivityMs = 0;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.config = getConfig(env);
    this.book = new InvoiceBook(ctx.storage.sql);
    this.desk = new PaymentDesk({
      book: this.book,
      claims: new Claims(ctx.storage.sql),
      network: () => this.wallet?.network ?? null,
      confirm: (entry) => this.confirm(entry),
      nowSecs: () => Math.floor(Date.now() / 1000),
    });
    this.link = new WalletLink({
      now: Date.now,
      open: (onClose) => this.openClient(onClose),
      onConnected: (client, isReconnect) => {
        if (isReconnect) void this.reconcile(client);
      },
    });
    ctx.blockConcurrencyWhile(async () => {
      this.wallet = (await ctx.storage.get<WalletRecord>(WALLET_KEY)) ?? null;
    });
  }

  /**
   * Checks a wallet connection string (reachable, right network, required methods)
   * and, only if it passes, stores it sealed and keeps the connection open. On any
   * failure the previous wallet (if any) stays as it was.
   */
  async setupWallet(input: {
    merchantId: string;
    nwcUrl: string;
  }): Promise<RpcResult<PublicWallet>> {
    return capture(async () => {
      const connection = parseConnectionString(input.nwcUrl, {
        allowInsecureRelays: this.config.allowInsecureRelays,
      });
      const previous = { wallet: this.wallet, connection: this.connection };
      this.link.close("wallet replaced");
      this.link.reset();
      this.connection = connection;
      try {
        let client: NwcClient;
        try {
          client = await this.link.client();
        } catch (err) {
          const reason = err instanceof Error ? err.message : "connection failed";
          throw walletRejected(
            "wallet-unreachable",
            "Wallet unreachable",
            `Could not reach the wallet through ${connection.relays.join(", ")}: ${reason} Check the relay URL and that the wallet service is online.`,
          );
        }
        const record = await checkWallet(client, connection, input.merchantId);
        const stored: WalletRecord = {
          ...record,
          sealedNwc: await seal(this.config.secretsKey, input.merchantId, input.nwcUrl),
        };
        await this.ctx.storage.put(WALLET_KEY, stored);
        this.wallet = stored;
        this.touch();
        await this.scheduleAlarm();
        const { sealedNwc: _sealed, ...visible } = stored;
        return visible;
      } catch (err) {
        this.link.close("registration failed");
        this.link.reset();
        this.wallet = previous.wallet;
        this.connection = previous.connection;
        throw err;
      }
    });
  }

  /** Issues an invoice through the merchant's wallet, checks it, and records it in the book. */
  async createInvoice(input: {
    amountMsat: number;
    description?: string;
    expirySecs: number;
  }): Promise<RpcResult<IssuedInvoice>> {
    return capture(() => this.issue(input));
  }

  private async issue(input: {
    amountMsat: number;
    description?: string;
    expirySecs: number;
  }): Promise<IssuedInvoice> {
    const wallet = this.requireWallet();
    this.touch();
    const client = await this.link.client();
    let tx: { invoice: string; paymentHash: string };
    try {
      tx = await client.makeInvoice({
        amountMsat: input.amountMsat,
        expirySecs: input.expirySecs,
        ...(input.description !== undefined ? { description: input.description } : {}),
      });
    } catch (err) {
      throw walletProblem(err, "create an invoice");
    }
    const decoded = checkIssued(
      tx.invoice,
      tx.paymentHash,
      input.amountMsat,
      wallet,
      Math.floor(Date.now() / 1000),
    );
    this.book.add({
      paymentHash: decoded.paymentHash,
      invoice: decoded.invoice,
      amountMsat: input.amountMsat,
      description: input.description ?? null,
      createdAt: decoded.timestamp,
      expiresAt: decoded.expiresAt,
      checkedAtMs: Date.now(),
    });
    await this.scheduleAlarm();
    return {
      invoice: decoded.invoice,
      paymentHash: decoded.paymentHash,
      amountMsat: input.amountMsat,
      expiresAt: decoded.expiresAt,
    };
  }

  /**
   * Status from the book. A pending entry is trusted while the notification
   * subscription has been live since it was last confirmed; otherwise the wallet is
   * asked (`lookup_invoice`), and if it cannot be reached the book's answer stands.
   */
  async invoiceStatus(paymentHash: string): Promise<RpcResult<InvoiceStatus | null>> {
    return capture(() => this.status(paymentHash));
  }

  private async status(paymentHash: string): Promise<InvoiceStatus | null> {
    let entry = this.book.get(paymentHash);
    if (!entry) return null;
    if (entry.status === "pending" && entry.expiresAt * 1000 > Date.now()) {
      // If the wallet cannot be asked, the book's "pending" stands: it is never wrong about "paid".
      await this.confirm(entry);
      entry = this.book.get(paymentHash) ?? entry;
    }
    return {
      paid: entry.status === "paid",
      settledAt: entry.settledAt,
      amountMsat: entry.amountMsat,
      expiresAt: entry.expiresAt,
    };
  }

  /** x402 `/verify`, stateful half: see PaymentDesk. */
  async verifyPayment(check: PaymentCheck): Promise<RpcResult<VerifyOutcome>> {
    return capture(async () => {
      this.requireWallet();
      this.touch();
      return this.desk.verify(check);
    });
  }

  /** x402 `/settle`, stateful half: redeems the proof once and keeps `body` for idempotent retries. */
  async settlePayment(
    check: PaymentCheck,
    idempotencyKey: string | null,
    body: string,
  ): Promise<RpcResult<SettleOutcome>> {
    return capture(async () => {
      this.requireWallet();
      this.touch();
      return this.desk.settle(check, idempotencyKey, body);
    });
  }

  /** Connection state, capabilities and invoice counts, for `GET /merchants/:id`. */
  async walletStatus(): Promise<RpcResult<WalletStatus>> {
    return capture(async () => {
      const wallet = this.requireWallet();
      return {
        network: wallet.network,
        capabilities: wallet.capabilities,
        walletPubkey: wallet.walletPubkey,
        connection: this.link.status(),
        invoices: this.book.counts(Math.floor(Date.now() / 1000)),
      };
    });
  }

  /** Removes the merchant: disconnects and erases the sealed secret and the book. */
  async forget(): Promise<void> {
    this.link.close("merchant removed");
    this.wallet = null;
    this.connection = null;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** The one alarm: ping while connected, drop idle sockets, reconnect while invoices are pending. */
  override async alarm(): Promise<void> {
    if (!this.wallet) return;
    const nowMs = Date.now();
    const pending = this.book.pending(Math.floor(nowMs / 1000), 1).length > 0;
    if (this.link.connected) {
      if (!pending && nowMs - this.lastActivityMs >= this.config.idleDisconnectMs)
        this.link.close("idle");
      else await this.link.ping(Math.min(5_000, this.config.walletTimeoutMs));
    }
    if (!this.link.connected && pending) {
      await this.link.client().catch(() => {});
    }
    await this.scheduleAlarm();
  }

  private async scheduleAlarm(): Promise<void> {
    const nowMs = Date.now();
    const pending = this.book.pending(Math.floor(nowMs / 1000), 1).length > 0;
    let next: number | null = null;
    if (this.link.connected) {
      const idleAt = this.lastActivityMs + this.config.idleDisconnectMs;
      next = Math.min(
        nowMs + this.config.pingIntervalMs,
        pending ? Number.POSITIVE_INFINITY : idleAt,
      );
    } else if (pending) {
      next = this.link.status().retryAt ?? nowMs + 1_000;
    }
    if (next === null) await this.ctx.storage.deleteAlarm();
    else {
      const existing = await this.ctx.storage.getAlarm();
      if (existing === null || existing > next)
        await this.ctx.storage.setAlarm(Math.max(next, nowMs + 10));
    }
  }

  private onLinkClosed(_reason: string): void {
    // Notifications stop with the socket: reconnect soon if anything is still pending.
    void this.scheduleAlarm();
  }

  private async openClient(onClose: (reason: string) => void): Promise<NwcClient> {
    if (!this.connection) {
      const wallet = this.requireWallet();
      const nwcUrl = await unseal(this.config.secretsKey, wallet.merchantId, wallet.sealedNwc);
      this.connection = parseConnectionString(nwcUrl, {
        allowInsecureRelays: this.config.allowInsecureRelays,
      });
    }
    return NwcClient.connect(this.connection, {
      requestTimeoutMs: this.config.walletTimeoutMs,
      openTimeoutMs: Math.min(4_000, this.config.walletTimeoutMs),
      onNotification: (n) => this.onNotification(n),
      onClose: (reason) => {
        onClose(reason);
        this.onLinkClosed(reason);
      },
    });
  }

  private onNotification(n: NwcNotification): void {
    if (n.type !== "payment_received") return;
    const { paymentHash, preimage, settledAt } = n.transaction;
    // Trust a notification only with a preimage that proves the payment.
    if (preimage === undefined || !proves(preimage, paymentHash)) return;
    this.book.markPaid(
      paymentHash,
      settledAt ?? Math.floor(Date.now() / 1000),
      preimage,
      Date.now(),
    );
  }

  /**
   * Brings a pending entry up to date: trusted as is while the notification
   * subscription has been live since the entry was last confirmed, else looked up.
   */
  private async confirm(entry: BookEntry): Promise<"paid" | "pending" | "unavailable"> {
    if (entry.status === "paid") return "paid";
    const liveSince = this.link.liveSince;
    if (
      liveSince !== null &&
      liveSince <= entry.checkedAtMs &&
      this.wallet?.capabilities.notifications
    ) {
      return "pending";
    }
    try {
      await this.refresh(await this.link.client(), entry.paymentHash);
    } catch {
      return "unavailable";
    }
    return this.book.get(entry.paymentHash)?.status === "paid" ? "paid" : "pending";
  }

  private async refresh(client: NwcClient, paymentHash: string): Promise<void> {
    const tx = await client.lookupInvoice({ paymentHash });
    const proven = tx.preimage !== undefined && proves(tx.preimage, paymentHash);
    if (proven || tx.state === "settled") {
      this.book.markPaid(
        paymentHash,
        tx.settledAt ?? Math.floor(Date.now() / 1000),
        tx.preimage ?? null,
        Date.now(),
      );
    } else {
      this.book.markChecked(paymentHash, Date.now());
    }
  }

  /** After a reconnect, notifications sent while disconnected are lost: ask about each pending invoice. */
  private async reconcile(client: NwcClient): Promise<void> {
    for (const entry of this.book.pending(Math.floor(Date.now() / 1000))) {
      if (!client.isOpen) return;
      await this.refresh(client, entry.paymentHash).catch(() => {});
    }
  }

  private requireWallet(): WalletRecord {
    if (!this.wallet) throw new NotFoundError("No such merchant.");
    return this.wallet;
  }

  private touch(): void {
    this.lastActivityMs = Date.now();
  }
}
