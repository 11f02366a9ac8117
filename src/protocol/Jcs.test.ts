import { PaymentRequest } from "mppx";
import { describe, expect, it } from "vitest";
import { canonicalize } from "./Jcs.ts";
import { encodeRequest } from "./mpp/Challenge.ts";

describe("Jcs.canonicalize", () => {
  it("behavior: sorts members by UTF-16 code units (RFC 8785 §3.2.3 example)", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    // Read the keys from the text: Object.keys would move the integer-like "1" first.
    const keys = [...canonicalize(input).matchAll(/"([^"]+)":/g)].map((m) =>
      JSON.parse(`"${m[1]}"`),
    );
    expect(keys).toEqual(["\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"]);
  });

  it("behavior: writes numbers in ECMAScript form (RFC 8785 §3.2.2.3 vectors)", () => {
    const cases: [number, string][] = [
      [0, "0"],
      [-0, "0"],
      [1e30, "1e+30"],
      [4.5, "4.5"],
      [0.002, "0.002"],
      [1e-7, "1e-7"],
      [333333333.3333333, "333333333.3333333"],
      [9007199254740991, "9007199254740991"],
      [5e-324, "5e-324"],
    ];
    for (const [n, text] of cases) expect(canonicalize(n)).toBe(text);
  });

  it("behavior: escapes strings minimally and nests arrays and objects", () => {
    expect(canonicalize({ b: [1, "\u000f\n", true, null], a: { d: "€", c: '"\\' } })).toBe(
      '{"a":{"c":"\\"\\\\","d":"€"},"b":[1,"\\u000f\\n",true,null]}',
    );
  });

  it("behavior: leaves out undefined members, as JSON.stringify does", () => {
    expect(canonicalize({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it("error: rejects non-finite numbers and non-JSON values", () => {
    expect(() => canonicalize(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalize({ x: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    expect(() => canonicalize(new Date(0))).toThrow(TypeError);
    expect(() => canonicalize([undefined])).toThrow(TypeError);
    expect(() => canonicalize(1n)).toThrow(TypeError);
  });

  it("interop: the encoded request equals mppx's PaymentRequest.serialize", () => {
    const request = {
      methodDetails: { network: "regtest", invoice: "lnbcrt10u1…", paymentHash: "ab".repeat(32) },
      currency: "sat",
      amount: "1000",
      description: 'Grüße, "quoted" ✓ 😀',
      n: [1.5, 1e21, -0, 2e-7],
    };
    expect(encodeRequest(request)).toBe(PaymentRequest.serialize(request));
  });
});

describe("Jcs.canonicalize (I-JSON input)", () => {
  it("error: refuses a lone surrogate in a value or a member name (RFC 7493 §2.1)", () => {
    expect(() => canonicalize({ x: "\ud800" })).toThrow(TypeError);
    expect(() => canonicalize({ "\udc00": 1 })).toThrow(TypeError);
    expect(canonicalize({ x: "\ud83d\ude00" })).toBe('{"x":"\ud83d\ude00"}');
  });
});
