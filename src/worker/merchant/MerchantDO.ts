import { DurableObject } from "cloudflare:workers";
import { NotFoundError } from "../../protocol/Errors.ts";
import { parseConnectionString, redactRelay } from "../../protocol/nip47/ConnectionString.ts";
import { lnbtcNetworkId } from "../../protocol/x402/lnbtc/Networks.ts";
import {
  checkIsolation,
  type IssuedRecord,
  type SettleAccepted,
  type SettleVerdict,
} from "../../protocol/x402/lnbtc/Settle.ts";
import type { PaymentCheck } from "../../protocol/x402/Verify.ts";
import { lookupOutgoing } from "../../providers/nwcOutgoing.ts";
import type { NwcClient } from "../../relay/NwcClient.ts";
import { createStore } from "../../store/index.ts";
import type { Store } from "../../store/Store.ts";
import { type Config, getConfig } from "../config.ts";
import type { MerchantBindings } from "../env.ts";
import { GatewayDesk } from "../gateway/GatewayDesk.ts";
import type { GatewayRoute } from "../gateway/RouteConfig.ts";
import { SessionDesk } from "../gateway/SessionDesk.ts";
import type { SessionStats } from "../gateway/SessionTables.ts";
import { serveSessionStream } from "../gateway/sessionStream.ts";
import type {
  AdmitInput,
  AdmitOutcome,
  RetryWindow,
  RouteStats,
  UpstreamFailure,
} from "../gateway/types.ts";
import { lnbtcNetworks } from "../lnbtcFacilitator.ts";
import { getMerchant } from "../registry.ts";
import { seal } from "../secrets.ts";
import { InvoiceBook } from "./InvoiceBook.ts";
import { issueInvoice } from "./issue.ts";
import { PaymentDesk, type SettleOutcome, type VerifyOutcome } from "./PaymentDesk.ts";
import { Redemptions } from "./Redemptions.ts";
import { checkWallet, type WalletRecord } from "./registration.ts";
import { capture, type RpcResult } from "./rpc.ts";
import type {
  InvoiceInput,
  InvoiceStatus,
  IssuedInvoice,
  PublicWallet,
  WalletStatus,
} from "./types.ts";
import { WalletWatch } from "./WalletWatch.ts";
import { walletRejected } from "./walletErrors.ts";

export type {
  InvoiceInput,
  InvoiceStatus,
  IssuedInvoice,
  PublicWallet,
  WalletStatus,
} from "./types.ts";
export { LOOKUP_INTERVAL_MS } from "./WalletWatch.ts";

const WALLET_KEY = "wallet";
/** Invoices (and their redemptions) are kept this long after expiry, then pruned. */
export const RETENTION_SECS = 30 * 86_400;
/** scheme_exact_lnbtc §Paid-but-expired Policy: the clock-skew allowance past invoice end. */
const LNBTC_SKEW_MS = 60_000;

/**
 * One Durable Object per merchant: the single writer of that merchant's wallet
 * connection, invoice book, payment-hash index entries and redemptions. It holds the
 * only copy of the merchant's sealed NWC string and is the only place it is decrypted.
 * One alarm drives all later work: relay pings, idle disconnects, reconnects while the
 * merchant is active, and pruning.
 */
export class MerchantDO extends DurableObject<MerchantBindings> {
  private readonly config: Config;
  private readonly store: Store;
  private readonly book: InvoiceBook;
  private readonly redemptions: Redemptions;
  private readonly desk: PaymentDesk;
  private readonly watch: WalletWatch;
  private readonly gateway: GatewayDesk;
  private readonly sessions: SessionDesk;
  private wallet: WalletRecord | null = null;
  private lastActivityMs = 0;

  constructor(ctx: DurableObjectState, env: MerchantBindings) {
    super(ctx, env);
    this.config = getConfig(env);
    this.store = createStore(env);
    this.book = new InvoiceBook(ctx.storage.sql);
    this.redemptions = new Redemptions(ctx.storage.sql);
    this.desk = new PaymentDesk({
      book: this.book,
      redemptions: this.redemptions,
      network: () => this.wallet?.network ?? null,
      confirm: (entry) => this.watch.confirm(entry),
      nowMs: Date.now,
    });
    this.watch = new WalletWatch({
      config: this.config,
      book: this.book,
      wallet: () => this.wallet,
      onClosed: () => void this.scheduleAlarm(),
    });
    this.sessions = new SessionDesk({
      sql: ctx.storage.sql,
      book: this.book,
      redemptions: this.redemptions,
      wallet: () => this.requireWallet(),
      issue: (input) => this.issue(input),
      received: (entry, preimage) => this.gateway.received(entry, preimage, "mpp"),
      payRefund: (invoice, amountMsat) =>
        this.watch.ask("pay a session refund", (client) =>
          client.payInvoice({ invoice, amountMsat }),
        ),
      lookupRefund: (paymentHash) =>
        this.watch.ask("look up a session refund", (client) =>
          lookupOutgoing(() => client.lookupInvoice({ paymentHash }), paymentHash),
        ),
      countRevenue: (routeKey, msat) => this.gateway.countRevenue(routeKey, msat),
      schedule: () => this.scheduleAlarm(),
      nowMs: Date.now,
    });
    this.gateway = new GatewayDesk({
      storage: ctx.storage,
      book: this.book,
      redemptions: this.redemptions,
      secretsKey: this.config.secretsKey,
      networks: lnbtcNetworks(this.config),
      wallet: () => this.requireWallet(),
      issue: (input) => this.issue(input),
      confirm: (entry, graceMs, force) => this.watch.confirm(entry, graceMs, force),
      exclusiveNodeKey: async () => {
        const record = await getMerchant(this.store, this.requireWallet().merchantId);
        return record?.settings.exclusiveNodeKey ?? false;
      },
      sessions: this.sessions,
      nowMs: Date.now,
    });
    ctx.blockConcurrencyWhile(async () => {
      this.wallet = (await ctx.storage.get<WalletRecord>(WALLET_KEY)) ?? null;
      // After an eviction or restart: idle closes and refund retries are due on their own.
      if (this.wallet) await this.scheduleAlarm();
    });
  }

  /**
   * Checks a wallet connection string (reachable, right network, required methods, node
   * key) and, only if it passes, stores it sealed and keeps the connection open. On any
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
      const link = this.watch.link;
      link.close("wallet replaced");
      link.reset();
      const previous = { wallet: this.wallet, connection: this.watch.use(connection) };
      try {
        let client: NwcClient;
        try {
          client = await link.client();
        } catch (err) {
          const reason = err instanceof Error ? err.message : "connection failed";
          throw walletRejected(
            "wallet-unreachable",
            "Wallet unreachable",
            `Could not reach the wallet through ${connection.relays.map(redactRelay).join(", ")}: ${reason} Check the relay URL and that the wallet service is online.`,
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
        link.close("registration failed");
        link.reset();
        this.wallet = previous.wallet;
        this.watch.use(previous.connection);
        throw err;
      }
    });
  }

  /**
   * Issues an invoice through the merchant's wallet, checks it, claims its payment hash
   * in the global index (put-if-absent) and records it in the book, in that order:
   * nothing is recorded for a hash another merchant already owns.
   */
  async createInvoice(input: InvoiceInput): Promise<RpcResult<IssuedInvoice>> {
    return capture(() => this.issue(input));
  }

  private async issue(input: InvoiceInput): Promise<IssuedInvoice> {
    this.touch();
    const issued = await issueInvoice(
      {
        wallet: this.requireWallet(),
        watch: this.watch,
        store: this.store,
        book: this.book,
        retentionSecs: RETENTION_SECS,
      },
      input,
    );
    await this.scheduleAlarm();
    return issued;
  }

  /**
   * Status from the book; null when this merchant has no such invoice (or is gone). A
   * pending, unexpired entry is brought up to date first (see `confirm`).
   */
  async invoiceStatus(paymentHash: string): Promise<RpcResult<InvoiceStatus | null>> {
    return capture(async () => {
      if (!this.wallet) return null;
      let entry = this.book.get(paymentHash);
      if (!entry) return null;
      if (entry.status === "pending" && entry.expiresAt * 1000 > Date.now()) {
        // If the wallet cannot be asked, the book's "pending" stands: it is never wrong about "paid".
        await this.watch.confirm(entry);
        entry = this.book.get(paymentHash) ?? entry;
      }
      return {
        paid: entry.status === "paid",
        settledAt: entry.settledAt,
        amountMsat: entry.amountMsat,
        expiresAt: entry.expiresAt,
      };
    });
  }

  /** x402 `/verify`, stateful half (see PaymentDesk); `reserve` leases the proof to this caller. */
  async verifyPayment(check: PaymentCheck, reserve: boolean): Promise<RpcResult<VerifyOutcome>> {
    return capture(async () => {
      this.requireWallet();
      this.touch();
      return this.desk.verify(check, reserve);
    });
  }

  /** x402 `/settle`, stateful half: redeems the proof once and returns the redemption. */
  async settlePayment(check: PaymentCheck): Promise<RpcResult<SettleOutcome>> {
    return capture(async () => {
      this.requireWallet();
      this.touch();
      return this.desk.settle(check);
    });
  }

  /**
   * x402 lnbtc, the merchant's half (scheme_exact_lnbtc §Receiver Key Isolation and
   * §Settlement and Replay Protection), on a proof that passed the stateless checks:
   * the invoice must be one this merchant issued with the same network, amount and
   * request hash, its receipt confirmed by the wallet (unless the merchant declared
   * exclusive use of its node key), and then the payment hash is redeemed once, durably
   * (kept well past `keepUntil`: 30 days after expiry). `consume` false answers without
   * redeeming (`/verify`, for tooling).
   */
  async settleLnbtc(
    accepted: SettleAccepted,
    options: { exclusiveNodeKey: boolean; consume: boolean },
  ): Promise<RpcResult<SettleVerdict>> {
    return capture(async () => {
      this.requireWallet();
      this.touch();
      if (this.redemptions.get(accepted.paymentHash))
        return { ok: false, errorReason: "duplicate_settlement", step: 9 } as const;
      const entry = this.book.get(accepted.paymentHash);
      const network = this.wallet ? lnbtcNetworkId(this.wallet.network) : null;
      const issued: IssuedRecord | null =
        entry?.descriptionHash && network
          ? { network, amountMsat: entry.amountMsat, requestHash: entry.descriptionHash }
          : null;
      // §2.3: the wallet's confirmation, unless the node key is the merchant's alone.
      // Within the paid-but-expired window the wallet may still be asked.
      const receiptConfirmed =
        options.exclusiveNodeKey ||
        (entry !== null && (await this.watch.confirm(entry, LNBTC_SKEW_MS)) === "paid");
      const verdict = checkIsolation(accepted, { issued, receiptConfirmed });
      if (!verdict.ok || !options.consume) return verdict;
      // The wallet may have been asked since the check above: the insert itself decides.
      const redeemed = this.redemptions.redeem({
        paymentHash: accepted.paymentHash,
        settledAt: Math.floor(Date.now() / 1000),
        amountMsat: accepted.amountMsat,
      });
      return redeemed
        ? verdict
        : ({ ok: false, errorReason: "duplicate_settlement", step: 9 } as const);
    });
  }

  /** The gateway routes (`GET /merchants/:id/routes`). */
  async gatewayRoutes(): Promise<RpcResult<GatewayRoute[]>> {
    return capture(() => this.gateway.listRoutes());
  }

  /** Replaces the gateway routes; returns the upstream secret when one was (re)issued. */
  async putGatewayRoutes(
    routes: GatewayRoute[] | null,
    rotateSecret: boolean,
  ): Promise<RpcResult<{ routes: GatewayRoute[]; upstreamSecret: string | null }>> {
    return capture(() => this.gateway.putRoutes(routes, rotateSecret));
  }

  /** One gateway request: serve it, ask for payment, or refuse its proof (see GatewayDesk). */
  async admitGateway(input: AdmitInput): Promise<RpcResult<AdmitOutcome>> {
    return capture(async () => {
      this.touch();
      return this.gateway.admit(input);
    });
  }

  /** The upstream failed a gateway request: count it, keep a paid proof good for one retry. */
  async reportUpstreamFailure(failure: UpstreamFailure): Promise<RetryWindow> {
    return this.gateway.reportFailure(failure);
  }

  /** A session route's metered stream (the one call that returns a stream; see sessionStream.ts). */
  override async fetch(request: Request): Promise<Response> {
    this.touch();
    return serveSessionStream(
      {
        sessions: this.sessions.sessions,
        routes: () => this.gateway.listRoutes(),
        routeOf: (sessionId) => this.sessions.routeOf(sessionId),
        secret: () => this.gateway.upstreamSecret(),
        countFailure: (routeKey) => this.gateway.countFailure(routeKey),
      },
      request,
    );
  }

  /** Open sessions and refund outcomes since `sinceMs` (unix ms). */
  async sessionStats(sinceMs: number): Promise<RpcResult<SessionStats>> {
    return capture(async () => {
      this.requireWallet();
      return this.sessions.stats(sinceMs);
    });
  }

  /** Gateway counters per route since `sinceMs` (unix ms). */
  async gatewayStats(sinceMs: number): Promise<RpcResult<RouteStats[]>> {
    return capture(async () => this.gateway.stats(sinceMs));
  }

  /** Connection state, capabilities and invoice counts, for `GET /merchants/:id`. */
  async walletStatus(): Promise<RpcResult<WalletStatus>> {
    return capture(async () => {
      const wallet = this.requireWallet();
      return {
        network: wallet.network,
        capabilities: wallet.capabilities,
        walletPubkey: wallet.walletPubkey,
        nodePubkey: wallet.nodePubkey,
        relays: wallet.relays.map(redactRelay),
        connection: this.watch.link.status(),
        invoices: this.book.counts(Math.floor(Date.now() / 1000)),
      };
    });
  }

  /** Removes the merchant: disconnects and erases the sealed secret, the book and the redemptions. */
  async forget(): Promise<void> {
    this.watch.link.close("merchant removed");
    this.wallet = null;
    this.watch.use(null);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll drops the tables too: recreate them empty, so later calls find nothing
    // (a 404) instead of failing on a missing table.
    this.book.migrate();
    this.redemptions.migrate();
    this.gateway.reset();
    this.sessions.reset();
  }

  /**
   * The one alarm: while the merchant is active, ping the relay and reconnect (so
   * notifications keep the book current); once idle, drop the socket, even with invoices
   * pending (they are looked up on demand); close idle sessions and retry failed refunds
   * (draft-lightning-session-00 §Server-Initiated Close); prune old entries.
   */
  override async alarm(): Promise<void> {
    if (!this.wallet) return;
    const nowMs = Date.now();
    const idle = nowMs - this.lastActivityMs >= this.config.idleDisconnectMs;
    const link = this.watch.link;
    if (link.connected) {
      if (idle) link.close("idle");
      else await link.ping(Math.min(5_000, this.config.walletTimeoutMs));
    }
    if (!link.connected && !idle && this.hasPending(nowMs)) {
      await link.client().catch(() => {});
    }
    await this.sessions.runDue(nowMs);
    this.redemptions.prune(this.book.prune(Math.floor(nowMs / 1000), RETENTION_SECS));
    this.sessions.prune(nowMs);
    await this.scheduleAlarm();
  }

  private hasPending(nowMs: number): boolean {
    return this.book.pending(Math.floor(nowMs / 1000), 1).length > 0;
  }

  private async scheduleAlarm(): Promise<void> {
    const nowMs = Date.now();
    const idleAt = this.lastActivityMs + this.config.idleDisconnectMs;
    const link = this.watch.link;
    let next: number | null = null;
    if (link.connected) {
      next = Math.min(nowMs + this.config.pingIntervalMs, idleAt);
    } else if (nowMs < idleAt && this.hasPending(nowMs)) {
      next = link.status().retryAt ?? nowMs + 1_000;
    }
    const sessionsAt = this.wallet ? await this.sessions.nextWakeMs() : null;
    if (sessionsAt !== null) next = next === null ? sessionsAt : Math.min(next, sessionsAt);
    if (next === null) await this.ctx.storage.deleteAlarm();
    else {
      const existing = await this.ctx.storage.getAlarm();
      if (existing === null || existing > next || existing < nowMs)
        await this.ctx.storage.setAlarm(Math.max(next, nowMs + 10));
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
