import { describe, expect, it } from "vitest";
import { duplicateSettlement, settleResponse, verifyResponse } from "./Responses.ts";
import {
  checkIsolation,
  checkSettlement,
  type SettleAccepted,
  type SettleVerdict,
} from "./Settle.ts";
import { HASH, INVOICE, MAINNET, NOW, PAY_TO, PAYMENT_HASH, PREIMAGE, TESTNET } from "./vectors.ts";

/**
 * scheme_exact_lnbtc §Facilitator Validation, §Paid-but-expired Policy and §Settlement
 * and Replay Protection, against every `facilitator_settle` case of the shared vectors
 * (patches over one base request) and every row of the spec's settlement tables. Each
 * case starts with an empty replay store; the store here is what the caller's atomic
 * insert does with `replayKey`.
 */

type Op = { op: "replace" | "add"; path: string; value: unknown } | { op: "remove"; path: string };
type Step = {
  now?: number;
  patch: Op[];
  expect: string | { transaction: string; network?: string; keepUntil?: number };
};

function base() {
  const requirements = {
    scheme: "exact",
    network: MAINNET,
    amount: "25000",
    asset: "BTC",
    payTo: PAY_TO,
    maxTimeoutSeconds: 300,
    extra: {
      assetTransferMethod: "bolt11",
      paymentFlow: "upfront",
      requestHash: HASH.httpA,
      requestBindingProfile: "http:1",
      requestBindingParams: { headers: [] as string[] },
      invoice: INVOICE.a as string,
    },
  };
  return {
    requirements,
    payload: {
      x402Version: 2,
      accepted: structuredClone(requirements),
      payload: { preimage: PREIMAGE.a as string },
    },
  };
}

/** RFC 6902 `add`/`replace`/`remove` on a JSON pointer (enough for these vectors). */
function apply(doc: unknown, ops: Op[]): void {
  for (const op of ops) {
    const keys = op.path.split("/").slice(1);
    const last = keys.pop() ?? "";
    let target = doc as Record<string, unknown>;
    for (const key of keys) target = target[key] as Record<string, unknown>;
    if (op.op === "remove") delete target[last];
    else target[last] = op.value;
  }
}

const r = (path: string, value: unknown): Op => ({ op: "replace", path, value });
const preimageB = r("/payload/payload/preimage", PREIMAGE.b);
const acceptedInvoice = (invoice: string) => r("/payload/accepted/extra/invoice", invoice);
const both = (field: string, value: unknown) => [
  r(`/requirements/${field}`, value),
  r(`/payload/accepted/${field}`, value),
];
/** Turns one side's binding into `mcp:1` with the given hash, server, metadata and invoice. */
function mcp(
  side: "requirements" | "payload/accepted",
  hash: string,
  invoice: string,
  opts: { server?: string; metadata?: string[] } = {},
): Op[] {
  return [
    r(`/${side}/extra/requestHash`, hash),
    r(`/${side}/extra/requestBindingProfile`, "mcp:1"),
    r(`/${side}/extra/requestBindingParams`, {
      server: opts.server ?? "https://api.example.com/mcp",
      metadata: opts.metadata ?? [],
    }),
    r(`/${side}/extra/invoice`, invoice),
  ];
}

const settledA = { transaction: PAYMENT_HASH.a };
const settledB = { transaction: PAYMENT_HASH.b };

/** The shared vectors' `facilitator_settle` cases, by id. */
const CASES: Record<string, Step[]> = {
  "spec-example": [
    { patch: [], expect: { ...settledA, keepUntil: 1_700_003_960 } },
    { patch: [], expect: "duplicate_settlement" },
  ],
  "fresh-requirements-invoice": [
    { patch: [r("/requirements/extra/invoice", INVOICE.fresh)], expect: settledA },
  ],
  "two-paid-invoices": [
    { patch: [], expect: settledA },
    { patch: [acceptedInvoice(INVOICE.b), preimageB], expect: settledB },
  ],
  "defaults-and-additive-fields": [
    {
      patch: [
        { op: "remove", path: "/payload/accepted/extra/assetTransferMethod" },
        { op: "add", path: "/payload/accepted/extra/clientNote", value: "ignored" },
      ],
      expect: settledA,
    },
  ],
  "payee-field-present": [
    { patch: [acceptedInvoice(INVOICE.withPayee), preimageB], expect: settledB },
  ],
  "same-hash-each-network": [
    { patch: [acceptedInvoice(INVOICE.b), preimageB], expect: settledB },
    {
      patch: [
        ...both("network", TESTNET),
        r("/requirements/extra/invoice", INVOICE.testnet),
        acceptedInvoice(INVOICE.testnet),
        preimageB,
      ],
      expect: { ...settledB, network: TESTNET },
    },
  ],
  "preimage-missing-does-not-consume": [
    {
      patch: [{ op: "remove", path: "/payload/payload/preimage" }],
      expect: "invalid_exact_lnbtc_preimage_missing",
    },
    { patch: [], expect: settledA },
  ],
  "preimage-uppercase-does-not-consume": [
    {
      patch: [r("/payload/payload/preimage", "AB".repeat(32))],
      expect: "invalid_exact_lnbtc_preimage_malformed",
    },
    { patch: [], expect: settledA },
  ],
  "preimage-non-hex-does-not-consume": [
    {
      patch: [r("/payload/payload/preimage", "ABC")],
      expect: "invalid_exact_lnbtc_preimage_malformed",
    },
    { patch: [], expect: settledA },
  ],
  "preimage-63-chars-does-not-consume": [
    {
      patch: [r("/payload/payload/preimage", "a".repeat(63))],
      expect: "invalid_exact_lnbtc_preimage_length",
    },
    { patch: [], expect: settledA },
  ],
  "preimage-66-chars-does-not-consume": [
    {
      patch: [r("/payload/payload/preimage", `${PREIMAGE.a}00`)],
      expect: "invalid_exact_lnbtc_preimage_length",
    },
    { patch: [], expect: settledA },
  ],
  "preimage-wrong-does-not-consume": [
    {
      patch: [r("/payload/payload/preimage", "0".repeat(64))],
      expect: "invalid_exact_lnbtc_preimage_hash_mismatch",
    },
    { patch: [], expect: settledA },
  ],
  "expiry-at-invoice-end": [{ now: NOW + 300, patch: [], expect: settledA }],
  "expiry-at-end-plus-skew": [{ now: NOW + 360, patch: [], expect: settledA }],
  "expiry-after-end-plus-skew": [
    { now: NOW + 361, patch: [], expect: "invalid_exact_lnbtc_invoice_expired" },
  ],
  "created-at-skew-boundary": [
    {
      patch: [acceptedInvoice(INVOICE.createdAtSkew), preimageB],
      expect: { ...settledB, keepUntil: 1_700_004_020 },
    },
  ],
  "accepted-scheme-differs": [
    { patch: [r("/payload/accepted/scheme", "other")], expect: "unsupported_scheme" },
  ],
  "accepted-network-differs": [
    { patch: [r("/payload/accepted/network", TESTNET)], expect: "network_mismatch" },
  ],
  "accepted-amount-differs": [
    { patch: [r("/payload/accepted/amount", "1")], expect: "invalid_exact_lnbtc_amount_mismatch" },
  ],
  "accepted-asset-differs": [
    { patch: [r("/payload/accepted/asset", "btc")], expect: "invalid_exact_lnbtc_asset" },
  ],
  "accepted-payTo-differs": [
    { patch: [r("/payload/accepted/payTo", "bad")], expect: "invalid_exact_lnbtc_pay_to_mismatch" },
  ],
  "accepted-maxTimeoutSeconds-differs": [
    {
      patch: [r("/payload/accepted/maxTimeoutSeconds", 1)],
      expect: "invalid_exact_lnbtc_max_timeout_mismatch",
    },
  ],
  "both-scheme-unsupported": [{ patch: both("scheme", "upto"), expect: "unsupported_scheme" }],
  "both-network-unsupported": [
    {
      patch: both("network", "lnbtc:00000000000000000000000000000000"),
      expect: "unsupported_network",
    },
  ],
  "both-asset-not-btc": [{ patch: both("asset", "ETH"), expect: "invalid_exact_lnbtc_asset" }],
  "both-amount-zero": [{ patch: both("amount", "0"), expect: "invalid_exact_lnbtc_amount" }],
  "both-amount-decimal": [
    { patch: both("amount", "25000.0"), expect: "invalid_exact_lnbtc_amount" },
  ],
  "both-amount-signed": [{ patch: both("amount", "+25000"), expect: "invalid_exact_lnbtc_amount" }],
  "both-amount-exponent": [
    { patch: both("amount", "2.5e4"), expect: "invalid_exact_lnbtc_amount" },
  ],
  "both-pay-to-short": [
    { patch: both("payTo", "bad"), expect: "invalid_exact_lnbtc_pay_to_malformed" },
  ],
  "both-pay-to-uppercase": [
    { patch: both("payTo", PAY_TO.toUpperCase()), expect: "invalid_exact_lnbtc_pay_to_malformed" },
  ],
  "both-pay-to-off-curve": [
    { patch: both("payTo", `02${"0".repeat(64)}`), expect: "invalid_exact_lnbtc_pay_to_malformed" },
  ],
  "both-max-timeout-zero": [
    { patch: both("maxTimeoutSeconds", 0), expect: "invalid_exact_lnbtc_max_timeout" },
  ],
  "accepted-request-hash-null": [
    {
      patch: [r("/payload/accepted/extra/requestHash", null)],
      expect: "invalid_exact_lnbtc_request_binding",
    },
  ],
  "accepted-request-hash-missing": [
    {
      patch: [{ op: "remove", path: "/payload/accepted/extra/requestHash" }],
      expect: "invalid_exact_lnbtc_request_binding",
    },
  ],
  "required-request-hash-missing": [
    {
      patch: [{ op: "remove", path: "/requirements/extra/requestHash" }],
      expect: "invalid_exact_lnbtc_request_binding",
    },
  ],
  "both-request-hash-uppercase": [
    {
      patch: both("extra/requestHash", HASH.httpA.toUpperCase()),
      expect: "invalid_exact_lnbtc_request_binding",
    },
  ],
  "accepted-profile-missing": [
    {
      patch: [{ op: "remove", path: "/payload/accepted/extra/requestBindingProfile" }],
      expect: "invalid_exact_lnbtc_request_binding",
    },
  ],
  "accepted-profile-unknown": [
    {
      patch: [r("/payload/accepted/extra/requestBindingProfile", "unknown")],
      expect: "invalid_exact_lnbtc_request_binding",
    },
  ],
  "accepted-params-missing": [
    {
      patch: [{ op: "remove", path: "/payload/accepted/extra/requestBindingParams" }],
      expect: "invalid_exact_lnbtc_request_binding",
    },
  ],
  "accepted-params-unknown-member": [
    {
      patch: [
        { op: "add", path: "/payload/accepted/extra/requestBindingParams/unknown", value: true },
      ],
      expect: "invalid_exact_lnbtc_request_binding",
    },
  ],
  "accepted-params-header-list": [
    {
      patch: [r("/payload/accepted/extra/requestBindingParams/headers", ["accept"])],
      expect: "invalid_exact_lnbtc_request_mismatch",
    },
  ],
  "actual-request-differs": [
    {
      patch: [r("/requirements/extra/requestHash", HASH.httpB)],
      expect: "invalid_exact_lnbtc_request_mismatch",
    },
  ],
  "accepted-transfer-method": [
    {
      patch: [r("/payload/accepted/extra/assetTransferMethod", "other")],
      expect: "invalid_exact_lnbtc_asset_transfer_method",
    },
  ],
  "accepted-payment-flow-null": [
    {
      patch: [r("/payload/accepted/extra/paymentFlow", null)],
      expect: "invalid_exact_lnbtc_payment_flow",
    },
  ],
  "both-payment-flow-deferred": [
    { patch: both("extra/paymentFlow", "deferred"), expect: "invalid_exact_lnbtc_payment_flow" },
  ],
  "server-declared-extra": [
    {
      patch: [{ op: "add", path: "/requirements/extra/merchant", value: "expected" }],
      expect: "invalid_exact_lnbtc_extra_mismatch",
    },
  ],
  "accepted-invoice-empty": [
    { patch: [acceptedInvoice("")], expect: "invalid_exact_lnbtc_invoice_missing" },
  ],
  "accepted-invoice-missing": [
    {
      patch: [{ op: "remove", path: "/payload/accepted/extra/invoice" }],
      expect: "invalid_exact_lnbtc_invoice_missing",
    },
  ],
  "required-invoice-empty": [
    {
      patch: [r("/requirements/extra/invoice", "")],
      expect: "invalid_exact_lnbtc_invoice_missing",
    },
  ],
  "invoice-garbage": [
    { patch: [acceptedInvoice("garbage")], expect: "invalid_exact_lnbtc_invoice_decode_failed" },
  ],
  "invoice-mixed-case": [
    {
      patch: [acceptedInvoice(INVOICE.mixedCase)],
      expect: "invalid_exact_lnbtc_invoice_decode_failed",
    },
  ],
  "invoice-bad-checksum": [
    {
      patch: [acceptedInvoice(INVOICE.badChecksum)],
      expect: "invalid_exact_lnbtc_invoice_decode_failed",
    },
  ],
  "invoice-fractional-msat": [
    {
      patch: [acceptedInvoice(INVOICE.fractionalMsat)],
      expect: "invalid_exact_lnbtc_invoice_decode_failed",
    },
  ],
  "invoice-nonzero-padding": [
    {
      patch: [acceptedInvoice(INVOICE.nonZeroPadding)],
      expect: "invalid_exact_lnbtc_invoice_decode_failed",
    },
  ],
  "invoice-duplicate-description-hash": [
    {
      patch: [acceptedInvoice(INVOICE.duplicateHash)],
      expect: "invalid_exact_lnbtc_invoice_description",
    },
  ],
  "invoice-inline-description": [
    {
      patch: [acceptedInvoice(INVOICE.inlineDescription), preimageB],
      expect: "invalid_exact_lnbtc_invoice_description",
    },
  ],
  "invoice-no-description": [
    {
      patch: [acceptedInvoice(INVOICE.noDescription), preimageB],
      expect: "invalid_exact_lnbtc_invoice_description",
    },
  ],
  "invoice-other-signer": [
    {
      patch: [acceptedInvoice(INVOICE.otherSigner), preimageB],
      expect: "invalid_exact_lnbtc_invoice_payee_mismatch",
    },
  ],
  "invoice-testnet-currency": [
    {
      patch: [acceptedInvoice(INVOICE.testnet), preimageB],
      expect: "invalid_exact_lnbtc_invoice_currency_mismatch",
    },
  ],
  "invoice-amount": [
    {
      patch: [acceptedInvoice(INVOICE.oneMsat), preimageB],
      expect: "invalid_exact_lnbtc_invoice_amount_mismatch",
    },
  ],
  "invoice-expiry": [
    {
      patch: [acceptedInvoice(INVOICE.expiryOneSecond), preimageB],
      expect: "invalid_exact_lnbtc_invoice_expiry_mismatch",
    },
  ],
  "invoice-created-in-future": [
    {
      patch: [acceptedInvoice(INVOICE.createdInFuture), preimageB],
      expect: "invalid_exact_lnbtc_invoice_created_in_future",
    },
  ],
  "echo-article-b": [
    {
      patch: both("extra/requestHash", HASH.httpB),
      expect: "invalid_exact_lnbtc_invoice_request_mismatch",
    },
  ],
  "echo-method-post": [
    {
      patch: both("extra/requestHash", HASH.httpPost),
      expect: "invalid_exact_lnbtc_invoice_request_mismatch",
    },
  ],
  "echo-body-78": [
    {
      patch: both("extra/requestHash", HASH.httpBody78),
      expect: "invalid_exact_lnbtc_invoice_request_mismatch",
    },
  ],
  "mcp-settles": [
    {
      patch: [
        ...mcp("requirements", HASH.mcpA, INVOICE.mcpA),
        ...mcp("payload/accepted", HASH.mcpA, INVOICE.mcpA),
        preimageB,
      ],
      expect: settledB,
    },
  ],
  "mcp-actual-call-differs": [
    {
      patch: [
        ...mcp("requirements", HASH.mcpB, INVOICE.mcpA),
        ...mcp("payload/accepted", HASH.mcpA, INVOICE.mcpA),
        preimageB,
      ],
      expect: "invalid_exact_lnbtc_request_mismatch",
    },
  ],
  "mcp-echo-call-differs": [
    {
      patch: [
        ...mcp("requirements", HASH.mcpB, INVOICE.mcpA),
        ...mcp("payload/accepted", HASH.mcpB, INVOICE.mcpA),
        preimageB,
      ],
      expect: "invalid_exact_lnbtc_invoice_request_mismatch",
    },
  ],
  "mcp-echo-server-differs": [
    {
      patch: [
        ...mcp("requirements", HASH.mcpOtherServer, INVOICE.mcpA, {
          server: "https://other.example.com/mcp",
        }),
        ...mcp("payload/accepted", HASH.mcpOtherServer, INVOICE.mcpA, {
          server: "https://other.example.com/mcp",
        }),
        preimageB,
      ],
      expect: "invalid_exact_lnbtc_invoice_request_mismatch",
    },
  ],
  "mcp-binding-on-http-invoice": [
    {
      patch: [
        ...mcp("requirements", HASH.mcpA, INVOICE.b),
        ...mcp("payload/accepted", HASH.mcpA, INVOICE.b),
        preimageB,
      ],
      expect: "invalid_exact_lnbtc_invoice_request_mismatch",
    },
  ],
  "mcp-accepted-profile-http": [
    {
      patch: [
        ...mcp("requirements", HASH.mcpA, INVOICE.mcpA),
        acceptedInvoice(INVOICE.mcpA),
        preimageB,
      ],
      expect: "invalid_exact_lnbtc_request_mismatch",
    },
  ],
  "mcp-metadata-absent-to-null": [
    {
      patch: [
        ...mcp("requirements", HASH.mcpMetaNull, INVOICE.mcpMetaAbsent, { metadata: ["account"] }),
        ...mcp("payload/accepted", HASH.mcpMetaNull, INVOICE.mcpMetaAbsent, {
          metadata: ["account"],
        }),
        preimageB,
      ],
      expect: "invalid_exact_lnbtc_invoice_request_mismatch",
    },
  ],
  "mcp-metadata-lists-payment": [
    {
      patch: [
        ...mcp("requirements", HASH.mcpA, INVOICE.mcpA, { metadata: ["x402/payment"] }),
        ...mcp("payload/accepted", HASH.mcpA, INVOICE.mcpA, { metadata: ["x402/payment"] }),
      ],
      expect: "invalid_exact_lnbtc_request_binding",
    },
  ],
  "order-amount-zero": [
    { patch: [r("/payload/accepted/amount", "0")], expect: "invalid_exact_lnbtc_amount_mismatch" },
  ],
  "order-flow-before-required-invoice": [
    {
      patch: [
        r("/requirements/extra/invoice", ""),
        { op: "remove", path: "/payload/accepted/extra/paymentFlow" },
      ],
      expect: "invalid_exact_lnbtc_payment_flow",
    },
  ],
  "order-binding-before-accepted-invoice": [
    {
      patch: [r("/payload/accepted/extra/requestHash", HASH.httpB), acceptedInvoice("")],
      expect: "invalid_exact_lnbtc_request_mismatch",
    },
  ],
  "order-invoice-before-preimage": [
    {
      patch: [acceptedInvoice(INVOICE.otherSigner), r("/payload/payload/preimage", "0".repeat(64))],
      expect: "invalid_exact_lnbtc_invoice_payee_mismatch",
    },
  ],
  "order-preimage-before-expiry": [
    {
      now: NOW + 361,
      patch: [r("/payload/payload/preimage", "0".repeat(64))],
      expect: "invalid_exact_lnbtc_preimage_hash_mismatch",
    },
  ],
};

/** Runs steps against one replay store, as the facilitator's atomic insert would. */
function run(steps: Step[], store = new Set<string>()): SettleVerdict[] {
  return steps.map((step) => {
    const request = base();
    apply(request, step.patch);
    const verdict = checkSettlement(
      {
        accepted: request.payload.accepted,
        payload: request.payload.payload,
        requirements: request.requirements,
      },
      { now: step.now ?? NOW },
    );
    if (!verdict.ok) return verdict;
    if (store.has(verdict.replayKey))
      return { ok: false, errorReason: "duplicate_settlement", step: 9 };
    store.add(verdict.replayKey);
    return verdict;
  });
}

describe("lnbtc settle: the shared vectors' facilitator cases", () => {
  for (const [id, steps] of Object.entries(CASES)) {
    it(`vector: ${id}`, () => {
      const verdicts = run(steps);
      steps.forEach((step, i) => {
        const verdict = verdicts[i];
        if (typeof step.expect === "string") {
          expect(verdict).toMatchObject({ ok: false, errorReason: step.expect });
          return;
        }
        const network = step.expect.network ?? MAINNET;
        expect(verdict).toMatchObject({
          ok: true,
          paymentHash: step.expect.transaction,
          network,
          replayKey: `${network}:${step.expect.transaction}`,
          keepUntil: step.expect.keepUntil ?? 1_700_003_960,
        });
        expect(settleResponse(verdict as SettleAccepted, network)).toEqual({
          success: true,
          transaction: step.expect.transaction,
          network,
        });
      });
    });
  }
});

describe("lnbtc settle: the spec's HTTP settlement table", () => {
  it("behavior: the examples settle whatever their member order or whitespace", () => {
    const reverse = (v: unknown): unknown =>
      typeof v === "object" && v !== null && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, x]) => [k, reverse(x)]),
          )
        : v;
    const request = base();
    const text = `\n  ${JSON.stringify(reverse(request.payload.accepted), null, 3)}\t`;
    const verdict = checkSettlement(
      {
        accepted: JSON.parse(text),
        payload: request.payload.payload,
        requirements: request.requirements,
      },
      { now: NOW },
    );
    expect(verdict).toMatchObject({ ok: true, paymentHash: PAYMENT_HASH.a });
  });

  it("behavior: a proof paid for the first of two concurrent challenges settles against the second", () => {
    expect(run(CASES["fresh-requirements-invoice"] ?? [])).toMatchObject([{ ok: true }]);
  });

  it("error: the same proof on both challenges settles once, then duplicate_settlement", () => {
    const store = new Set<string>();
    const [first] = run([{ patch: [], expect: settledA }], store);
    const [second] = run(
      [
        {
          patch: [r("/requirements/extra/invoice", INVOICE.fresh)],
          expect: "duplicate_settlement",
        },
      ],
      store,
    );
    expect([first?.ok, second]).toEqual([
      true,
      { ok: false, errorReason: "duplicate_settlement", step: 9 },
    ]);
    expect(duplicateSettlement(MAINNET)).toMatchObject({
      success: false,
      errorReason: "duplicate_settlement",
      transaction: "",
    });
  });

  it("error: removing a binding field from either side is invalid_exact_lnbtc_request_binding", () => {
    for (const side of ["requirements", "payload/accepted"]) {
      for (const field of ["requestHash", "requestBindingProfile", "requestBindingParams"]) {
        const [verdict] = run([
          { patch: [{ op: "remove", path: `/${side}/extra/${field}` }], expect: "" },
        ]);
        expect(verdict).toMatchObject({
          errorReason: "invalid_exact_lnbtc_request_binding",
          step: 3,
        });
      }
    }
  });

  it("error: an unknown profile or missing parameters are invalid_exact_lnbtc_request_binding", () => {
    for (const patch of [
      both("extra/requestBindingProfile", "grpc:1"),
      both("extra/requestBindingParams", {}),
      both("extra/requestBindingParams", { headers: [], extra: [] }),
    ]) {
      expect(run([{ patch, expect: "" }])[0]).toMatchObject({
        errorReason: "invalid_exact_lnbtc_request_binding",
      });
    }
  });
});

describe("lnbtc settle: answers and isolation", () => {
  const accepted = run([{ patch: [], expect: settledA }])[0] as SettleAccepted;
  const issued = { network: MAINNET, amountMsat: 25_000, requestHash: HASH.httpA };

  it("behavior: an invoice this merchant issued, confirmed by its wallet, stays accepted", () => {
    expect(checkIsolation(accepted, { issued, receiptConfirmed: true })).toBe(accepted);
  });

  it("error: a co-tenant's invoice on the same node key is unknown_invoice (§Receiver Key Isolation 2.2)", () => {
    expect(checkIsolation(accepted, { issued: null, receiptConfirmed: true })).toMatchObject({
      errorReason: "unknown_invoice",
    });
    for (const other of [{ network: TESTNET }, { amountMsat: 1 }, { requestHash: HASH.httpB }]) {
      expect(
        checkIsolation(accepted, { issued: { ...issued, ...other }, receiptConfirmed: true }),
      ).toMatchObject({ ok: false, errorReason: "unknown_invoice" });
    }
  });

  it("error: a preimage without the wallet's receipt is payment_not_received (§Receiver Key Isolation 2.3)", () => {
    expect(checkIsolation(accepted, { issued, receiptConfirmed: false })).toMatchObject({
      ok: false,
      errorReason: "payment_not_received",
    });
  });

  it("behavior: a failure answers with the reason, an empty transaction and no payer", () => {
    const [refused] = run([
      { patch: [r("/payload/payload/preimage", "0".repeat(64))], expect: "" },
    ]);
    const answer = settleResponse(refused as SettleVerdict, MAINNET);
    expect(answer).toMatchObject({
      success: false,
      errorReason: "invalid_exact_lnbtc_preimage_hash_mismatch",
      transaction: "",
      network: MAINNET,
    });
    expect("payer" in answer).toBe(false);
    expect(verifyResponse(refused as SettleVerdict)).toMatchObject({
      isValid: false,
      invalidReason: "invalid_exact_lnbtc_preimage_hash_mismatch",
    });
  });

  it("error: the regtest id is refused unless the caller serves it", () => {
    const request = base();
    apply(request, both("network", "lnbtc:0f9188f13cb7b2c71f2a335e3a4fc328"));
    const input = {
      accepted: request.payload.accepted,
      payload: request.payload.payload,
      requirements: request.requirements,
    };
    expect(checkSettlement(input, { now: NOW })).toMatchObject({
      errorReason: "unsupported_network",
    });
    expect(checkSettlement(input, { now: NOW, networks: ["mainnet", "regtest"] })).toMatchObject({
      errorReason: "invalid_exact_lnbtc_invoice_currency_mismatch",
    });
  });
});
