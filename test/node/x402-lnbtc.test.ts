import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { type FacilitatorClient, x402ResourceServer } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { wrapFetchWithPayment } from "@x402/fetch";
import { paymentMiddleware } from "@x402/hono";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { Ledger } from "../../devnet/ledger.ts";
import { ExactLnbtcClientScheme, type LnbtcPayer } from "../../src/client/lnbtc.ts";
import { wrapFetchWithLnbtc } from "../../src/client/lnbtcFetch.ts";
import { LNBTC_NETWORKS } from "../../src/protocol/x402/lnbtc/Networks.ts";
import { settleResponse } from "../../src/protocol/x402/lnbtc/Responses.ts";
import {
  checkIsolation,
  checkSettlement,
  type IssuedRecord,
} from "../../src/protocol/x402/lnbtc/Settle.ts";
import { ExactLnbtcServerScheme } from "../../src/x402/lnbtc.ts";
import type { LightningReceiver } from "../../src/x402/receiver.ts";

/**
 * x402 lnbtc end to end in one process: `@x402/hono` with ln402's server scheme,
 * `@x402/fetch` with ln402's client scheme, the devnet ledger as both nodes, and a
 * facilitator made of the pure settle check, the isolation check over the issued
 * invoices, and an atomic replay set (the part the merchant's Durable Object owns).
 */

const REGTEST = LNBTC_NETWORKS.regtest;
const NETWORKS = ["regtest"] as const;

function world() {
  const ledger = new Ledger();
  ledger.openAccount("merchant");
  ledger.openAccount("payer", 10_000_000);
  ledger.openAccount("cotenant", 10_000_000);
  const payTo = ledger.nodePubkey("merchant");
  const issued = new Map<string, IssuedRecord>();
  const replay = new Set<string>();
  const calls = { verify: 0, settle: 0, invoices: 0, payments: 0 };
  const state = { lastReason: "" };
  const receiver: LightningReceiver = {
    async createInvoice({ amountMsat, descriptionHash, expirySeconds }) {
      calls.invoices += 1;
      const tx = ledger.makeInvoice("merchant", {
        amountMsat: Number(amountMsat),
        descriptionHash,
        expirySecs: expirySeconds,
      });
      issued.set(tx.payment_hash, {
        network: REGTEST,
        amountMsat: Number(amountMsat),
        requestHash: descriptionHash,
      });
      return tx.invoice;
    },
  };
  const facilitator = {
    async verify() {
      calls.verify += 1;
      return { isValid: false, invalidReason: "upfront flows never verify" };
    },
    async settle(
      payload: PaymentPayload,
      requirements: PaymentRequirements,
    ): Promise<SettleResponse> {
      calls.settle += 1;
      let verdict = checkSettlement(
        { accepted: payload.accepted, payload: payload.payload, requirements },
        { now: Math.floor(Date.now() / 1000), networks: NETWORKS },
      );
      if (verdict.ok) {
        const received =
          ledger.lookup("merchant", { paymentHash: verdict.paymentHash }).state === "settled";
        verdict = checkIsolation(verdict, {
          issued: issued.get(verdict.paymentHash) ?? null,
          receiptConfirmed: received,
        });
      }
      if (verdict.ok) {
        // The caller's atomic insert: a taken key is duplicate_settlement.
        if (replay.has(verdict.replayKey)) {
          verdict = { ok: false, errorReason: "duplicate_settlement", step: 9 };
        } else replay.add(verdict.replayKey);
      }
      state.lastReason = verdict.ok ? "" : verdict.errorReason;
      return settleResponse(verdict, requirements.network) as SettleResponse;
    },
    async getSupported() {
      return {
        kinds: [{ x402Version: 2, scheme: "exact", network: REGTEST }],
        extensions: [],
        signers: {},
      };
    },
  } as unknown as FacilitatorClient;

  const server = new x402ResourceServer(facilitator).register(
    REGTEST,
    new ExactLnbtcServerScheme({
      receiver,
      payTo,
      networks: NETWORKS,
      binding: { profile: "http:1", publicOrigin: "https://api.test", headers: ["accept"] },
    }),
  );
  const app = new Hono();
  const route = (path: string) => ({
    accepts: {
      scheme: "exact",
      network: REGTEST,
      price: { asset: "BTC", amount: "21000" },
      payTo,
      maxTimeoutSeconds: 300,
    },
    resource: `https://api.test${path}`,
  });
  app.use(
    paymentMiddleware(
      { "GET /article/A": route("/article/A"), "GET /article/B": route("/article/B") },
      server,
    ),
  );
  app.get("/article/:id", (c) => c.json({ article: c.req.param("id") }));
  const resource: typeof fetch = async (input, init) => app.fetch(new Request(input, init));

  const payer: LnbtcPayer = {
    async payInvoice(invoice) {
      calls.payments += 1;
      const tx = await ledger.payInvoice("payer", invoice);
      return { status: "paid", preimage: tx.preimage, invoice };
    },
  };
  const client = new ExactLnbtcClientScheme({ payer, maxAmountMsat: 50_000, networks: NETWORKS });
  const paying = wrapFetchWithLnbtc(resource, client, {
    maxAmountMsat: 50_000,
    wrapFetchWithPayment,
  });
  return {
    ledger,
    resource,
    paying,
    calls,
    replay,
    payTo,
    client,
    get lastReason() {
      return state.lastReason;
    },
  };
}

describe("x402 lnbtc end to end (@x402/hono + @x402/fetch)", () => {
  it("behavior: a 402 offers a request-bound lnbtc invoice; paying it serves the article once the settle succeeds", async () => {
    const w = world();
    const unpaid = await w.resource("https://api.test/article/A");
    expect(unpaid.status).toBe(402);
    const offer = decodePaymentRequiredHeader(unpaid.headers.get("PAYMENT-REQUIRED") ?? "")
      .accepts[0];
    expect(offer).toMatchObject({
      network: REGTEST,
      payTo: w.payTo,
      amount: "21000",
      maxTimeoutSeconds: 300,
      extra: {
        paymentFlow: "upfront",
        assetTransferMethod: "bolt11",
        requestBindingProfile: "http:1",
        requestBindingParams: { headers: ["accept"] },
      },
    });
    const paid = await w.paying("https://api.test/article/A");
    expect(paid.status).toBe(200);
    expect(await paid.json()).toEqual({ article: "A" });
    const settlement = decodePaymentResponseHeader(paid.headers.get("PAYMENT-RESPONSE") ?? "");
    expect(settlement).toMatchObject({ success: true, network: REGTEST });
    expect(settlement.payer).toBeUndefined();
    expect([w.ledger.balance("merchant"), w.calls.verify, w.calls.payments]).toEqual([
      21_000, 0, 1,
    ]);
  });

  it("error: article A's proof presented for article B is refused and B is not served", async () => {
    const w = world();
    let proof = "";
    const capture: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      proof = request.headers.get("PAYMENT-SIGNATURE") ?? proof;
      return w.resource(request);
    };
    const client = new ExactLnbtcClientScheme({
      payer: {
        payInvoice: async (invoice) => ({
          status: "paid",
          preimage: (await w.ledger.payInvoice("payer", invoice)).preimage,
        }),
      },
      maxAmountMsat: 50_000,
      networks: NETWORKS,
    });
    expect(
      (
        await wrapFetchWithLnbtc(capture, client, { maxAmountMsat: 50_000, wrapFetchWithPayment })(
          "https://api.test/article/A",
        )
      ).status,
    ).toBe(200);
    const replayed = await w.resource("https://api.test/article/B", {
      headers: { "PAYMENT-SIGNATURE": proof },
    });
    expect(replayed.status).toBe(402);
    expect(await replayed.text()).not.toContain('"article"');
  });

  it("error: the same proof twice is served once (duplicate_settlement)", async () => {
    const w = world();
    let proof = "";
    const capture: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      proof = request.headers.get("PAYMENT-SIGNATURE") ?? proof;
      return w.resource(request);
    };
    expect(
      (
        await wrapFetchWithLnbtc(capture, w.client, {
          maxAmountMsat: 50_000,
          wrapFetchWithPayment,
        })("https://api.test/article/A")
      ).status,
    ).toBe(200);
    const again = await w.resource("https://api.test/article/A", {
      headers: { "PAYMENT-SIGNATURE": proof },
    });
    expect([again.status, w.lastReason]).toEqual([402, "duplicate_settlement"]);
    expect(w.replay.size).toBe(1);
  });

  it("error: a co-tenant's self-paid invoice under the same node key is refused (unknown_invoice)", async () => {
    const w = world();
    const unpaid = await w.resource("https://api.test/article/A");
    const offer = decodePaymentRequiredHeader(unpaid.headers.get("PAYMENT-REQUIRED") ?? "")
      .accepts[0] as PaymentRequirements;
    // The co-tenant makes its own invoice on the merchant's node key (same request hash) and pays it.
    const own = w.ledger.makeInvoice("merchant", {
      amountMsat: 21_000,
      descriptionHash: String(offer.extra.requestHash),
      expirySecs: 300,
    });
    const paid = await w.ledger.payInvoice("cotenant", own.invoice);
    const forged = {
      x402Version: 2,
      accepted: { ...offer, extra: { ...offer.extra, invoice: own.invoice } },
      payload: { preimage: paid.preimage },
    };
    const header = Buffer.from(JSON.stringify(forged)).toString("base64");
    const res = await w.resource("https://api.test/article/A", {
      headers: { "PAYMENT-SIGNATURE": header },
    });
    expect(res.status).toBe(402);
    // It passed every stateless check and reached settle: only isolation refused it.
    expect([w.calls.settle, w.replay.size, w.lastReason]).toEqual([1, 0, "unknown_invoice"]);
  });

  it("error: a client asked to pay for another request than its own refuses before paying", async () => {
    const w = world();
    // The server answers every request with article B's challenge.
    const liar: typeof fetch = async (_input, init) =>
      w.resource("https://api.test/article/B", init);
    const lied = wrapFetchWithLnbtc(liar, w.client, {
      maxAmountMsat: 50_000,
      wrapFetchWithPayment,
    });
    await expect(lied("https://api.test/article/A")).rejects.toThrow(/request_mismatch/);
    expect(w.calls.payments).toBe(0);
  });
});
