import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { Hono } from "hono";
import { Receipt as MppxReceipt } from "mppx";
import { Mppx as MppxClient } from "mppx/client";
import { Mppx as MppxServer } from "mppx/server";
import { describe, expect, it } from "vitest";
import { lightningChargeServer } from "../../src/mpp/charge.ts";
import {
  type ChargeProgress,
  ChargeRefusedError,
  lightningChargeClient,
} from "../../src/mpp/chargeClient.ts";
import { createPaymentFetch } from "../../src/mpp/fetch.ts";
import { toMppxClientMethod, toMppxServerMethod } from "../../src/mpp/mppx.ts";
import { createPaymentHandler } from "../../src/mpp/server.ts";
import {
  type Bolt11Network,
  decodeInvoice,
  encodeInvoice,
} from "../../src/protocol/bolt11/Bolt11.ts";
import * as Challenge from "../../src/protocol/mpp/Challenge.ts";
import * as Credential from "../../src/protocol/mpp/Credential.ts";
import * as Receipt from "../../src/protocol/mpp/Receipt.ts";
import { LightningError } from "../../src/providers/errors.ts";
import type {
  CreateInvoiceArgs,
  InvoiceState,
  LightningProvider,
  PayInvoiceArgs,
  ProviderInvoice,
} from "../../src/providers/LightningProvider.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";

/**
 * lightning/charge over HTTP, end to end: ln402's server core and paying fetch, and
 * each against mppx 0.11 as the independent peer. Every assertion is on what a client
 * sees: status, problem type, fresh challenge, Payment-Receipt, and what was paid.
 */

const SECRET = "test-only-mpp-secret-0123456789abcdef";
const REALM = "api.test";
const P = "https://paymentauth.org/problems/";

/** Shared by the test doubles below: preimages of issued invoices, and which were paid. */
class TestLedger {
  readonly preimages = new Map<string, string>();
  readonly paid = new Set<string>();
}

/**
 * Test double, not a Lightning node: issues real signed regtest BOLT11 invoices with
 * `encodeInvoice` and "pays" one by revealing its preimage from the shared ledger, as
 * the devnet does. `stickyInvoices` returns the same unpaid invoice for the same amount
 * (as some hosted wallets do), which lets two challenges share one payment hash.
 */
class DevnetLikeTestProvider implements LightningProvider {
  readonly payments: string[] = [];
  readonly #key = secp256k1.utils.randomSecretKey();
  readonly #sticky = new Map<number, ProviderInvoice>();
  readonly ledger: TestLedger;
  readonly clock: { ms: number };
  readonly options: { network?: Bolt11Network; stickyInvoices?: boolean };
  constructor(
    ledger: TestLedger,
    clock: { ms: number },
    options: { network?: Bolt11Network; stickyInvoices?: boolean } = {},
  ) {
    this.ledger = ledger;
    this.clock = clock;
    this.options = options;
  }
  async createInvoice(args: CreateInvoiceArgs) {
    const expirySecs = args.expirySecs ?? 3600;
    const timestamp = Math.floor(this.clock.ms / 1000);
    const sticky = this.options.stickyInvoices ? this.#sticky.get(args.amountMsat) : undefined;
    if (sticky) return sticky;
    const preimage = bytesToHex(randomBytes(32));
    const paymentHash = bytesToHex(sha256(hexToBytes(preimage)));
    const invoice = encodeInvoice(
      {
        network: this.options.network ?? "regtest",
        amountMsat: args.amountMsat,
        timestamp,
        paymentHash,
        paymentSecret: bytesToHex(randomBytes(32)),
        description: args.description ?? "",
        expirySecs,
      },
      this.#key,
    );
    this.ledger.preimages.set(paymentHash, preimage);
    const issued = {
      invoice,
      paymentHash,
      amountMsat: args.amountMsat,
      expiresAt: timestamp + expirySecs,
    };
    this.#sticky.set(args.amountMsat, issued);
    return issued;
  }
  async payInvoice(args: PayInvoiceArgs) {
    const hash = decodeInvoice(args.invoice).paymentHash;
    const preimage = this.ledger.preimages.get(hash);
    if (!preimage) throw new LightningError("route_not_found", "unknown invoice");
    if (this.ledger.paid.has(hash)) throw new LightningError("payment_failed", "already paid");
    this.ledger.paid.add(hash);
    this.payments.push(hash);
    return { preimage, feesPaidMsat: 0 };
  }
  async lookupInvoice(paymentHash: string): Promise<InvoiceState> {
    return { paymentHash, state: this.ledger.paid.has(paymentHash) ? "settled" : "pending" };
  }
  async getNetwork() {
    return this.options.network ?? "regtest";
  }
}

type Setup = { expiresInSecs?: number; invoiceExpirySecs?: number; stickyInvoices?: boolean };

/** A Hono app selling /weather (21 sat) and /cheap (1 sat) through ln402's server core. */
function setup(options: Setup = {}) {
  const ledger = new TestLedger();
  const clock = { ms: Date.now() };
  const merchant = new DevnetLikeTestProvider(ledger, clock, options);
  const payer = new DevnetLikeTestProvider(ledger, clock);
  const store = new MemoryStore({ now: () => clock.ms });
  const method = lightningChargeServer({ provider: merchant, store, ...options });
  const payments = createPaymentHandler({
    secretKey: SECRET,
    realm: REALM,
    methods: [method],
    now: () => clock.ms,
    ...options,
  });
  const app = new Hono();
  for (const [path, amount] of [
    ["/weather", "21"],
    ["/cheap", "1"],
  ] as const) {
    app.get(path, async (c) => {
      const result = await payments.handle(c.req.raw, {
        intent: "charge",
        amount,
        description: "weather",
      });
      if (result.status === 402) return result.challenge;
      return result.withReceipt(c.json({ forecast: "sunny" }));
    });
  }
  const sent: Request[] = [];
  const serve = async (req: Request) => {
    sent.push(req.clone());
    return app.fetch(req);
  };
  const progress: ChargeProgress[] = [];
  const client = lightningChargeClient(payer, {
    now: () => clock.ms,
    onProgress: (e) => progress.push(e),
  });
  const pay = createPaymentFetch({ methods: [client], fetch: serve });
  /** The challenge of a fresh 402 and a credential that pays it. */
  const payFresh = async (path = "/weather") => {
    const res = await serve(new Request(`http://${REALM}${path}`));
    const [challenge] = Challenge.parseAll([res.headers.get("WWW-Authenticate") ?? ""]);
    if (!challenge) throw new Error("no challenge");
    const authorization = await client.createCredential({ challenge });
    return { challenge, authorization, credential: Credential.parse(authorization) };
  };
  const send = (authorization: string, path = "/weather") =>
    serve(new Request(`http://${REALM}${path}`, { headers: { Authorization: authorization } }));
  return { ledger, clock, merchant, payer, store, serve, sent, pay, payFresh, send, progress };
}

/** The problem body of a rejected request, after checking it carries a fresh challenge. */
async function rejected(res: Response, status = 402) {
  expect(res.status).toBe(status);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const [fresh] = Challenge.parseAll([res.headers.get("WWW-Authenticate") ?? ""]);
  expect(fresh && Challenge.verify(fresh, SECRET)).toBe(true);
  return (await res.json()) as { type: string; detail: string; challengeId: string };
}

const preimageOf = (ledger: TestLedger, hash: string) => ledger.preimages.get(hash) ?? "";

describe("lightning/charge over HTTP: ln402 server and ln402 client", () => {
  it("behavior: a 402 with a challenge, then a 200 with a receipt naming the challenge", async () => {
    const t = setup();
    const res = await t.pay(`http://${REALM}/weather`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ forecast: "sunny" });
    const first = await rejected(await t.serve(new Request(`http://${REALM}/weather`)));
    expect(first.type).toBe(`${P}payment-required`);
    const header = res.headers.get("Payment-Receipt") ?? "";
    const receipt = Receipt.parse(header);
    const [hash] = t.payer.payments;
    const paidChallenge = Credential.parse(t.sent[1]?.headers.get("Authorization") ?? "").challenge;
    expect(receipt).toMatchObject({ status: "success", method: "lightning", intent: "charge" });
    expect(receipt.reference).toBe(hash);
    expect(receipt.challengeId).toBe(paidChallenge.id);
    expect(Challenge.verify(paidChallenge, SECRET)).toBe(true);
    expect(JSON.stringify(receipt)).not.toContain(preimageOf(t.ledger, hash ?? ""));
    expect(res.headers.get("Cache-Control")).toBe("private");
    expect(t.payer.payments).toHaveLength(1);
  });

  it("behavior: the same credential again (a lost response) gets the same receipt, not a second charge", async () => {
    const t = setup();
    const { authorization } = await t.payFresh();
    const first = await t.send(authorization);
    const [again, concurrent] = await Promise.all([t.send(authorization), t.send(authorization)]);
    for (const res of [again, concurrent]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("Payment-Receipt")).toBe(first.headers.get("Payment-Receipt"));
    }
    expect(t.payer.payments).toHaveLength(1);
  });

  it("behavior: a cached answer is still given after the challenge expired", async () => {
    const t = setup();
    const { authorization } = await t.payFresh();
    const first = await t.send(authorization);
    t.clock.ms += 3600_000;
    const late = await t.send(authorization);
    expect(late.status).toBe(200);
    expect(late.headers.get("Payment-Receipt")).toBe(first.headers.get("Payment-Receipt"));
  });

  it("error: a preimage used for one challenge does not pay another that shares its invoice", async () => {
    const t = setup({ stickyInvoices: true });
    const a = await t.payFresh();
    t.clock.ms += 1000;
    const b = await t.payFresh();
    expect(b.challenge.id).not.toBe(a.challenge.id);
    expect(b.credential.payload).toEqual(a.credential.payload);
    expect(t.progress.map((e) => e.type)).toEqual(["paying", "paid", "reused"]);
    const [ra, rb] = await Promise.all([t.send(a.authorization), t.send(b.authorization)]);
    expect(ra.status).toBe(200);
    const problem = await rejected(rb);
    expect(problem.type).toBe(`${P}verification-failed`);
    expect(problem.detail).toMatch(/already used/);
  });

  it("error: an old preimage on a fresh challenge is an invalid preimage", async () => {
    const t = setup();
    const old = await t.payFresh();
    const fresh = await t.payFresh();
    const forged = Credential.serialize({
      challenge: fresh.challenge,
      payload: old.credential.payload,
    });
    const problem = await rejected(await t.send(forged));
    expect(problem.type).toBe(`${P}lightning/invalid-preimage`);
  });

  it("error: a wrong preimage is a lightning/invalid-preimage with a fresh challenge", async () => {
    const t = setup();
    const { challenge } = await t.payFresh();
    const wrong = Credential.serialize({ challenge, payload: { preimage: "00".repeat(32) } });
    const problem = await rejected(await t.send(wrong));
    expect(problem.type).toBe(`${P}lightning/invalid-preimage`);
    expect(problem.challengeId).not.toBe(challenge.id);
  });

  it("error: a preimage that is not 64 lowercase hex is a lightning/malformed-credential", async () => {
    const t = setup();
    const { challenge, credential } = await t.payFresh();
    const upper = String(credential.payload.preimage).toUpperCase();
    const res = await t.send(Credential.serialize({ challenge, payload: { preimage: upper } }));
    expect((await rejected(res)).type).toBe(`${P}lightning/malformed-credential`);
    expect((await rejected(await t.send("Payment %%%"))).type).toBe(`${P}malformed-credential`);
  });

  it("error: a tampered challenge id or echoed amount is an invalid-challenge", async () => {
    const t = setup();
    const { challenge, credential } = await t.payFresh();
    const tamperedId = { ...challenge, id: `${challenge.id.slice(0, -2)}AA` };
    const cheaper = { ...challenge, request: { ...challenge.request, amount: "1" } };
    for (const echo of [tamperedId, cheaper]) {
      const res = await t.send(
        Credential.serialize({ challenge: echo, payload: credential.payload }),
      );
      expect((await rejected(res)).type).toBe(`${P}invalid-challenge`);
    }
  });

  it("error: a paid challenge of a cheaper route does not buy a dearer one", async () => {
    const t = setup();
    const { authorization } = await t.payFresh("/cheap");
    const problem = await rejected(await t.send(authorization, "/weather"));
    expect(problem.type).toBe(`${P}invalid-challenge`);
    expect(problem.detail).toMatch(/costs 21 sat/);
  });

  it("error: a challenge past its expires is payment-expired; past its invoice, expired-invoice", async () => {
    const t = setup();
    const { authorization } = await t.payFresh();
    t.clock.ms += 301_000;
    expect((await rejected(await t.send(authorization))).type).toBe(`${P}payment-expired`);

    const u = setup({ expiresInSecs: 600, invoiceExpirySecs: 60 });
    const late = await u.payFresh();
    u.clock.ms += 61_000;
    expect((await rejected(await u.send(late.authorization))).type).toBe(
      `${P}lightning/expired-invoice`,
    );
  });

  it("error: a credential for a method not offered is a 400 method-unsupported", async () => {
    const t = setup();
    const { challenge, credential } = await t.payFresh();
    const res = await t.send(
      Credential.serialize({
        challenge: { ...challenge, method: "tempo" },
        payload: credential.payload,
      }),
    );
    expect((await rejected(res, 400)).type).toBe(`${P}method-unsupported`);
  });

  it("error: a secret key under 32 bytes is refused at start-up", () => {
    const method = setup().merchant;
    expect(() =>
      createPaymentHandler({
        secretKey: "short",
        realm: REALM,
        methods: [lightningChargeServer({ provider: method })],
      }),
    ).toThrow(RangeError);
  });

  it("error: the client refuses an invoice above its limit or not matching the challenge, paying nothing", async () => {
    const t = setup();
    const res = await t.serve(new Request(`http://${REALM}/weather`));
    const [challenge] = Challenge.parseAll([res.headers.get("WWW-Authenticate") ?? ""]);
    if (!challenge) throw new Error("no challenge");
    const capped = lightningChargeClient(t.payer, { maxAmountSats: 20 });
    await expect(capped.createCredential({ challenge })).rejects.toMatchObject({
      reason: "over-limit",
    });
    const lying = { ...challenge, request: { ...challenge.request, amount: "2" } };
    await expect(capped.createCredential({ challenge: lying })).rejects.toBeInstanceOf(
      ChargeRefusedError,
    );
    const mainnetOnly = lightningChargeClient(t.payer, { network: "mainnet" });
    await expect(mainnetOnly.createCredential({ challenge })).rejects.toMatchObject({
      reason: "network-mismatch",
    });
    expect(t.payer.payments).toHaveLength(0);
  });
});

describe("lightning/charge interop with mppx 0.11", () => {
  it("interop: the mppx client pays ln402's server", async () => {
    const t = setup();
    const mppx = MppxClient.create({
      methods: [toMppxClientMethod(lightningChargeClient(t.payer))],
      polyfill: false,
      fetch: (input: Request | string | URL, init?: RequestInit) =>
        t.serve(new Request(input, init)),
    });
    const res = await mppx.fetch(`http://${REALM}/weather`);
    expect(res.status).toBe(200);
    const receipt = MppxReceipt.fromResponse(res);
    const paidChallenge = Credential.parse(t.sent[1]?.headers.get("Authorization") ?? "").challenge;
    expect(receipt.reference).toBe(t.payer.payments[0]);
    expect(Receipt.parse(res.headers.get("Payment-Receipt") ?? "").challengeId).toBe(
      paidChallenge.id,
    );
    expect(Challenge.verify(paidChallenge, SECRET)).toBe(true);
    expect(t.payer.payments).toHaveLength(1);
  });

  it("interop: ln402's client pays an mppx server using ln402's method", async () => {
    const t = setup();
    const method = lightningChargeServer({ provider: t.merchant, store: t.store });
    const mppx = MppxServer.create({
      methods: [toMppxServerMethod(method)],
      secretKey: SECRET,
      realm: REALM,
    });
    const sent: Request[] = [];
    const serve = async (req: Request) => {
      sent.push(req.clone());
      const result = await mppx.charge({ amount: "21", currency: "sat" })(req);
      return result.status === 402
        ? result.challenge
        : result.withReceipt(Response.json({ forecast: "sunny" }));
    };
    const pay = createPaymentFetch({ methods: [lightningChargeClient(t.payer)], fetch: serve });
    const res = await pay(`http://${REALM}/weather`);
    expect(res.status).toBe(200);
    const receipt = Receipt.parse(res.headers.get("Payment-Receipt") ?? "");
    const paidChallenge = Credential.parse(sent[1]?.headers.get("Authorization") ?? "").challenge;
    expect(receipt).toMatchObject({
      method: "lightning",
      reference: t.payer.payments[0],
      challengeId: paidChallenge.id,
    });
    expect(Challenge.verify(paidChallenge, SECRET)).toBe(true);

    // The same method's problems come out of mppx with their lightning types.
    const first = await serve(new Request(`http://${REALM}/weather`));
    const [challenge] = Challenge.parseAll([first.headers.get("WWW-Authenticate") ?? ""]);
    if (!challenge) throw new Error("no challenge");
    const wrong = Credential.serialize({ challenge, payload: { preimage: "00".repeat(32) } });
    const bad = await serve(
      new Request(`http://${REALM}/weather`, { headers: { Authorization: wrong } }),
    );
    expect(bad.status).toBe(402);
    expect(((await bad.json()) as { type: string }).type).toBe(`${P}lightning/invalid-preimage`);
    expect(t.payer.payments).toHaveLength(1);
  });
});
