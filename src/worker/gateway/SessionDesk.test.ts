import { env, runInDurableObject } from "cloudflare:test";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { PENDING_WAIT_MS } from "../../mpp/session/refunds.ts";
import { decodeInvoice, encodeInvoice } from "../../protocol/bolt11/Bolt11.ts";
import { ProblemError } from "../../protocol/Errors.ts";
import { paymentHashOf } from "../../protocol/Preimage.ts";
import type { OutgoingPaymentState } from "../../providers/LightningProvider.ts";
import { InvoiceBook } from "../merchant/InvoiceBook.ts";
import { Redemptions } from "../merchant/Redemptions.ts";
import type { WalletRecord } from "../merchant/registration.ts";
import {
  DEPOSIT_DESCRIPTION,
  SessionDesk,
  type SessionDeskDeps,
  type SessionRoute,
} from "./SessionDesk.ts";
import { REFUND_BACKOFF_MS, SESSION_RETENTION_MS } from "./SessionTables.ts";
import type { AdmitInput, AdmitOutcome, SessionProof } from "./types.ts";

/**
 * The session desk on a Durable Object's real SQLite storage (a fresh, unregistered
 * object), with the wallet replaced by a recorded refund payer and a clock the test
 * moves: what a closed session leaves behind, and when the alarm's prune removes it.
 */

const DAY_MS = 86_400_000;
const ROUTE: SessionRoute = {
  method: "GET",
  path: "/m/*",
  upstream: "https://api.example.com",
  description: "",
  protocols: ["mpp"],
  price: { type: "session", satsPerUnit: 2, depositSats: 10, idleTimeoutSecs: 300 },
  mode: "enforce",
};
const KEY = "GET /m/*";

/** A session desk on `sql` with the wallet's refund calls replaced, and its helpers. */
function fixture(
  sql: SqlStorage,
  clock: { now: number },
  wallet: Pick<SessionDeskDeps, "payRefund" | "lookupRefund">,
) {
  const book = new InvoiceBook(sql);
  const redemptions = new Redemptions(sql);
  const desk = new SessionDesk({
    sql,
    book,
    redemptions,
    wallet: () => ({ merchantId: "m_test", network: "regtest", nodePubkey: "" }) as WalletRecord,
    issue: () => Promise.reject(new Error("no invoices in this test")),
    received: async () => true,
    ...wallet,
    countRevenue: () => {},
    schedule: async () => {},
    nowMs: () => clock.now,
  });
  /** A paid deposit invoice in the book: its preimage and hash. */
  const deposit = () => {
    const preimage = bytesToHex(randomBytes(32));
    const paymentHash = paymentHashOf(preimage);
    book.add({
      paymentHash,
      invoice: `lnbcrt100n1${paymentHash.slice(0, 16)}`,
      amountMsat: 10_000,
      description: DEPOSIT_DESCRIPTION,
      descriptionHash: null,
      createdAt: clock.now / 1000,
      expiresAt: clock.now / 1000 + 600,
      checkedAtMs: clock.now,
    });
    return { preimage, paymentHash };
  };
  const admit = (proof: SessionProof): Promise<AdmitOutcome> => {
    const input: AdmitInput = {
      method: "GET",
      path: "/m/x",
      url: "https://ln402.example/gw/m_test/m/x",
      requestHash: "00".repeat(32),
      proof,
      mayIssue: true,
    };
    return desk.admit(ROUTE, KEY, input);
  };
  const terms = (depositHash: string) => ({
    satsPerUnit: 2,
    depositHash,
    idleTimeoutSecs: 300,
  });
  /** The payer's no-amount refund invoice, fresh at the moment. */
  const returnInvoice = (paymentHash = bytesToHex(randomBytes(32))) =>
    encodeInvoice(
      {
        network: "regtest",
        amountMsat: null,
        timestamp: Math.floor(clock.now / 1000),
        paymentHash,
        paymentSecret: bytesToHex(randomBytes(32)),
        description: "refund",
        expirySecs: 7 * 86_400,
      },
      secp256k1.utils.randomSecretKey(),
    );
  /** An open proof for a paid deposit. */
  const opening = (
    paid: { preimage: string; paymentHash: string },
    refundTo = returnInvoice(),
  ): SessionProof => ({
    protocol: "mpp-session",
    payload: { action: "open", preimage: paid.preimage, returnInvoice: refundTo },
    terms: terms(paid.paymentHash),
  });

  return { desk, book, redemptions, deposit, admit, terms, opening, returnInvoice };
}

/**
 * The merchant's wallet as the desk sees it, with the payer's node behind it: it pays a
 * refund invoice at most once (the payee refuses a second payment of a settled invoice)
 * and remembers what it paid. `evictAt` makes the next payment hang, as in an object
 * evicted mid-payment: "after" it reached the wallet, "before" it never did.
 */
function fakeWallet() {
  let onAttempt = () => {};
  const attempted = new Promise<void>((resolve) => {
    onAttempt = resolve;
  });
  const payees = new Map<string, string>();
  const sent = new Map<string, { preimage: string; msat: number }>();
  const w = {
    sent,
    reachable: true,
    evictAt: null as "before" | "after" | null,
    /** Resolves once a payment is attempted. */
    attempted,
    /** A payment hash whose preimage only the payer's node knows. */
    payeeHash(): string {
      const preimage = bytesToHex(randomBytes(32));
      payees.set(paymentHashOf(preimage), preimage);
      return paymentHashOf(preimage);
    },
    payRefund: async (invoice: string, msat: number) => {
      if (!w.reachable) throw new ProblemError(503, "wallet-timeout", "Timeout", "no answer");
      const hash = decodeInvoice(invoice).paymentHash;
      const evict = w.evictAt;
      w.evictAt = null;
      onAttempt();
      if (evict === "before") return new Promise<never>(() => {});
      const preimage = payees.get(hash);
      if (preimage === undefined || sent.has(hash)) throw new Error("payment refused");
      sent.set(hash, { preimage, msat });
      if (evict === "after") return new Promise<never>(() => {});
      return { preimage };
    },
    lookupRefund: async (hash: string): Promise<OutgoingPaymentState> => {
      if (!w.reachable) throw new ProblemError(503, "wallet-timeout", "Timeout", "no answer");
      const paid = sent.get(hash);
      return paid ? { state: "succeeded", preimage: paid.preimage } : { state: "unknown" };
    },
  };
  return w;
}

/** Opens a session on a first desk, and closes it there with the object evicted mid-refund. */
async function evictedMidRefund(
  sql: SqlStorage,
  clock: { now: number },
  evictAt: "before" | "after",
) {
  const wallet = fakeWallet();
  const first = fixture(sql, clock, wallet);
  const paid = first.deposit();
  const hash = wallet.payeeHash();
  expect(await first.admit(first.opening(paid, first.returnInvoice(hash)))).toMatchObject({
    kind: "session-serve",
  });
  expect((await first.desk.sessions.deduct(paid.paymentHash, 4_000)).ok).toBe(true);
  wallet.evictAt = evictAt;
  void first.admit({
    protocol: "mpp-session",
    payload: { action: "close", sessionId: paid.paymentHash, preimage: paid.preimage },
    terms: first.terms(paid.paymentHash),
  });
  await wallet.attempted;
  // The restarted object: a fresh desk over the same storage and wallet.
  return { wallet, sessionId: paid.paymentHash, hash, desk: fixture(sql, clock, wallet).desk };
}

describe("SessionDesk", () => {
  it("behavior: the alarm's prune forgets a closed session 30 days after its close, and its proofs stay refused", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.newUniqueId());
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      const clock = { now: 1_700_000_000_000 };
      const refunds: number[] = [];
      const { desk, book, redemptions, deposit, admit, terms, opening } = fixture(sql, clock, {
        payRefund: async (_invoice, amountMsat) => {
          refunds.push(amountMsat);
          return { preimage: bytesToHex(randomBytes(32)) };
        },
      });
      const open = deposit();
      expect(await admit(opening(open))).toMatchObject({ kind: "session-serve" });
      const sessionId = open.paymentHash;
      const top = deposit();
      expect(
        await admit({
          protocol: "mpp-session",
          payload: { action: "topUp", sessionId, topUpPreimage: top.preimage },
          terms: terms(top.paymentHash),
        }),
      ).toMatchObject({ kind: "session-answer", body: { balanceSats: 20 } });
      expect((await desk.sessions.deduct(sessionId, 6_000)).ok).toBe(true);
      const closedAt = clock.now;
      expect(
        await admit({
          protocol: "mpp-session",
          payload: { action: "close", sessionId, preimage: open.preimage },
          terms: terms(open.paymentHash),
        }),
      ).toMatchObject({ kind: "session-answer", body: { refundSats: 14 } });
      expect(refunds).toEqual([14_000]);
      const kvRows = () => sql.exec("SELECT key FROM kv").toArray().length;
      expect(kvRows()).toBeGreaterThan(0);

      // Within the retention window the closed session and its records stay.
      clock.now = closedAt + SESSION_RETENTION_MS - 1;
      expect(desk.prune(clock.now)).toBe(0);
      expect(desk.routeOf(sessionId)).toBe(KEY);
      expect((await desk.sessions.get(sessionId))?.status).toBe("closed");

      // Past it, the alarm's run (invoices and redemptions, then sessions) forgets all of it.
      clock.now = closedAt + SESSION_RETENTION_MS + DAY_MS;
      redemptions.prune(book.prune(Math.floor(clock.now / 1000), 30 * 86_400));
      expect(desk.prune(clock.now)).toBe(1);
      expect(desk.routeOf(sessionId)).toBeNull();
      expect(await desk.sessions.get(sessionId)).toBeNull();
      // Session, refund and the deposit's and the top-up's consumed markers: nothing left
      // but the engine's (now empty) index of active sessions.
      expect(
        sql
          .exec<{ key: string }>("SELECT key FROM kv")
          .toArray()
          .map((r) => r.key),
      ).toEqual([expect.stringMatching(/sessions:active$/)]);
      expect(desk.stats(0)).toMatchObject({ openSessions: 0, refundsPaid: 0 });
      // A replayed deposit opens nothing (with a fresh refund invoice): it is gone from the book.
      expect(await admit(opening(open))).toMatchObject({
        kind: "refused",
        refusal: { reason: "unknown_invoice" },
      });
      expect(refunds).toEqual([14_000]);
    });
  });

  it("behavior: a refund an eviction left pending, which the wallet paid, is settled by the alarm as succeeded and not paid again", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.newUniqueId());
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      const clock = { now: 1_700_000_000_000 };
      const { wallet, sessionId, hash, desk } = await evictedMidRefund(sql, clock, "after");
      expect(wallet.sent.get(hash)?.msat).toBe(6_000);
      clock.now += PENDING_WAIT_MS;
      await desk.runDue(clock.now);
      expect(desk.stats(0)).toMatchObject({ refundsPaid: 1, refundsPending: 0, refundsFailed: 0 });
      expect(await desk.nextWakeMs()).toBeNull();
      expect(wallet.sent.size).toBe(1);
      expect(await desk.sessions.get(sessionId)).toMatchObject({ status: "closed" });
    });
  });

  it("behavior: a pending refund with no check scheduled (recorded by older code, or its checks ran out) is checked after the next start", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.newUniqueId());
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      const clock = { now: 1_700_000_000_000 };
      const { wallet, desk } = await evictedMidRefund(sql, clock, "before");
      // The wallet cannot be asked at the first alarm: the table records the refund pending.
      wallet.reachable = false;
      clock.now += PENDING_WAIT_MS;
      await desk.runDue(clock.now);
      expect(desk.stats(0)).toMatchObject({ refundsPending: 1 });
      // As older code left it (or as a refund whose checks ran out): nothing scheduled.
      sql.exec("UPDATE gateway_sessions SET retry_at_ms = NULL");
      expect(await desk.nextWakeMs()).toBeNull();
      wallet.reachable = true;
      clock.now += 1_000;
      const restarted = fixture(sql, clock, wallet).desk;
      expect(await restarted.nextWakeMs()).toBe(clock.now);
      await restarted.runDue(clock.now);
      // The wallet never paid it: failed, and on the retry schedule (paid on the next step).
      expect(restarted.stats(0)).toMatchObject({ refundsPending: 0, refundsFailed: 1 });
      expect(wallet.sent.size).toBe(0);
      expect(await restarted.nextWakeMs()).not.toBeNull();
    });
  });

  it("behavior: a pending refund the wallet never paid is checked on the alarm's backoff, then paid once", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.newUniqueId());
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      const clock = { now: 1_700_000_000_000 };
      const { wallet, hash, desk } = await evictedMidRefund(sql, clock, "before");
      expect(wallet.sent.size).toBe(0);
      // The first alarm after the restart cannot reach the wallet: the refund stays pending.
      wallet.reachable = false;
      clock.now += PENDING_WAIT_MS;
      await desk.runDue(clock.now);
      expect(desk.stats(0)).toMatchObject({ refundsPending: 1, refundsPaid: 0 });
      const check = await desk.nextWakeMs();
      expect(check).toBe(clock.now + PENDING_WAIT_MS);
      // Not due yet: nothing happens.
      wallet.reachable = true;
      await desk.runDue(clock.now + 1);
      expect(desk.stats(0)).toMatchObject({ refundsPending: 1 });
      // The check: the wallet never paid it, so it is failed and scheduled for a retry.
      clock.now = check ?? 0;
      await desk.runDue(clock.now);
      expect(desk.stats(0)).toMatchObject({ refundsPending: 0, refundsFailed: 1 });
      expect(wallet.sent.size).toBe(0);
      const retry = await desk.nextWakeMs();
      expect(retry).toBe(clock.now + (REFUND_BACKOFF_MS[1] ?? 0));
      clock.now = retry ?? 0;
      await desk.runDue(clock.now);
      expect(desk.stats(0)).toMatchObject({ refundsPaid: 1, refundsFailed: 0, refundsPending: 0 });
      expect([...wallet.sent.entries()]).toEqual([
        [hash, expect.objectContaining({ msat: 6_000 })],
      ]);
      expect(await desk.nextWakeMs()).toBeNull();
      // Later alarms pay nothing more.
      clock.now += 86_400_000;
      await desk.runDue(clock.now);
      expect(wallet.sent.size).toBe(1);
    });
  });
});
