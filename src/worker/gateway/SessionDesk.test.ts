import { env, runInDurableObject } from "cloudflare:test";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { encodeInvoice } from "../../protocol/bolt11/Bolt11.ts";
import { paymentHashOf } from "../../protocol/Preimage.ts";
import { InvoiceBook } from "../merchant/InvoiceBook.ts";
import { Redemptions } from "../merchant/Redemptions.ts";
import type { WalletRecord } from "../merchant/registration.ts";
import { DEPOSIT_DESCRIPTION, SessionDesk, type SessionRoute } from "./SessionDesk.ts";
import { SESSION_RETENTION_MS } from "./SessionTables.ts";
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

describe("SessionDesk", () => {
  it("behavior: the alarm's prune forgets a closed session 30 days after its close, and its proofs stay refused", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.newUniqueId());
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      let now = 1_700_000_000_000;
      const book = new InvoiceBook(sql);
      const redemptions = new Redemptions(sql);
      const refunds: number[] = [];
      const desk = new SessionDesk({
        sql,
        book,
        redemptions,
        wallet: () =>
          ({ merchantId: "m_test", network: "regtest", nodePubkey: "" }) as WalletRecord,
        issue: () => Promise.reject(new Error("no invoices in this test")),
        received: async () => true,
        payRefund: async (_invoice, amountMsat) => {
          refunds.push(amountMsat);
          return { preimage: bytesToHex(randomBytes(32)) };
        },
        countRevenue: () => {},
        schedule: async () => {},
        nowMs: () => now,
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
          createdAt: now / 1000,
          expiresAt: now / 1000 + 600,
          checkedAtMs: now,
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
      const returnInvoice = () =>
        encodeInvoice(
          {
            network: "regtest",
            amountMsat: null,
            timestamp: Math.floor(now / 1000),
            paymentHash: bytesToHex(randomBytes(32)),
            paymentSecret: bytesToHex(randomBytes(32)),
            description: "refund",
            expirySecs: 7 * 86_400,
          },
          secp256k1.utils.randomSecretKey(),
        );
      /** An open proof for a paid deposit. */
      const opening = (paid: { preimage: string; paymentHash: string }): SessionProof => ({
        protocol: "mpp-session",
        payload: { action: "open", preimage: paid.preimage, returnInvoice: returnInvoice() },
        terms: terms(paid.paymentHash),
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
      const closedAt = now;
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
      now = closedAt + SESSION_RETENTION_MS - 1;
      expect(desk.prune(now)).toBe(0);
      expect(desk.routeOf(sessionId)).toBe(KEY);
      expect((await desk.sessions.get(sessionId))?.status).toBe("closed");

      // Past it, the alarm's run (invoices and redemptions, then sessions) forgets all of it.
      now = closedAt + SESSION_RETENTION_MS + DAY_MS;
      redemptions.prune(book.prune(Math.floor(now / 1000), 30 * 86_400));
      expect(desk.prune(now)).toBe(1);
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
});
