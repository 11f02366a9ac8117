import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import { InsufficientBalanceError, InvoiceExpiredError } from "../../src/providers/index.ts";
import {
  failure,
  type Harness,
  hashOf,
  makeClock,
  startLndGrpcHarness,
  startLndHarness,
  startMockHarness,
  startNwcHarness,
  type TestClock,
} from "./support/providers.ts";

/**
 * One contract, run against every provider that can both receive and pay: NWC (on a
 * devnet), LND over REST and over gRPC (on stand-ins sharing a devnet Ledger) and the mock. Each backend's
 * clock runs `offsetMs` ahead of real time, so expiry is tested without waiting.
 */

const clock = makeClock();

/** `payments`: the provider implements `lookupPayment` (optional in the interface). */
function contract(name: string, start: (clock: TestClock) => Promise<Harness>, payments: boolean) {
  describe(`provider contract: ${name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await start(clock);
    });
    afterAll(async () => {
      for (const p of [h.merchant, h.payer, h.poor]) p.close?.();
      await h.stop();
    });

    it("behavior: createInvoice returns decodable BOLT11 with the amount, hash and network", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 21_000, description: "coffee" });
      const decoded = decodeInvoice(issued.invoice);
      expect(decoded).toMatchObject({
        amountMsat: 21_000,
        paymentHash: issued.paymentHash,
        network: h.network,
        description: "coffee",
        expiresAt: issued.expiresAt,
      });
      expect(issued.amountMsat).toBe(21_000);
      expect(await h.merchant.getNetwork?.()).toBe(h.network);
    });

    it("behavior: another provider pays it; the preimage hashes to the invoice; lookup goes pending → settled", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 21_000 });
      const before = await h.merchant.lookupInvoice(issued.paymentHash);
      expect(before.state).toBe("pending");
      expect(before.preimage).toBeUndefined();
      const balance = h.payerBalanceMsat();
      const paid = await h.payer.payInvoice({ invoice: issued.invoice });
      expect(hashOf(paid.preimage)).toBe(issued.paymentHash);
      expect(h.payerBalanceMsat()).toBe(balance - 21_000 - paid.feesPaidMsat);
      const after = await h.merchant.lookupInvoice(issued.paymentHash);
      expect(after).toMatchObject({
        state: "settled",
        preimage: paid.preimage,
        amountMsat: 21_000,
      });
    });

    it("error: paying an invoice twice fails with a LightningError and charges once", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 5_000 });
      await h.payer.payInvoice({ invoice: issued.invoice });
      const balance = h.payerBalanceMsat();
      const err = await failure(h.payer.payInvoice({ invoice: issued.invoice }));
      expect(err.code).toBe("payment_failed");
      expect(h.payerBalanceMsat()).toBe(balance);
    });

    it("behavior: a no-amount invoice is paid with the amount the payer chooses", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 0 });
      expect(issued.amountMsat).toBeNull();
      expect(decodeInvoice(issued.invoice).amountMsat).toBeNull();
      await h.payer.payInvoice({ invoice: issued.invoice, amountMsat: 7_000 });
      const after = await h.merchant.lookupInvoice(issued.paymentHash);
      expect(after).toMatchObject({ state: "settled", amountMsat: 7_000 });
    });

    it("error: a payer short of funds gets InsufficientBalanceError and the invoice stays pending", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 50_000 });
      const err = await failure(h.poor.payInvoice({ invoice: issued.invoice }));
      expect(err).toBeInstanceOf(InsufficientBalanceError);
      expect((await h.merchant.lookupInvoice(issued.paymentHash)).state).toBe("pending");
    });

    it("error: looking up an unknown payment hash is LightningError not_found", async () => {
      const err = await failure(h.merchant.lookupInvoice(bytesToHex(randomBytes(32))));
      expect(err.code).toBe("not_found");
    });

    it("error: an expired invoice is refused with InvoiceExpiredError and looks up as expired", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 1_000, expirySecs: 60 });
      clock.offsetMs = 120_000;
      try {
        expect(await failure(h.payer.payInvoice({ invoice: issued.invoice }))).toBeInstanceOf(
          InvoiceExpiredError,
        );
        expect((await h.merchant.lookupInvoice(issued.paymentHash)).state).toBe("expired");
      } finally {
        clock.offsetMs = 0;
      }
    });

    it("behavior: a hold invoice holds the payment until settled with the preimage", async () => {
      const preimage = bytesToHex(randomBytes(32));
      const paymentHash = hashOf(preimage);
      const hold = await h.merchant.createHoldInvoice?.({ amountMsat: 3_000, paymentHash });
      expect(hold?.paymentHash).toBe(paymentHash);
      const paying = h.payer.payInvoice({ invoice: hold?.invoice ?? "" });
      // The merchant learns of the held payment the way it would in production: by lookup.
      await expect
        .poll(async () => (await h.merchant.lookupInvoice(paymentHash)).state)
        .toBe("accepted");
      await h.merchant.settleHoldInvoice?.(preimage);
      expect((await paying).preimage).toBe(preimage);
      expect(await h.merchant.lookupInvoice(paymentHash)).toMatchObject({
        state: "settled",
        preimage,
      });
    });

    it("behavior: canceling a held payment fails it and refunds the payer", async () => {
      const paymentHash = hashOf(bytesToHex(randomBytes(32)));
      const hold = await h.merchant.createHoldInvoice?.({ amountMsat: 3_000, paymentHash });
      const balance = h.payerBalanceMsat();
      const paying = failure(h.payer.payInvoice({ invoice: hold?.invoice ?? "" }));
      await expect
        .poll(async () => (await h.merchant.lookupInvoice(paymentHash)).state)
        .toBe("accepted");
      await h.merchant.cancelHoldInvoice?.(paymentHash);
      expect((await paying).code).toBe("payment_failed");
      expect(h.payerBalanceMsat()).toBe(balance);
      expect((await h.merchant.lookupInvoice(paymentHash)).state).toBe("canceled");
    });

    it("security: lookupPayment reports what this provider paid, and never an invoice it issued", async () => {
      if (!payments) {
        expect(h.payer.lookupPayment).toBeUndefined();
        return;
      }
      const lookupPayment = (p: typeof h.payer, hash: string) =>
        p.lookupPayment?.(hash) ?? Promise.reject(new Error("no lookupPayment"));
      const issued = await h.merchant.createInvoice({ amountMsat: 4_000 });
      expect(await lookupPayment(h.payer, issued.paymentHash)).toEqual({ state: "unknown" });
      const paid = await h.payer.payInvoice({ invoice: issued.invoice });
      const sent = await lookupPayment(h.payer, issued.paymentHash);
      expect(sent).toMatchObject({ state: "succeeded", preimage: paid.preimage });
      expect(hashOf(sent.preimage ?? "")).toBe(issued.paymentHash);
      // The payee's own invoice, settled and with its preimage known: not a payment of its.
      expect(await h.merchant.lookupInvoice(issued.paymentHash)).toMatchObject({
        state: "settled",
      });
      expect(await lookupPayment(h.merchant, issued.paymentHash)).toEqual({ state: "unknown" });
      expect(await lookupPayment(h.payer, bytesToHex(randomBytes(32)))).toEqual({
        state: "unknown",
      });
    });

    it("behavior: lookupPayment reports a held payment pending, then failed once canceled", async () => {
      if (!payments) return;
      const paymentHash = hashOf(bytesToHex(randomBytes(32)));
      const hold = await h.merchant.createHoldInvoice?.({ amountMsat: 2_000, paymentHash });
      const paying = failure(h.payer.payInvoice({ invoice: hold?.invoice ?? "" }));
      await expect
        .poll(async () => (await h.merchant.lookupInvoice(paymentHash)).state)
        .toBe("accepted");
      expect(await h.payer.lookupPayment?.(paymentHash)).toEqual({ state: "pending" });
      await h.merchant.cancelHoldInvoice?.(paymentHash);
      await paying;
      expect(await h.payer.lookupPayment?.(paymentHash)).toEqual({ state: "failed" });
    });
  });
}

contract("NWC (devnet wallets over a relay)", startNwcHarness, true);
contract("LND REST (stand-ins on one devnet Ledger)", startLndHarness, false);
contract("LND gRPC (stand-ins on one devnet Ledger)", startLndGrpcHarness, false);
contract("Mock (two instances on one MockLightningNetwork)", startMockHarness, true);
