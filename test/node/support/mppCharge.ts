import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { Hono } from "hono";
import { lightningChargeServer } from "../../../src/mpp/charge.ts";
import { type ChargeProgress, lightningChargeClient } from "../../../src/mpp/chargeClient.ts";
import { createPaymentFetch } from "../../../src/mpp/fetch.ts";
import { createPaymentHandler } from "../../../src/mpp/server.ts";
import {
  type Bolt11Network,
  decodeInvoice,
  encodeInvoice,
} from "../../../src/protocol/bolt11/Bolt11.ts";
import * as Challenge from "../../../src/protocol/mpp/Challenge.ts";
import * as Credential from "../../../src/protocol/mpp/Credential.ts";
import { LightningError } from "../../../src/providers/errors.ts";
import type {
  CreateInvoiceArgs,
  InvoiceState,
  LightningProvider,
  PayInvoiceArgs,
  ProviderInvoice,
} from "../../../src/providers/LightningProvider.ts";
import { MemoryStore } from "../../../src/store/MemoryStore.ts";

/**
 * Test doubles and the app factory shared by the lightning/charge suites
 * (mpp-charge.test.ts and mpp-charge-interop.test.ts). Each `setup()` builds a fresh,
 * independent world, so no state is shared between tests or files.
 */

export const SECRET = "test-only-mpp-secret-0123456789abcdef";
export const REALM = "api.test";
export const P = "https://paymentauth.org/problems/";

/** Shared by the test doubles below: preimages of issued invoices, and which were paid. */
export class TestLedger {
  readonly preimages = new Map<string, string>();
  readonly paid = new Set<string>();
}

/**
 * Test double, not a Lightning node: issues real signed regtest BOLT11 invoices with
 * `encodeInvoice` and "pays" one by revealing its preimage from the shared ledger, as
 * the devnet does. `stickyInvoices` returns the same unpaid invoice for the same amount
 * (as some hosted wallets do), which lets two challenges share one payment hash.
 */
export class DevnetLikeTestProvider implements LightningProvider {
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

type Setup = {
  expiresInSecs?: number;
  invoiceExpirySecs?: number;
  stickyInvoices?: boolean;
  secretKey?: string | string[];
  credentialHeader?: "Payment-Authorization";
};

/** A Hono app selling /weather (21 sat) and /cheap (1 sat) through ln402's server core. */
export function setup(options: Setup = {}) {
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
    idempotency: { store },
    ...options,
  });
  let delivered = 0;
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
      if (result.management) return result.management;
      delivered += 1;
      return result.respond(c.json({ forecast: "sunny", n: delivered }));
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
  return {
    ...{ ledger, clock, merchant, payer, store, serve, sent, pay, payFresh, send, progress },
    /** How many times a route handler ran past payment (delivered its content). */
    delivered: () => delivered,
  };
}
