import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, startDevnet } from "../../devnet/index.ts";
import { keysOf } from "../../src/mpp/keys.ts";
import { PENDING_WAIT_MS, Refunds } from "../../src/mpp/session/refunds.ts";
import { paymentHashOf } from "../../src/protocol/Preimage.ts";
import { PaymentTimeoutError } from "../../src/providers/errors.ts";
import type { LightningProvider } from "../../src/providers/LightningProvider.ts";
import { NwcLightningProvider } from "../../src/providers/nwc.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";

/**
 * A session refund whose attempt died between recording `pending` and recording its
 * outcome (the process crashed, the Durable Object was evicted): the record is written
 * into the store as that attempt left it, and a fresh `Refunds` settles it from what the
 * merchant's devnet wallet says it paid. Balances are the devnet ledger's.
 */

const keys = keysOf("recovery");
const REFUND_MSAT = 7_000;
let devnet: Devnet;
let merchant: NwcLightningProvider;
let payer: NwcLightningProvider;

beforeAll(async () => {
  devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: { balanceSats: 10_000 }, payer: { balanceSats: 1_000 }, other: {} },
  });
  const provider = (name: string) =>
    new NwcLightningProvider({
      connectionString: devnet.wallet(name).connectionString,
      allowInsecureRelays: true,
    });
  merchant = provider("merchant");
  payer = provider("payer");
});
afterAll(async () => {
  merchant.close();
  payer.close();
  await devnet.stop();
});

/** A MemoryStore that counts the compare-and-swaps that took. */
class CountingStore extends MemoryStore {
  swaps = 0;
  override async compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    options?: { ttlSecs?: number },
  ) {
    const swapped = await super.compareAndSwap(key, expected, next, options);
    if (swapped) this.swaps++;
    return swapped;
  }
}

/** A session whose refund attempt died mid-payment `ageMs` ago, seen by a fresh instance. */
async function crashed(options: { ageMs: number; provider?: LightningProvider }) {
  let now = 1_700_000_000_000;
  const store = new CountingStore({ now: () => now });
  const sessionId = paymentHashOf(crypto.randomUUID().replaceAll("-", "").padEnd(64, "0"));
  const left = { status: "pending", refundMsat: REFUND_MSAT, attemptedAt: now };
  await store.put(keys.refund(sessionId), JSON.stringify(left));
  now += options.ageMs;
  const refunds = new Refunds({
    store,
    keys,
    provider: options.provider ?? merchant,
    now: () => now,
    pollIntervalMs: 5,
  });
  return { store, refunds, sessionId, raw: () => store.get(keys.refund(sessionId)) };
}

const balances = () => ({
  merchant: devnet.wallet("merchant").balanceMsat(),
  payer: devnet.wallet("payer").balanceMsat(),
});

describe("Refunds: a refund left pending by a crashed attempt", () => {
  it("behavior: the wallet did pay it: resolved as succeeded with the payment's preimage, and nothing more is paid", async () => {
    const back = await payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    const { refunds, sessionId } = await crashed({ ageMs: PENDING_WAIT_MS });
    // The dead attempt's payment reached the wallet before the process died.
    const paid = await merchant.payInvoice({ invoice: back.invoice, amountMsat: REFUND_MSAT });
    const before = balances();

    const outcome = await refunds.resolvePending(sessionId, back.invoice);
    expect(outcome).toEqual({ status: "succeeded", preimage: paid.preimage });
    expect(paymentHashOf(paid.preimage)).toBe(back.paymentHash);
    expect(await refunds.recorded(sessionId)).toMatchObject({ status: "succeeded" });
    // A retried close and a retry report it and pay nothing.
    expect(await refunds.refundOnce(sessionId, back.invoice, REFUND_MSAT)).toMatchObject({
      status: "succeeded",
    });
    expect(await refunds.retryFailed(sessionId, back.invoice)).toMatchObject({
      status: "succeeded",
    });
    expect(balances()).toEqual(before);
  });

  it("behavior: the wallet never paid it: resolved as failed, and the retry pays it exactly once", async () => {
    const back = await payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    const { refunds, sessionId, raw, store } = await crashed({ ageMs: PENDING_WAIT_MS });
    const before = balances();

    // 8 concurrent resolvers: exactly one transition, all see it.
    const stored = await raw();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => refunds.resolvePending(sessionId, back.invoice)),
    );
    expect(outcomes.map((o) => o?.status)).toEqual(Array(8).fill("failed"));
    expect(await raw()).not.toBe(stored);
    expect(store.swaps).toBe(1);
    expect(await refunds.recorded(sessionId)).toMatchObject({
      status: "failed",
      error: "payment_not_started",
    });
    expect(balances()).toEqual(before);

    // 8 concurrent retries: one payment.
    const retried = await Promise.all(
      Array.from({ length: 8 }, () => refunds.retryFailed(sessionId, back.invoice)),
    );
    expect(retried.filter((o) => o?.status === "succeeded").length).toBeGreaterThanOrEqual(1);
    expect(retried.every((o) => o === null || o.status !== "failed")).toBe(true);
    expect(await refunds.recorded(sessionId)).toMatchObject({ status: "succeeded" });
    expect(balances()).toEqual({
      merchant: before.merchant - REFUND_MSAT,
      payer: before.payer + REFUND_MSAT,
    });
  });

  it("behavior: a record still within the wait is left pending, and bad input changes nothing", async () => {
    const back = await payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    const fresh = await crashed({ ageMs: PENDING_WAIT_MS - 1 });
    const stored = await fresh.raw();
    expect(await fresh.refunds.resolvePending(fresh.sessionId, back.invoice)).toEqual({
      status: "pending",
    });
    expect(await fresh.raw()).toBe(stored);
    const stale = await crashed({ ageMs: PENDING_WAIT_MS });
    const staleRaw = await stale.raw();
    expect(await stale.refunds.resolvePending(stale.sessionId, "lnbcrt1garbage")).toEqual({
      status: "pending",
    });
    expect(await stale.raw()).toBe(staleRaw);
  });

  it("security: a return invoice the merchant's own wallet issued, settled by someone, is not reported as a paid refund", async () => {
    const own = await merchant.createInvoice({ amountMsat: REFUND_MSAT, expirySecs: 86_400 });
    await payer.payInvoice({ invoice: own.invoice });
    expect(await merchant.lookupInvoice(own.paymentHash)).toMatchObject({ state: "settled" });
    const { refunds, sessionId } = await crashed({ ageMs: PENDING_WAIT_MS });
    const before = balances();

    const outcome = await refunds.resolvePending(sessionId, own.invoice);
    expect(outcome?.status).not.toBe("succeeded");
    expect(await refunds.recorded(sessionId)).toMatchObject({ status: "failed" });
    // Its retry cannot pay an invoice that is already settled: still failed, no money moves.
    expect(await refunds.retryFailed(sessionId, own.invoice)).toMatchObject({ status: "failed" });
    expect(balances()).toEqual(before);
  });

  it("behavior: a payment that timed out but completed is reported as succeeded", async () => {
    const back = await payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    // The wallet paid, but its answer was lost: the provider reports a timeout.
    const lateWallet: LightningProvider = {
      createInvoice: (args) => merchant.createInvoice(args),
      lookupInvoice: (hash) => merchant.lookupInvoice(hash),
      lookupPayment: (hash) => merchant.lookupPayment(hash),
      payInvoice: async (args) => {
        await merchant.payInvoice(args);
        throw new PaymentTimeoutError();
      },
    };
    const store = new MemoryStore();
    const refunds = new Refunds({
      store,
      keys,
      provider: lateWallet,
      now: Date.now,
      pollIntervalMs: 5,
    });
    const before = balances();
    const outcome = await refunds.refundOnce("ab".repeat(32), back.invoice, REFUND_MSAT);
    expect(outcome.status).toBe("succeeded");
    expect(paymentHashOf(outcome.preimage ?? "00".repeat(32))).toBe(back.paymentHash);
    expect(balances().payer - before.payer).toBe(REFUND_MSAT);
  });

  it("behavior: a provider that cannot look payments up leaves the refund pending, honestly", async () => {
    const back = await payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    const blind: LightningProvider = {
      createInvoice: (args) => merchant.createInvoice(args),
      lookupInvoice: (hash) => merchant.lookupInvoice(hash),
      payInvoice: (args) => merchant.payInvoice(args),
    };
    const { refunds, sessionId, raw } = await crashed({ ageMs: PENDING_WAIT_MS, provider: blind });
    const stored = await raw();
    expect(await refunds.resolvePending(sessionId, back.invoice)).toEqual({ status: "pending" });
    expect(await refunds.refundOnce(sessionId, back.invoice, REFUND_MSAT)).toEqual({
      status: "pending",
    });
    expect(await raw()).toBe(stored);
  });
});
