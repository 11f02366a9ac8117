import { env, runInDurableObject } from "cloudflare:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import type { PaymentCheck } from "../../protocol/x402/Verify.ts";
import { InvoiceBook } from "./InvoiceBook.ts";
import { type Confirmation, PaymentDesk, RESERVATION_MS } from "./PaymentDesk.ts";
import { Redemptions } from "./Redemptions.ts";

/**
 * The invoice book, the redemptions and the payment desk on a Durable Object's real
 * SQLite storage (a fresh, unregistered object per test), with the wallet replaced by
 * a scripted `confirm` whose calls are counted.
 */
type Rig = {
  desk: PaymentDesk;
  book: InvoiceBook;
  redemptions: Redemptions;
  confirms: string[];
  setNow(ms: number): void;
};

async function withDesk(
  answer: Confirmation,
  test: (rig: Rig, entry: { check: PaymentCheck; preimage: string }) => Promise<void>,
): Promise<void> {
  const stub = env.MERCHANT.get(env.MERCHANT.newUniqueId());
  await runInDurableObject(stub, async (_instance, state) => {
    let now = 1_700_000_000_000;
    const book = new InvoiceBook(state.storage.sql);
    const redemptions = new Redemptions(state.storage.sql);
    const confirms: string[] = [];
    const desk = new PaymentDesk({
      book,
      redemptions,
      network: () => "regtest",
      confirm: async (e) => {
        confirms.push(e.paymentHash);
        if (answer === "paid") book.markPaid(e.paymentHash, Math.floor(now / 1000), now);
        return answer;
      },
      nowMs: () => now,
    });
    const preimage = bytesToHex(randomBytes(32));
    const paymentHash = bytesToHex(sha256(Uint8Array.from(Buffer.from(preimage, "hex"))));
    book.add({
      paymentHash,
      invoice: "lnbcrt210n1test",
      amountMsat: 21_000,
      description: null,
      descriptionHash: null,
      createdAt: now / 1000,
      expiresAt: now / 1000 + 600,
      checkedAtMs: now,
    });
    const check: PaymentCheck = {
      paymentHash,
      invoice: null,
      preimage: null,
      amountMsat: 21_000,
      network: "regtest",
    };
    await test(
      { desk, book, redemptions, confirms, setNow: (ms) => (now = ms) },
      { check, preimage },
    );
  });
}

describe("PaymentDesk", () => {
  it("error: without a payer's preimage, an invoice the wallet has not received is not paid", async () => {
    await withDesk("pending", async ({ desk, confirms }, { check }) => {
      expect(await desk.verify(check, false)).toMatchObject({
        ok: false,
        rejection: { reason: "payment_not_received" },
      });
      expect(await desk.settle(check)).toMatchObject({ ok: false });
      expect(confirms).toHaveLength(2);
    });
  });

  it("error: an expired invoice is judged before the wallet is asked", async () => {
    await withDesk("paid", async ({ desk, confirms, setNow }, { check }) => {
      setNow(1_700_000_000_000 + 601_000);
      expect(await desk.settle(check)).toMatchObject({ rejection: { reason: "invoice_expired" } });
      expect(confirms).toEqual([]);
    });
  });

  it("behavior: a payer's preimage proves payment with no wallet call, and redeems once", async () => {
    await withDesk("pending", async ({ desk, book, confirms }, { check, preimage }) => {
      const proof = { ...check, preimage };
      const first = await desk.settle(proof);
      expect(first).toMatchObject({ ok: true, redemption: { amountMsat: 21_000 } });
      // The book's "paid" is the wallet's word alone; a presented preimage does not set it.
      expect(book.get(check.paymentHash)?.status).toBe("pending");
      expect(await desk.settle(proof)).toMatchObject({ rejection: { reason: "already_settled" } });
      expect(await desk.verify(proof, true)).toMatchObject({
        rejection: { reason: "already_settled" },
      });
      expect(confirms).toEqual([]);
    });
  });

  it("error: a wrong preimage, amount, network or invoice is refused and redeems nothing", async () => {
    await withDesk("paid", async ({ desk, redemptions }, { check, preimage }) => {
      const cases: Array<[Partial<PaymentCheck>, string]> = [
        [{ preimage: "00".repeat(32) }, "invalid_preimage"],
        [{ preimage, amountMsat: 1 }, "amount_mismatch"],
        [{ preimage, network: "mainnet" }, "network_mismatch"],
        [{ preimage, invoice: "lnbcrt1other" }, "invoice_mismatch"],
        [{ preimage, paymentHash: "11".repeat(32) }, "unknown_invoice"],
      ];
      for (const [change, reason] of cases) {
        expect(await desk.settle({ ...check, ...change }), reason).toMatchObject({
          rejection: { reason },
        });
      }
      expect(redemptions.get(check.paymentHash)).toBeNull();
    });
  });

  it("behavior: a reserving verify holds the proof until it settles or the lease lapses", async () => {
    await withDesk("pending", async ({ desk, setNow }, { check, preimage }) => {
      const proof = { ...check, preimage };
      expect(await desk.verify(proof, true)).toEqual({ ok: true });
      expect(await desk.verify(proof, true)).toMatchObject({
        rejection: { reason: "payment_in_progress" },
      });
      // A non-reserving verify (a bystander) takes no lease.
      expect(await desk.verify(proof, false)).toEqual({ ok: true });
      setNow(1_700_000_000_000 + RESERVATION_MS);
      expect(await desk.verify(proof, true)).toEqual({ ok: true });
    });
  });

  it("behavior: the wallet's confirmation makes an {invoice} proof settle, once", async () => {
    await withDesk("paid", async ({ desk }, { check }) => {
      expect(await desk.settle(check)).toMatchObject({ ok: true });
      expect(await desk.settle(check)).toMatchObject({ rejection: { reason: "already_settled" } });
    });
  });

  it("behavior: pruning forgets entries and redemptions long after expiry", async () => {
    await withDesk("paid", async ({ desk, book, redemptions }, { check, preimage }) => {
      await desk.settle({ ...check, preimage });
      const expiresAt = book.get(check.paymentHash)?.expiresAt ?? 0;
      expect(book.prune(expiresAt + 10, 60)).toEqual([]);
      const pruned = book.prune(expiresAt + 61, 60);
      expect(pruned).toEqual([check.paymentHash]);
      redemptions.prune(pruned);
      expect(book.get(check.paymentHash)).toBeNull();
      expect(redemptions.get(check.paymentHash)).toBeNull();
      // A late proof of a pruned invoice is an unknown invoice: refused, not served.
      expect(await desk.settle({ ...check, preimage })).toMatchObject({
        rejection: { reason: "unknown_invoice" },
      });
    });
  });
});
