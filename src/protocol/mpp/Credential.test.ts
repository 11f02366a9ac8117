import fc from "fast-check";
import { Credential as MppxCredential, Receipt as MppxReceipt } from "mppx";
import { describe, expect, it } from "vitest";
import { canonicalize } from "../Jcs.ts";
import { decodeText, encodeText } from "./Base64Url.ts";
import * as Challenge from "./Challenge.ts";
import * as Credential from "./Credential.ts";
import { PaymentProblem, PROBLEM_TYPE_BASE } from "./Problems.ts";
import * as Receipt from "./Receipt.ts";

const challenge = Challenge.from({
  secretKey: "a-test-secret-of-at-least-32-bytes!!",
  realm: "api.example.com",
  method: "lightning",
  intent: "charge",
  request: { amount: "21", currency: "sat", methodDetails: { invoice: "lnbcrt210n1…" } },
  expires: "2026-11-21T09:05:00.000Z",
  description: "weather",
});
const credential = { challenge, payload: { preimage: "ab".repeat(32) }, source: "did:example:1" };

describe("Credential", () => {
  it("interop: mppx reads our credential and we read mppx's", () => {
    const ours = Credential.serialize(credential);
    expect(MppxCredential.deserialize(ours)).toEqual(credential);
    expect(Credential.parse(MppxCredential.serialize(credential))).toEqual(credential);
  });

  it("behavior: a credential and a receipt are written as JCS (draft-httpauth-payment-01 §credential, §receipt)", () => {
    const jcs = (header: string) => {
      const text = decodeText(header.replace(/^Payment /, ""));
      expect(text).toBe(canonicalize(JSON.parse(text)));
    };
    jcs(Credential.serialize(credential));
    jcs(
      Receipt.serialize({
        status: "success",
        method: "lightning",
        timestamp: "2026-11-21T09:05:00.000Z",
        reference: "ab".repeat(32),
        challengeId: challenge.id,
        intent: "charge",
      }),
    );
  });

  it("behavior: takes the Payment credential out of a merged Authorization value", () => {
    const header = `Bearer xyz, ${Credential.serialize(credential)}`;
    expect(Credential.parse(header)).toEqual(credential);
  });

  it("error: anything unreadable is a 402 malformed-credential problem", () => {
    const wire = (v: unknown) => `Payment ${encodeText(JSON.stringify(v))}`;
    const bad = [
      "Bearer abc",
      "Payment",
      "Payment !!!",
      `Payment ${encodeText("not json")}`,
      wire([]),
      wire({ challenge: { ...challenge, request: "x" }, payload: {} }),
      wire({ challenge: { id: "x" }, payload: {} }),
      wire({
        challenge: { ...challenge, request: Challenge.encodeRequest(challenge.request) },
        payload: "p",
      }),
      wire({
        challenge: {
          ...challenge,
          request: Challenge.encodeRequest(challenge.request),
          expires: "soon",
        },
        payload: {},
      }),
    ];
    for (const header of bad) {
      const err = (() => {
        try {
          Credential.parse(header);
        } catch (e) {
          return e;
        }
      })();
      expect(err, header).toBeInstanceOf(PaymentProblem);
      expect((err as PaymentProblem).type).toBe(`${PROBLEM_TYPE_BASE}malformed-credential`);
      expect((err as PaymentProblem).status).toBe(402);
    }
  });

  it("fuzz: any header either parses or throws a PaymentProblem", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `Payment ${encodeText(s)}`),
        ),
        (h) => {
          try {
            Credential.parse(h);
          } catch (err) {
            expect(err).toBeInstanceOf(PaymentProblem);
          }
        },
      ),
    );
  });
});

describe("Receipt", () => {
  const receipt: Receipt.Receipt = {
    status: "success",
    method: "lightning",
    intent: "charge",
    reference: "cd".repeat(32),
    challengeId: challenge.id,
    timestamp: "2026-11-21T09:01:00.000Z",
  };

  it("interop: mppx reads our receipt (extra members kept) and we read mppx's", () => {
    expect(MppxReceipt.deserialize(Receipt.serialize(receipt))).toEqual(receipt);
    expect(Receipt.parse(MppxReceipt.serialize(MppxReceipt.from(receipt)))).toEqual(receipt);
  });

  it("error: rejects a receipt that is not a success or lacks a reference", () => {
    expect(() =>
      Receipt.parse(encodeText(JSON.stringify({ ...receipt, status: "failed" }))),
    ).toThrow();
    const { reference: _, ...noReference } = receipt;
    expect(() => Receipt.parse(encodeText(JSON.stringify(noReference)))).toThrow();
    expect(() => Receipt.parse("%%%")).toThrow();
  });
});
