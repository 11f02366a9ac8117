import { describe, expect, it } from "vitest";
import { SAMPLE_HASH, SAMPLE_PREIMAGE, WIRE_TX } from "../../../test/support/fixtures.ts";
import { BadRequestError } from "../Errors.ts";
import {
  chooseEncryption,
  ERROR_CODES,
  lookupInvoiceRequest,
  makeInvoiceRequest,
  NwcResponseError,
  NwcWalletError,
  parseInfoEvent,
  parseNotification,
  parseResponse,
  parseResult,
  payInvoiceRequest,
} from "./Messages.ts";

const HASH = SAMPLE_HASH;
const PREIMAGE = SAMPLE_PREIMAGE;

function response(body: unknown): string {
  return JSON.stringify(body);
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("request builders", () => {
  it("behavior: use NIP-47 parameter names and units (msat, seconds)", () => {
    expect(
      makeInvoiceRequest({ amountMsat: 21_000, description: "coffee", expirySecs: 600 }),
    ).toEqual({
      method: "make_invoice",
      params: { amount: 21_000, description: "coffee", expiry: 600 },
    });
    expect(makeInvoiceRequest({ amountMsat: 1, descriptionHash: HASH }).params).toEqual({
      amount: 1,
      description_hash: HASH,
    });
    expect(lookupInvoiceRequest({ paymentHash: HASH })).toEqual({
      method: "lookup_invoice",
      params: { payment_hash: HASH },
    });
    expect(lookupInvoiceRequest({ invoice: "lnbcrt1…" }).params).toEqual({ invoice: "lnbcrt1…" });
    expect(payInvoiceRequest({ invoice: "lnbcrt1…", amountMsat: 7_000 })).toEqual({
      method: "pay_invoice",
      params: { invoice: "lnbcrt1…", amount: 7_000 },
    });
  });

  it.each([
    ["a zero amount", () => makeInvoiceRequest({ amountMsat: 0 }), "amountMsat must be a positive"],
    ["a fractional amount", () => payInvoiceRequest({ invoice: "x", amountMsat: 1.5 }), "1.5"],
    ["a negative expiry", () => makeInvoiceRequest({ amountMsat: 1, expirySecs: -1 }), "expiry"],
    ["an uppercase hash", () => lookupInvoiceRequest({ paymentHash: HASH.toUpperCase() }), "hex"],
    ["an empty invoice", () => payInvoiceRequest({ invoice: "" }), "BOLT11"],
  ])("error: %s is a 400 before anything is sent", (_name, build, expected) => {
    const err = thrown(build);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).detail).toContain(expected);
  });
});

describe("parseResponse", () => {
  it("behavior: a success yields the untyped result for its method", () => {
    const parsed = parseResponse(
      response({ result_type: "get_balance", error: null, result: { balance: 5 } }),
      "get_balance",
    );
    expect(parsed).toEqual({ ok: true, result: { balance: 5 } });
  });

  it("behavior: a wallet error is returned as NwcWalletError with its code and message", () => {
    const parsed = parseResponse(
      response({
        result_type: "pay_invoice",
        error: { code: "INSUFFICIENT_BALANCE", message: "not enough" },
      }),
      "pay_invoice",
    );
    expect(parsed.ok).toBe(false);
    const error = parsed.ok ? null : parsed.error;
    expect(error).toBeInstanceOf(NwcWalletError);
    expect(error).toMatchObject({ code: "INSUFFICIENT_BALANCE", walletMessage: "not enough" });
    expect(error?.toJSON()).toEqual({
      type: "urn:ln402:problem:wallet-insufficient-balance",
      title: "Wallet refused the request",
      status: 502,
      detail: "The wallet refused pay_invoice: INSUFFICIENT_BALANCE (not enough).",
      walletCode: "INSUFFICIENT_BALANCE",
    });
  });

  it("behavior: every NIP-47 code is kept; unknown codes become OTHER; NOT_FOUND is a 404", () => {
    for (const code of ERROR_CODES) {
      const parsed = parseResponse(response({ result_type: "", error: { code } }), "get_info");
      expect(parsed.ok ? null : parsed.error.code).toBe(code);
    }
    const unknown = parseResponse(response({ error: { code: "WHATEVER" } }), "get_info");
    expect(unknown.ok ? null : unknown.error.code).toBe("OTHER");
    const notFound = parseResponse(response({ error: { code: "NOT_FOUND" } }), "lookup_invoice");
    expect(notFound.ok ? null : notFound.error.status).toBe(404);
  });

  it("behavior: a very long wallet message is cut to 300 characters", () => {
    const parsed = parseResponse(
      response({ error: { code: "INTERNAL", message: "x".repeat(10_000) } }),
      "get_info",
    );
    expect(parsed.ok ? null : parsed.error.walletMessage.length).toBe(300);
  });

  it.each([
    ["not JSON", "{", "not JSON"],
    ["a JSON array", "[]", "must be a JSON object"],
    ["another method's result", response({ result_type: "get_info", result: {} }), "result_type"],
    ["no result", response({ result_type: "get_balance", error: null }), "result must be"],
    ["an error without a code", response({ error: { message: "no" } }), "error must be"],
    ["an error that is a string", response({ error: "RESTRICTED" }), "error must be"],
  ])("error: %s is NwcResponseError (502 wallet-bad-response)", (_name, plaintext, expected) => {
    const err = thrown(() => parseResponse(plaintext, "get_balance"));
    expect(err).toBeInstanceOf(NwcResponseError);
    expect((err as NwcResponseError).status).toBe(502);
    expect((err as NwcResponseError).detail).toContain(expected);
  });
});

describe("parseResult", () => {
  it("behavior: a transaction maps to ln402 names; empty and null fields are absent", () => {
    expect(parseResult("lookup_invoice", { ...WIRE_TX, settled_at: null })).toEqual({
      type: "incoming",
      state: "settled",
      invoice: "lnbcrt210n1…",
      description: "coffee",
      preimage: PREIMAGE,
      paymentHash: HASH,
      amountMsat: 21_000,
      feesPaidMsat: 0,
      createdAt: 1_750_000_000,
      expiresAt: 1_750_003_600,
    });
  });

  it("behavior: hex from the wallet is lowercased; an unknown state is dropped, not fatal", () => {
    const tx = parseResult("make_invoice", {
      ...WIRE_TX,
      payment_hash: HASH.toUpperCase(),
      state: "in_flight",
    });
    expect(tx.paymentHash).toBe(HASH);
    expect(tx.state).toBeUndefined();
  });

  it("behavior: get_info, pay_invoice and get_balance results are typed", () => {
    const info = parseResult("get_info", {
      alias: "devnet",
      pubkey: `02${HASH}`,
      network: "regtest",
      block_height: 1,
      methods: ["get_info", "make_invoice"],
      notifications: ["payment_received"],
    });
    expect(info).toMatchObject({ network: "regtest", blockHeight: 1, pubkey: `02${HASH}` });
    expect(parseResult("pay_invoice", { preimage: PREIMAGE, fees_paid: 3 })).toEqual({
      preimage: PREIMAGE,
      feesPaidMsat: 3,
    });
    expect(parseResult("get_balance", { balance: 42 })).toEqual({ balanceMsat: 42 });
  });

  it.each([
    ["lookup_invoice", { ...WIRE_TX, payment_hash: undefined }, "payment_hash must be present"],
    ["lookup_invoice", { ...WIRE_TX, amount: "21000" }, "amount must be a non-negative integer"],
    ["make_invoice", { ...WIRE_TX, amount: -1 }, "amount must be a non-negative integer"],
    ["make_invoice", { ...WIRE_TX, preimage: "zz" }, "preimage must be 64 hex"],
    ["pay_invoice", { fees_paid: 0 }, "preimage must be present"],
    ["get_info", { alias: "x" }, "methods must be present"],
    ["get_info", { methods: "get_info" }, "methods must be an array"],
    ["get_balance", [], "must be an object"],
  ] as const)(
    "error: a %s result failing its schema is NwcResponseError",
    (method, result, expected) => {
      const err = thrown(() => parseResult(method, result));
      expect(err).toBeInstanceOf(NwcResponseError);
      expect((err as NwcResponseError).detail).toContain(expected);
    },
  );
});

describe("parseNotification", () => {
  it("behavior: payment_received carries the settled transaction", () => {
    const n = parseNotification(
      response({ notification_type: "payment_received", notification: WIRE_TX }),
    );
    expect(n?.type).toBe("payment_received");
    expect(n?.transaction).toMatchObject({ paymentHash: HASH, preimage: PREIMAGE });
  });

  it("behavior: a notification type ln402 does not know is ignored (null)", () => {
    expect(parseNotification(response({ notification_type: "balance_changed" }))).toBeNull();
  });

  it("error: a known type with a malformed transaction is NwcResponseError", () => {
    const err = thrown(() =>
      parseNotification(response({ notification_type: "payment_sent", notification: {} })),
    );
    expect(err).toBeInstanceOf(NwcResponseError);
    expect((err as NwcResponseError).detail).toContain("notification.invoice must be present");
  });
});

describe("info event", () => {
  it("behavior: no encryption tag means NIP-04 only (NIP-47 §encryption)", () => {
    const info = parseInfoEvent({ content: "get_info make_invoice", tags: [] });
    expect(info).toEqual({
      methods: ["get_info", "make_invoice"],
      encryptions: ["nip04"],
      notifications: [],
    });
    expect(chooseEncryption(info.encryptions)).toBe("nip04");
  });

  it("behavior: NIP-44 v2 is chosen whenever offered, whatever the order", () => {
    const info = parseInfoEvent({
      content: " pay_invoice  get_info pay_invoice",
      tags: [
        ["encryption", "nip04 nip44_v2"],
        ["notifications", "payment_received payment_sent"],
      ],
    });
    expect(info.methods).toEqual(["pay_invoice", "get_info"]);
    expect(info.notifications).toEqual(["payment_received", "payment_sent"]);
    expect(chooseEncryption(info.encryptions)).toBe("nip44_v2");
    expect(chooseEncryption(["nip44_v3"])).toBeNull();
  });
});
