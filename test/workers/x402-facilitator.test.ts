import { SELF } from "cloudflare:test";
import { NWCClient } from "@getalby/sdk/nwc";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { encodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import { LNBTC_NETWORKS } from "../../src/protocol/x402/lnbtc/Networks.ts";
import { X402_NETWORKS } from "../../src/protocol/x402/Networks.ts";
import { BASE, freshClientIp, post } from "./http.ts";

/**
 * The x402 facilitator endpoints inside workerd, with real invoices from the devnet
 * merchant wallet paid by @getalby/sdk's NWCClient from the devnet payer.
 */

const REGTEST = X402_NETWORKS.regtest;
let payer: NWCClient;
let merchant: { merchantId: string; apiKey: string };
let other: { merchantId: string; apiKey: string };

type Json = Record<string, unknown>;

async function register(nwcUrl: string) {
  const res = await post("/register", { nwcUrl }, { "CF-Connecting-IP": freshClientIp() });
  expect(res.status).toBe(201);
  return (await res.json()) as { merchantId: string; apiKey: string };
}

/** Issues an invoice for `who` and returns x402 requirements naming it. */
async function requirementsFor(who: { merchantId: string; apiKey: string }, amountMsat = 21_000) {
  const res = await post(
    "/invoice",
    { merchantId: who.merchantId, amount: String(amountMsat) },
    { Authorization: `Bearer ${who.apiKey}` },
  );
  expect(res.status).toBe(201);
  const issued = (await res.json()) as { invoice: string; paymentHash: string };
  return {
    scheme: "exact",
    network: REGTEST as string,
    amount: String(amountMsat),
    asset: "BTC",
    payTo: who.merchantId,
    maxTimeoutSeconds: 300,
    extra: {
      paymentMethod: "lightning",
      merchantId: who.merchantId,
      invoice: issued.invoice,
      paymentHash: issued.paymentHash,
    },
  };
}

type Requirements = Awaited<ReturnType<typeof requirementsFor>>;

function body(
  requirements: Requirements,
  payload: Json,
  extensions?: Json,
  accepted: Json = requirements,
) {
  return {
    x402Version: 2,
    paymentPayload: { x402Version: 2, accepted, payload, ...(extensions ? { extensions } : {}) },
    paymentRequirements: requirements,
  };
}

async function pay(requirements: Requirements): Promise<string> {
  return (await payer.payInvoice({ invoice: requirements.extra.invoice })).preimage;
}

async function verify(b: unknown): Promise<Json> {
  const res = await post("/verify", b);
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

async function settle(b: unknown, apiKey: string | null = merchant.apiKey): Promise<Response> {
  return post("/settle", b, apiKey === null ? {} : { Authorization: `Bearer ${apiKey}` });
}

beforeAll(async () => {
  payer = new NWCClient({ nostrWalletConnectUrl: inject("nwc").payer });
  merchant = await register(inject("nwc").merchant);
  other = await register(inject("nwc").receiveOnly);
});
afterAll(() => payer.close());

describe("GET /supported and /.well-known/x402", () => {
  it("behavior: lists x402 v2 exact on every bip122 network, so the standard middleware accepts ln402", async () => {
    const res = await SELF.fetch(`${BASE}/supported`);
    const supported = (await res.json()) as { kinds: Json[]; extensions: string[]; signers: Json };
    // lnbtc first (regtest too: these suites run with the devnet switch on), then bip122.
    expect(supported.kinds).toEqual([
      ...Object.values(LNBTC_NETWORKS).map((network) => ({
        x402Version: 2,
        scheme: "exact",
        network,
      })),
      ...Object.values(X402_NETWORKS).map((network) => ({
        x402Version: 2,
        scheme: "exact",
        network,
      })),
    ]);
    // No payment-identifier replays: a settle success is a delivery, so it happens once.
    expect(supported.extensions).not.toContain("payment-identifier");
    const discovery = (await (await SELF.fetch(`${BASE}/.well-known/x402`)).json()) as Json;
    expect(discovery).toMatchObject({
      x402Version: 2,
      scheme: "exact",
      amountUnit: "msat",
      settleAuth: expect.stringContaining("Bearer"),
    });
    expect((discovery.endpoints as Json).verify).toBe(`${BASE}/verify`);
  });
});

describe("verify and settle a paid invoice", () => {
  it("behavior: a preimage proof verifies, settles once for the merchant, and is then spent", async () => {
    const requirements = await requirementsFor(merchant);
    const unpaid = body(requirements, { preimage: bytesToHex(randomBytes(32)) });
    expect(await verify(unpaid)).toMatchObject({
      isValid: false,
      invalidReason: "invalid_preimage",
    });

    const proof = body(requirements, { preimage: await pay(requirements) });
    expect(await verify(proof)).toEqual({ isValid: true });
    expect((await settle(proof, null)).status).toBe(401);
    expect((await settle(proof, other.apiKey)).status).toBe(401);
    expect((await settle(proof, "ln402_sk_guess")).status).toBe(401);

    const settled = (await (await settle(proof)).json()) as Json;
    expect(settled).toMatchObject({
      success: true,
      transaction: requirements.extra.paymentHash,
      network: REGTEST,
      amount: "21000",
    });
    const again = (await (await settle(proof)).json()) as Json;
    expect(again).toMatchObject({
      success: false,
      errorReason: "already_settled",
      transaction: "",
    });
    expect(await verify(proof)).toMatchObject({ isValid: false, invalidReason: "already_settled" });
  });

  it("behavior: of 10 concurrent settles of one proof exactly one succeeds", async () => {
    const requirements = await requirementsFor(merchant);
    const proof = body(requirements, { preimage: await pay(requirements) });
    const results = await Promise.all(
      Array.from({ length: 10 }, async () => (await (await settle(proof)).json()) as Json),
    );
    expect(results.filter((r) => r.success === true)).toHaveLength(1);
    expect(results.filter((r) => r.errorReason === "already_settled")).toHaveLength(9);
  });

  it("error: a repeated settle is already_settled, whatever payment-identifier it carries", async () => {
    const requirements = await requirementsFor(merchant);
    const preimage = await pay(requirements);
    const id = (key: string) => ({ "payment-identifier": { info: { id: key } } });
    const first = (await (
      await settle(body(requirements, { preimage }, id("pay_0123456789abcdef")))
    ).json()) as Json;
    expect(first.success).toBe(true);
    for (const ext of [id("pay_0123456789abcdef"), id("pay_fedcba9876543210"), undefined]) {
      expect(await (await settle(body(requirements, { preimage }, ext))).json()).toMatchObject({
        success: false,
        errorReason: "already_settled",
      });
    }
  });

  it("behavior: the merchant's verify holds a valid proof: a concurrent copy is payment_in_progress until it settles", async () => {
    const requirements = await requirementsFor(merchant);
    const proof = body(requirements, { preimage: await pay(requirements) });
    const asMerchant = async () =>
      (await (
        await post("/verify", proof, { Authorization: `Bearer ${merchant.apiKey}` })
      ).json()) as Json;
    const verdicts = await Promise.all(Array.from({ length: 16 }, asMerchant));
    expect(verdicts.filter((v) => v.isValid === true)).toHaveLength(1);
    expect(verdicts.filter((v) => v.invalidReason === "payment_in_progress")).toHaveLength(15);
    // A bystander's verify takes no lease (and cannot hold the payer's proof hostage).
    expect(await verify(proof)).toEqual({ isValid: true });
    expect(((await (await settle(proof)).json()) as Json).success).toBe(true);
    expect(await asMerchant()).toMatchObject({ isValid: false, invalidReason: "already_settled" });
  });

  it("behavior: the { invoice } payload form is checked against the wallet-fed invoice book", async () => {
    const requirements = await requirementsFor(merchant);
    const form = body(requirements, { invoice: requirements.extra.invoice });
    expect(await verify(form)).toMatchObject({
      isValid: false,
      invalidReason: "payment_not_received",
    });
    await pay(requirements);
    await expect.poll(async () => (await verify(form)).isValid, { timeout: 2_000 }).toBe(true);
    expect(((await (await settle(form)).json()) as Json).success).toBe(true);
  });
});

describe("attacks are rejected with their reason", () => {
  it("error: a proof of another merchant's invoice does not unlock this merchant", async () => {
    const theirs = await requirementsFor(other);
    const preimage = await pay(theirs);
    // The attacker names the victim merchant but presents the invoice they paid to themselves.
    const forged = {
      ...theirs,
      payTo: merchant.merchantId,
      extra: { ...theirs.extra, merchantId: merchant.merchantId },
    };
    expect(await verify(body(forged, { preimage }))).toMatchObject({
      isValid: false,
      invalidReason: "unknown_invoice",
    });
    expect(await (await settle(body(forged, { preimage }))).json()).toMatchObject({
      success: false,
      errorReason: "unknown_invoice",
    });
  });

  it("error: wrong amount, wrong network, tampered and foreign invoices, bad versions and schemes", async () => {
    const requirements = await requirementsFor(merchant);
    const preimage = await pay(requirements);
    const cases: Array<[Requirements, string]> = [
      [{ ...requirements, amount: "20000" }, "amount_mismatch"],
      [{ ...requirements, network: X402_NETWORKS.mainnet }, "network_mismatch"],
      [{ ...requirements, scheme: "upto" }, "unsupported_scheme"],
      [{ ...requirements, network: "eip155:8453" }, "unsupported_network"],
      [
        {
          ...requirements,
          extra: {
            ...requirements.extra,
            invoice: `${requirements.extra.invoice.slice(0, -8)}qqqqqqqq`,
          },
        },
        "invalid_invoice",
      ],
    ];
    for (const [req, reason] of cases) {
      expect(await verify(body(req, { preimage })), reason).toMatchObject({
        isValid: false,
        invalidReason: reason,
      });
    }
    const foreign = encodeInvoice(
      {
        network: "regtest",
        amountMsat: 21_000,
        timestamp: Math.floor(Date.now() / 1000),
        paymentHash: bytesToHex(randomBytes(32)),
        paymentSecret: bytesToHex(randomBytes(32)),
        description: "not issued by ln402",
      },
      randomBytes(32),
    );
    const foreignReq = {
      ...requirements,
      extra: { ...requirements.extra, invoice: foreign, paymentHash: undefined },
    };
    expect(await verify(body(foreignReq as unknown as Requirements, { preimage }))).toMatchObject({
      invalidReason: "unknown_invoice",
    });
    expect(await verify({ ...body(requirements, { preimage }), x402Version: 1 })).toMatchObject({
      invalidReason: "invalid_x402_version",
    });
    expect(
      await verify(body(requirements, { preimage }, undefined, { ...requirements, amount: "1" })),
    ).toMatchObject({
      invalidReason: "accepted_mismatch",
    });
    expect(await verify(body(requirements, {}))).toMatchObject({
      invalidReason: "invalid_payload",
    });
    // None of that spent the proof.
    expect(await verify(body(requirements, { preimage }))).toEqual({ isValid: true });
  });

  it("error: bodies that are not x402 are 400 problems; no malformed body ever gets a 5xx", async () => {
    for (const bad of [
      "",
      "nope",
      "[]",
      "{}",
      JSON.stringify({ paymentPayload: 1, paymentRequirements: {} }),
    ]) {
      const res = await post("/verify", bad);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    const requirements = await requirementsFor(merchant);
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value"), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 4 }),
      ),
    })).value;
    const mutated = fc.record({
      x402Version: fc.oneof(fc.constant(2), json),
      paymentPayload: fc.oneof(
        json,
        fc.record({
          x402Version: fc.oneof(fc.constant(2), json),
          accepted: fc.oneof(fc.constant(requirements), json),
          payload: fc.oneof(
            json,
            fc.record({
              preimage: fc.oneof(
                fc.string(),
                fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex),
              ),
            }),
          ),
        }),
      ),
      paymentRequirements: fc.oneof(
        json,
        fc.constant(requirements),
        fc.record({ ...Object.fromEntries(Object.keys(requirements).map((k) => [k, json])) }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(mutated, fc.constantFrom("/verify", "/settle"), async (b, path) => {
        const res = await post(path, b, { Authorization: `Bearer ${merchant.apiKey}` });
        expect(res.status).toBeLessThan(500);
        if (res.status === 200) {
          const answer = (await res.json()) as Json;
          expect(answer.isValid === true || answer.success === true).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });
});
