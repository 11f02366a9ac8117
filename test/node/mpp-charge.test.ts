import { describe, expect, it } from "vitest";
import { lightningChargeServer } from "../../src/mpp/charge.ts";
import { ChargeRefusedError, lightningChargeClient } from "../../src/mpp/chargeClient.ts";
import { createPaymentHandler } from "../../src/mpp/server.ts";
import * as Challenge from "../../src/protocol/mpp/Challenge.ts";
import * as Credential from "../../src/protocol/mpp/Credential.ts";
import * as Receipt from "../../src/protocol/mpp/Receipt.ts";
import { P, REALM, SECRET, setup, type TestLedger } from "./support/mppCharge.ts";

/**
 * lightning/charge over HTTP, end to end: ln402's server core and paying fetch. Every
 * assertion is on what a client sees: status, problem type, fresh challenge,
 * Payment-Receipt, and what was paid. Interop with mppx is in mpp-charge-interop.test.ts.
 */

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
    expect(await res.json()).toEqual({ forecast: "sunny", n: 1 });
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

  it("error: of 64 concurrent copies of one credential exactly one is served; the rest are told it was used", async () => {
    const t = setup();
    const { authorization } = await t.payFresh();
    const answers = await Promise.all(Array.from({ length: 64 }, () => t.send(authorization)));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 200)) {
      const problem = await rejected(res);
      expect(problem.type).toBe(`${P}verification-failed`);
      expect(problem.detail).toMatch(/already used/);
    }
    expect(t.delivered()).toBe(1);
    expect(t.payer.payments).toHaveLength(1);
  });

  it("error: a consumed credential is refused later, before and after its challenge expires", async () => {
    const t = setup();
    const { authorization } = await t.payFresh();
    expect((await t.send(authorization)).status).toBe(200);
    expect((await rejected(await t.send(authorization))).detail).toMatch(/already used/);
    t.clock.ms += 3600_000;
    expect((await rejected(await t.send(authorization))).type).toBe(`${P}payment-expired`);
    expect(t.delivered()).toBe(1);
  });

  it("behavior: an Idempotency-Key retry of the same request is answered from the store, the handler not run again", async () => {
    const t = setup();
    const { authorization } = await t.payFresh();
    const headers = { Authorization: authorization, "Idempotency-Key": "k-1" };
    const first = await t.serve(new Request(`http://${REALM}/weather`, { headers }));
    expect(first.status).toBe(200);
    const body = await first.text();
    const again = await t.serve(new Request(`http://${REALM}/weather`, { headers }));
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(body);
    expect(again.headers.get("Payment-Receipt")).toBe(first.headers.get("Payment-Receipt"));
    expect(again.headers.get("Cache-Control")).toBe("private");
    expect(t.delivered()).toBe(1);
  });

  it("error: the same Idempotency-Key on a different request is not served from the store", async () => {
    const t = setup();
    const { authorization } = await t.payFresh();
    const first = await t.serve(
      new Request(`http://${REALM}/weather`, {
        headers: { Authorization: authorization, "Idempotency-Key": "k-1" },
      }),
    );
    expect(first.status).toBe(200);
    // Same key, other credential (a fresh payment): verified and served on its own.
    const other = await t.payFresh();
    const second = await t.serve(
      new Request(`http://${REALM}/weather`, {
        headers: { Authorization: other.authorization, "Idempotency-Key": "k-1" },
      }),
    );
    expect(second.status).toBe(200);
    expect(second.headers.get("Payment-Receipt")).not.toBe(first.headers.get("Payment-Receipt"));
    // Same key and credential, another path: not a retry of the stored request.
    const elsewhere = await t.serve(
      new Request(`http://${REALM}/weather?city=oslo`, {
        headers: { Authorization: authorization, "Idempotency-Key": "k-1" },
      }),
    );
    expect((await rejected(elsewhere)).detail).toMatch(/already used/);
    expect(t.delivered()).toBe(2);
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

  it('behavior: with header="Payment-Authorization" the credential is taken only from that header (core -01)', async () => {
    const t = setup({ credentialHeader: "Payment-Authorization" });
    const res = await t.serve(new Request(`http://${REALM}/weather`));
    const header = res.headers.get("WWW-Authenticate") ?? "";
    expect(header).toContain('header="Payment-Authorization"');
    const [challenge] = Challenge.parseAll([header]);
    if (!challenge) throw new Error("no challenge");
    expect(challenge.header).toBe("Payment-Authorization");
    expect(Challenge.verify(challenge, SECRET)).toBe(true);
    const authorization = await lightningChargeClient(t.payer).createCredential({ challenge });
    // In Authorization, where the challenge did not ask for it: refused, nothing consumed.
    expect((await rejected(await t.send(authorization))).type).toBe(`${P}invalid-challenge`);
    const paid = await t.serve(
      new Request(`http://${REALM}/weather`, {
        headers: { Authorization: "Bearer app-token", "Payment-Authorization": authorization },
      }),
    );
    expect(paid.status).toBe(200);
    expect(paid.headers.get("Cache-Control")).toBe("private");
    // ln402's paying fetch follows the challenge's header.
    const res2 = await t.pay(`http://${REALM}/weather`);
    expect(res2.status).toBe(200);
    expect(t.sent.at(-1)?.headers.get("Payment-Authorization")).toMatch(/^Payment /);
  });

  it("behavior: after a secret rotation, challenges made with the previous secret still verify", async () => {
    const NEW = "a-new-test-only-mpp-secret-0123456789abcdef";
    const t = setup({ secretKey: [NEW, SECRET] });
    const res = await t.serve(new Request(`http://${REALM}/weather`));
    const [issued] = Challenge.parseAll([res.headers.get("WWW-Authenticate") ?? ""]);
    if (!issued) throw new Error("no challenge");
    expect(Challenge.verify(issued, NEW)).toBe(true); // new challenges use the newest secret
    const { id: _id, ...fields } = issued;
    const client = lightningChargeClient(t.payer);
    const byOld = Challenge.from({ ...fields, secretKey: SECRET });
    expect((await t.send(await client.createCredential({ challenge: byOld }))).status).toBe(200);
    const t2 = setup({ secretKey: [NEW, SECRET] });
    const r2 = await t2.serve(new Request(`http://${REALM}/weather`));
    const [other] = Challenge.parseAll([r2.headers.get("WWW-Authenticate") ?? ""]);
    if (!other) throw new Error("no challenge");
    const { id: _id2, ...f2 } = other;
    const forged = Challenge.from({ ...f2, secretKey: "an-unrelated-secret-of-at-least-32-bytes" });
    const refused = await t2.send(
      await lightningChargeClient(t2.payer).createCredential({ challenge: forged }),
    );
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { type: string }).type).toBe(`${P}invalid-challenge`);
  });
});
