/**
 * The 402 offers `ln402 pay` can pay, in the order it prefers them. This list is the one
 * place a new scheme (L402, say) is added: each entry says whether a
 * 402 carries its kind of offer and pays it through the project's own clients, which
 * check every invoice (signature, amount, hash, network, expiry, cap) before paying.
 */
import { type x402Client, x402HTTPClient } from "@x402/core/client";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { ExactLnbtcClientScheme } from "../client/lnbtc.ts";
import { bindRequest, lnbtcPayer, lnbtcX402Client } from "../client/lnbtcFetch.ts";
import { createLightningX402Client } from "../client/x402.ts";
import { lightningChargeClient } from "../mpp/chargeClient.ts";
import { createPaymentFetch } from "../mpp/fetch.ts";
import { decodeInvoice } from "../protocol/bolt11/Bolt11.ts";
import {
  isLnbtcNamespace,
  type LnbtcNetworkName,
  SPEC_NETWORKS,
} from "../protocol/x402/lnbtc/Networks.ts";
import { lightningNetwork } from "../protocol/x402/Networks.ts";
import { CliError, EXIT, short, step } from "./io.ts";
import {
  lightningChallenges,
  type Paid,
  type PayContext,
  type Payment,
  type PayScheme,
  replaying,
} from "./offer.ts";
import { mppSession } from "./session.ts";

/** The x402 v2 offer of a 402 (its `PAYMENT-REQUIRED` header), or null. */
function x402Required(res: Response): PaymentRequired | null {
  const header = res.headers.get("PAYMENT-REQUIRED");
  if (!header) return null;
  try {
    return decodePaymentRequiredHeader(header);
  } catch {
    return null;
  }
}

/** What an x402 scheme's wallet paid, for `--json`. */
type X402Paid = { paymentHash: string; amountMsat: number; network: string };

/** A wallet that says what it pays on stderr and remembers it for the report. */
function reportingWallet(ctx: PayContext) {
  let paid: X402Paid | null = null;
  return {
    paid: () => paid,
    async payInvoice(invoice: string) {
      const decoded = decodeInvoice(invoice);
      const amountMsat = decoded.amountMsat ?? 0;
      step(ctx.io, "pay", `${amountMsat / 1000} sats, invoice ${short(invoice)}`);
      const result = await ctx.wallet.payInvoice({ invoice });
      paid = { paymentHash: decoded.paymentHash, amountMsat, network: decoded.network };
      step(ctx.io, "paid", `preimage ${short(result.preimage)}`);
      return result;
    },
  };
}

/**
 * The x402 steps every Lightning scheme shares: refuse a price over the cap before the
 * client is asked, have `client` check and pay the offer it takes, retry with the
 * payment, and read the settlement receipt.
 */
async function payX402(
  required: PaymentRequired,
  ctx: PayContext,
  ours: (accept: PaymentRequirements) => boolean,
  client: x402Client,
  paid: () => X402Paid | null,
): Promise<Paid> {
  const capMsat = ctx.maxSats * 1000;
  const accepts = required.accepts.filter(ours);
  // The SDK's spend controls would refuse too, with a message about its own settings.
  const prices = accepts.filter((r) => /^[0-9]{1,16}$/.test(r.amount)).map((r) => Number(r.amount));
  if (prices.length > 0 && Math.min(...prices) > capMsat)
    throw new CliError(
      EXIT.refused,
      `The price, ${Math.min(...prices)} msat, is over --max-sats ${ctx.maxSats}. Nothing was paid.`,
    );
  for (const offer of accepts)
    step(ctx.io, "402", `x402 ${offer.scheme} on ${offer.network}: ${offer.amount} msat`);
  const http = new x402HTTPClient(client);
  const payload = await client.createPaymentPayload(required);
  const retry = ctx.request();
  for (const [name, value] of Object.entries(http.encodePaymentSignatureHeader(payload)))
    retry.headers.set(name, value);
  const response = await ctx.send(retry);
  let receipt: unknown = null;
  try {
    receipt = http.getPaymentSettleResponse((name) => response.headers.get(name));
  } catch {
    receipt = null;
  }
  const done = paid();
  return {
    response,
    payment: {
      protocol: "x402",
      scheme: "exact",
      network: payload.accepted?.network ?? done?.network ?? null,
      amountSats: (done?.amountMsat ?? 0) / 1000,
      paymentHash: done?.paymentHash ?? "",
      receipt,
    },
  };
}

const isLnbtc = (r: PaymentRequirements) => r.scheme === "exact" && isLnbtcNamespace(r.network);

/**
 * x402 `exact` on `lnbtc` (the official scheme): the invoice must be bound to this very
 * request (method, URL, body, offered headers), recomputed here from the request the
 * user asked for and never taken from the server's echo. Pays on the spec's networks and
 * on the wallet's own (a regtest wallet pays regtest offers).
 */
const x402Lnbtc: PayScheme = {
  name: "x402 exact on lnbtc",
  offered: (res) => x402Required(res)?.accepts.some(isLnbtc) ?? false,
  async pay(res, ctx) {
    const required = x402Required(res);
    if (!required) throw new Error("The 402 carries no readable x402 offer.");
    const capMsat = ctx.maxSats * 1000;
    const wallet = reportingWallet(ctx);
    const walletNetwork = await ctx.wallet.getNetwork?.();
    const networks: LnbtcNetworkName[] = [...SPEC_NETWORKS];
    if (walletNetwork === "regtest") networks.push("regtest");
    const scheme = new ExactLnbtcClientScheme({
      payer: lnbtcPayer(wallet),
      maxAmountMsat: capMsat,
      budgetMsat: capMsat,
      networks,
    });
    const request = ctx.request();
    const client = lnbtcX402Client(scheme, await bindRequest(request), {
      maxAmountMsat: capMsat,
      url: request.url,
    });
    return payX402(required, ctx, isLnbtc, client, wallet.paid);
  },
};

/** x402 `exact` with a Lightning invoice (`bip122:*`, legacy `lightning:*`). */
const x402Exact: PayScheme = {
  name: "x402 exact on bip122 (legacy)",
  offered: (res) =>
    x402Required(res)?.accepts.some((r) => lightningNetwork(r.network) !== null) ?? false,
  async pay(res, ctx) {
    const required = x402Required(res);
    if (!required) throw new Error("The 402 carries no readable x402 offer.");
    const capMsat = ctx.maxSats * 1000;
    const wallet = reportingWallet(ctx);
    const client = createLightningX402Client({
      wallet,
      maxAmountMsat: capMsat,
      budgetMsat: capMsat,
    });
    return payX402(required, ctx, (r) => lightningNetwork(r.network) !== null, client, wallet.paid);
  },
};

/** MPP `lightning` / `charge` (draft-lightning-charge-00). */
const mppCharge: PayScheme = {
  name: "MPP lightning charge",
  offered: (res) => lightningChallenges(res, "charge").length > 0,
  async pay(res, ctx) {
    let payment: Payment | null = null;
    const method = lightningChargeClient(ctx.wallet, {
      maxAmountSats: ctx.maxSats,
      onProgress(event) {
        if (event.type === "paying") {
          step(ctx.io, "402", `MPP lightning charge: ${event.amountSats} sats`);
          step(ctx.io, "pay", `${event.amountSats} sats, payment hash ${short(event.paymentHash)}`);
          payment = {
            protocol: "mpp",
            scheme: "charge",
            network: null,
            amountSats: event.amountSats,
            paymentHash: event.paymentHash,
            receipt: null,
          };
        } else if (event.type === "paid") {
          step(ctx.io, "paid", `fees ${event.feesPaidMsat} msat`);
        }
      },
    });
    const [challenge] = lightningChallenges(res, "charge");
    const invoice = challenge?.request.methodDetails;
    const fetchPaid = createPaymentFetch({ methods: [method], fetch: replaying(res, ctx.send) });
    const response = await fetchPaid(ctx.request());
    const made = payment as Payment | null;
    if (!made) throw new Error("The MPP charge challenge was not paid.");
    const bolt11 =
      typeof invoice === "object" && invoice !== null && "invoice" in invoice
        ? String(invoice.invoice)
        : "";
    return {
      response,
      payment: {
        ...made,
        network: bolt11 ? decodeInvoice(bolt11).network : null,
        receipt: response.headers.get("Payment-Receipt"),
      },
    };
  },
};

/** Every scheme `ln402 pay` knows, most preferred first. */
export const SCHEMES: readonly PayScheme[] = [x402Lnbtc, x402Exact, mppCharge, mppSession];
