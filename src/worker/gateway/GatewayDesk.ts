import { base64urlnopad } from "@scure/base";
import { proves } from "../../protocol/Preimage.ts";
import type { LnbtcNetworkName } from "../../protocol/x402/lnbtc/Networks.ts";
import type { BookEntry, InvoiceBook } from "../merchant/InvoiceBook.ts";
import type { InvoiceInput, IssuedInvoice } from "../merchant/MerchantDO.ts";
import type { Confirmation } from "../merchant/PaymentDesk.ts";
import type { Redemptions } from "../merchant/Redemptions.ts";
import type { WalletRecord } from "../merchant/registration.ts";
import { seal, unseal } from "../secrets.ts";
import { GatewayTables, RETRY_WINDOW_MS } from "./GatewayTables.ts";
import { GATEWAY_INVOICE_EXPIRY_SECS } from "./offers.ts";
import { readProof } from "./proofCheck.ts";
import { type GatewayRoute, matchRoute, routeKey } from "./RouteConfig.ts";
import type { SessionDesk, SessionRoute } from "./SessionDesk.ts";
import type {
  AdmitInput,
  AdmitOutcome,
  GatewayProof,
  RetryWindow,
  RouteStats,
  UpstreamFailure,
} from "./types.ts";

/** What the gateway desk needs from its merchant's Durable Object. */
export type GatewayDeskDeps = {
  storage: DurableObjectStorage;
  book: InvoiceBook;
  redemptions: Redemptions;
  secretsKey: Uint8Array;
  networks: readonly LnbtcNetworkName[];
  /** The merchant's wallet; throws the 404 problem when there is none. */
  wallet(): WalletRecord;
  issue(input: InvoiceInput): Promise<IssuedInvoice>;
  /** The wallet's word on an entry; `force` asks it even while notifications are live. */
  confirm(entry: BookEntry, graceMs: number, force: boolean): Promise<Confirmation>;
  /** The registry's `exclusiveNodeKey` setting (read only when receipt is unconfirmed). */
  exclusiveNodeKey(): Promise<boolean>;
  /** Session routes are decided by the session desk. */
  sessions: SessionDesk;
  nowMs(): number;
};

const ROUTES_KEY = "gateway:routes";
const SECRET_KEY = "gateway:secret";
/** scheme_exact_lnbtc §Paid-but-expired Policy: the wallet may still be asked this long after expiry. */
const SKEW_MS = 60_000;

/**
 * The gateway inside a merchant's Durable Object: the merchant's routes and upstream
 * secret, and the one decision per request — serve, ask for payment, or refuse. The
 * redemptions table (keyed by payment hash) is the one consume-once record for every
 * protocol, so an invoice paid once is delivered once whichever protocol presents it.
 */
export class GatewayDesk {
  private readonly deps: GatewayDeskDeps;
  private readonly tables: GatewayTables;
  private routes: GatewayRoute[] | null = null;
  private secret: string | null = null;
  /** Concurrent proofs of one invoice share one wallet confirmation. */
  private readonly confirming = new Map<string, Promise<Confirmation>>();

  constructor(deps: GatewayDeskDeps) {
    this.deps = deps;
    this.tables = new GatewayTables(deps.storage.sql);
  }

  /** Recreates the tables and drops caches after the merchant's storage was erased. */
  reset(): void {
    this.tables.migrate();
    this.routes = null;
    this.secret = null;
  }

  /** The merchant's routes, in match order. */
  async listRoutes(): Promise<GatewayRoute[]> {
    this.deps.wallet();
    this.routes ??= (await this.deps.storage.get<GatewayRoute[]>(ROUTES_KEY)) ?? [];
    return this.routes;
  }

  /**
   * Replaces the routes (null keeps them). The first time (or with `rotateSecret`) a new upstream secret is
   * made, sealed at rest, and returned: the only time it is ever shown.
   */
  async putRoutes(
    routes: GatewayRoute[] | null,
    rotateSecret: boolean,
  ): Promise<{ routes: GatewayRoute[]; upstreamSecret: string | null }> {
    const wallet = this.deps.wallet();
    let issued: string | null = null;
    if (rotateSecret || (await this.deps.storage.get<string>(SECRET_KEY)) === undefined) {
      issued = `ln402_gw_${base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(32)))}`;
      const sealed = await seal(this.deps.secretsKey, sealScope(wallet.merchantId), issued);
      await this.deps.storage.put(SECRET_KEY, sealed);
      this.secret = issued;
    }
    if (routes !== null) {
      await this.deps.storage.put(ROUTES_KEY, routes);
      this.routes = routes;
    }
    return { routes: await this.listRoutes(), upstreamSecret: issued };
  }

  /** Decides one gateway request (see `AdmitOutcome`); counts it. */
  async admit(input: AdmitInput): Promise<AdmitOutcome> {
    const wallet = this.deps.wallet();
    const match = matchRoute(await this.listRoutes(), input.method, input.path);
    if (!match) return { kind: "no-route" };
    const { route } = match;
    const key = routeKey(route);
    const nowMs = this.deps.nowMs();
    // A session route's dry run would have charged (at least) one unit.
    const amountMsat =
      route.price.type === "charge" ? route.price.sats * 1000 : route.price.satsPerUnit * 1000;
    if (route.mode === "dry-run") {
      this.tables.count(key, nowMs, {
        requests: 1,
        dryRunRequests: 1,
        dryRunWouldChargeMsat: amountMsat,
      });
      return {
        kind: "forward",
        route,
        routeKey: key,
        secret: await this.upstreamSecret(),
        paid: null,
      };
    }
    this.tables.count(key, nowMs, { requests: 1 });
    if (route.price.type === "session") {
      const outcome = await this.deps.sessions.admit(route as SessionRoute, key, input);
      if (outcome.kind === "session-serve") this.tables.count(key, nowMs, { paidRequests: 1 });
      return outcome;
    }
    if (input.proof === null) {
      if (!input.mayIssue) return { kind: "rate-limited", routeKey: key };
      const issued = await this.deps.issue({
        amountMsat,
        descriptionHash: input.requestHash,
        expirySecs: GATEWAY_INVOICE_EXPIRY_SECS,
      });
      return {
        kind: "challenge",
        route,
        routeKey: key,
        offer: {
          ...issued,
          expirySecs: GATEWAY_INVOICE_EXPIRY_SECS,
          network: wallet.network,
          nodePubkey: wallet.nodePubkey ?? "",
          merchantId: wallet.merchantId,
        },
      };
    }
    const refused = (reason: string, detail: string, retryAfterSecs?: number): AdmitOutcome => ({
      kind: "refused",
      route,
      routeKey: key,
      protocol: input.proof?.protocol ?? "browser",
      refusal: { reason, detail, ...(retryAfterSecs !== undefined && { retryAfterSecs }) },
    });
    if (
      input.proof.protocol !== "browser" &&
      !(route.protocols as readonly string[]).includes(input.proof.protocol)
    )
      return refused("protocol_not_offered", `This route does not offer ${input.proof.protocol}.`);
    const read = readProof(input.proof, {
      amountMsat,
      requestHash: input.requestHash,
      network: wallet.network,
      nodePubkey: wallet.nodePubkey ?? "",
      merchantId: wallet.merchantId,
      nowSecs: Math.floor(nowMs / 1000),
      networks: this.deps.networks,
    });
    if (!read.ok) return refused(read.refusal.reason, read.refusal.detail);
    const { paymentHash, preimage } = read;
    // §Receiver Key Isolation: only this merchant's invoice, for this very request and price.
    const entry = this.deps.book.get(paymentHash);
    if (!entry) return refused("unknown_invoice", "This merchant issued no such invoice.");
    if (entry.descriptionHash !== input.requestHash)
      return refused(
        "request_mismatch",
        "The invoice was issued for another request; a proof buys only the request it was offered for.",
      );
    if (entry.amountMsat !== amountMsat)
      return refused("amount_mismatch", "The invoice's amount is not this route's price.");
    const forward = async (retry: boolean): Promise<AdmitOutcome> => ({
      kind: "forward",
      route,
      routeKey: key,
      secret: await this.upstreamSecret(),
      paid: { protocol: proofProtocol(input.proof), paymentHash, network: wallet.network, retry },
    });
    if (this.deps.redemptions.get(paymentHash)) {
      if (this.tables.useRetry(paymentHash, input.requestHash, nowMs)) return forward(true);
      return refused(
        "already_redeemed",
        "This payment was already used: one payment buys one delivery. Send the request without a proof for a fresh invoice.",
      );
    }
    if (!(await this.received(entry, preimage, input.proof.protocol)))
      return refused(
        "payment_not_received",
        "The merchant's wallet has not seen this payment yet; retry in a moment.",
        1,
      );
    // No await between this insert and its check: of any number of concurrent proofs, one wins.
    const redeemed = this.deps.redemptions.redeem({
      paymentHash,
      settledAt: Math.floor(this.deps.nowMs() / 1000),
      amountMsat,
    });
    if (!redeemed)
      return refused(
        "already_redeemed",
        "This payment was already used: one payment buys one delivery.",
      );
    this.tables.count(key, nowMs, { paidRequests: 1, revenueMsat: amountMsat });
    return forward(false);
  }

  /**
   * After the upstream failed a paid request: counts it and, the first time only, keeps
   * the proof redeemable for one retry of the same bound request within the window.
   */
  reportFailure(failure: UpstreamFailure): RetryWindow {
    const nowMs = this.deps.nowMs();
    this.tables.count(failure.routeKey, nowMs, { upstreamFailures: 1 });
    if (failure.paymentHash === null || !this.deps.redemptions.get(failure.paymentHash))
      return { retryable: false, untilMs: null };
    const untilMs = nowMs + RETRY_WINDOW_MS;
    const granted = this.tables.grantRetry(failure.paymentHash, failure.requestHash, untilMs);
    return granted ? { retryable: true, untilMs } : { retryable: false, untilMs: null };
  }

  /** Counts an upstream failure of a metered session request (nothing was billed). */
  countFailure(routeKey: string): void {
    this.tables.count(routeKey, this.deps.nowMs(), { upstreamFailures: 1 });
  }

  /** Adds a closed session's earnings (units billed × its price) to its route's revenue. */
  countRevenue(routeKey: string, msat: number): void {
    this.tables.count(routeKey, this.deps.nowMs(), { revenueMsat: msat });
  }

  /** Counters per route since `sinceMs`. */
  stats(sinceMs: number): RouteStats[] {
    this.deps.wallet();
    return this.tables.stats(sinceMs);
  }

  /**
   * Paid means the wallet said it received the payment. A payer's valid preimage also
   * counts when the merchant declared exclusive use of its node key (then nobody else
   * can know it), never for `Ln402-Paid`, which carries no evidence at all.
   */
  async received(
    entry: BookEntry,
    preimage: string | null,
    protocol: GatewayProof["protocol"],
  ): Promise<boolean> {
    const hasPreimage = preimage !== null && proves(preimage, entry.paymentHash);
    let pending = this.confirming.get(entry.paymentHash);
    if (!pending) {
      pending = this.deps.confirm(entry, SKEW_MS, hasPreimage);
      this.confirming.set(entry.paymentHash, pending);
      void pending.finally(() => this.confirming.delete(entry.paymentHash)).catch(() => {});
    }
    if ((await pending.catch(() => "unavailable" as const)) === "paid") return true;
    return hasPreimage && protocol !== "browser" && (await this.deps.exclusiveNodeKey());
  }

  /** The upstream secret in plaintext ("" before one was issued): it goes to the upstream in a header. */
  async upstreamSecret(): Promise<string> {
    if (this.secret !== null) return this.secret;
    const sealed = await this.deps.storage.get<string>(SECRET_KEY);
    if (sealed === undefined) return "";
    this.secret = await unseal(
      this.deps.secretsKey,
      sealScope(this.deps.wallet().merchantId),
      sealed,
    );
    return this.secret;
  }
}

/** The sealed secret's associated data: it cannot be swapped with the NWC string or another merchant's. */
function sealScope(merchantId: string): string {
  return `${merchantId}/gateway-secret`;
}

function proofProtocol(proof: GatewayProof | null): GatewayProof["protocol"] {
  return proof?.protocol ?? "browser";
}
