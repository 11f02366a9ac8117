import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { encodeInvoice } from "../bolt11/Bolt11.ts";
import { parseFacilitatorRequest } from "./Messages.ts";
import { X402_NETWORKS } from "./Networks.ts";
import { preparePayment } from "./Verify.ts";

const paymentHash = bytesToHex(randomBytes(32));
const invoice = encodeInvoice(
  {
    network: "regtest",
    amountMsat: 21_000,
    timestamp: 1_700_000_000,
    paymentHash,
    paymentSecret: bytesToHex(randomBytes(32)),
    description: "test",
  },
  randomBytes(32),
);
const requirements = {
  scheme: "exact",
  network: X402_NETWORKS.regtest as string,
  amount: "21000",
  asset: "BTC",
  payTo: "m_merchant",
  maxTimeoutSeconds: 300,
  extra: { paymentMethod: "lightning", merchantId: "m_merchant", invoice, paymentHash },
};
const preimage = bytesToHex(randomBytes(32));

function prepare(
  req: Record<string, unknown>,
  payload: Record<string, unknown> = { preimage },
  accepted: Record<string, unknown> = req,
) {
  return preparePayment(
    parseFacilitatorRequest({
      x402Version: 2,
      paymentPayload: { x402Version: 2, accepted, payload },
      paymentRequirements: req,
    }),
  );
}

describe("preparePayment: the stateless checks of verify and settle", () => {
  it("behavior: a well-formed request names the merchant and what its book must check", () => {
    expect(prepare(requirements)).toMatchObject({
      ok: true,
      merchantId: "m_merchant",
      check: { paymentHash, invoice, preimage, amountMsat: 21_000, network: "regtest" },
    });
  });

  it.each([
    ["unsupported_scheme", { ...requirements, scheme: "upto" }],
    ["unsupported_network", { ...requirements, network: "eip155:8453" }],
    ["unsupported_asset", { ...requirements, asset: "USDC" }],
    ["unsupported_asset", { ...requirements, asset: undefined }],
    ["invalid_requirements", { ...requirements, amount: "0" }],
    ["invalid_requirements", { ...requirements, amount: "1.5" }],
    ["invalid_requirements", { ...requirements, extra: { ...requirements.extra, merchantId: "" } }],
    ["amount_mismatch", { ...requirements, amount: "20000" }],
    ["network_mismatch", { ...requirements, network: X402_NETWORKS.mainnet }],
    [
      "invoice_mismatch",
      { ...requirements, extra: { ...requirements.extra, paymentHash: "0".repeat(64) } },
    ],
    [
      "invalid_invoice",
      {
        ...requirements,
        extra: { ...requirements.extra, invoice: `${invoice.slice(0, -6)}qqqqqq` },
      },
    ],
  ])("error: %s", (reason, req) => {
    expect(prepare(req)).toMatchObject({ ok: false, rejection: { reason } });
  });

  it("error: payloads without a proof, or with a malformed one, are invalid_payload", () => {
    expect(prepare(requirements, {})).toMatchObject({ rejection: { reason: "invalid_payload" } });
    expect(prepare(requirements, { preimage: "zz" })).toMatchObject({
      rejection: { reason: "invalid_payload" },
    });
  });

  it("error: an accepted that differs from the requirements is accepted_mismatch", () => {
    expect(
      prepare(requirements, { preimage }, { ...requirements, payTo: "m_other" }),
    ).toMatchObject({ rejection: { reason: "accepted_mismatch" } });
    expect(
      prepare(
        requirements,
        { preimage },
        { ...requirements, extra: { ...requirements.extra, merchantId: "m_other" } },
      ),
    ).toMatchObject({ rejection: { reason: "accepted_mismatch" } });
  });

  it("error: a paid invoice in the payload that is not the required one is invoice_mismatch", () => {
    const other = encodeInvoice(
      {
        network: "regtest",
        amountMsat: 21_000,
        timestamp: 1_700_000_000,
        paymentHash: bytesToHex(randomBytes(32)),
        paymentSecret: bytesToHex(randomBytes(32)),
        description: "other",
      },
      randomBytes(32),
    );
    expect(prepare(requirements, { invoice: other })).toMatchObject({
      rejection: { reason: "invoice_mismatch" },
    });
  });
});
