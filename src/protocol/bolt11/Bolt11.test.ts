import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bech32, hex } from "@scure/base";
import bolt11 from "bolt11";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../test/support/fixtures.ts";
import type { Bolt11Network, InvoiceFields } from "./Bolt11.ts";
import {
  Bolt11Error,
  decodeInvoice,
  encodeInvoice,
  readInvoice,
  signatureCheckCount,
} from "./Bolt11.ts";
import { SIGNATURE_WORDS, signDigest, signingDigest } from "./Signature.ts";
import {
  LONG_DESCRIPTION,
  SPEC_INVALID,
  SPEC_PAYEE,
  SPEC_PRIVATE_KEY,
  SPEC_VECTORS,
  UNKNOWN_EVEN_FEATURE,
} from "./vectors.ts";
import { bytesToWords, intToWords, wordsToBytes } from "./Words.ts";

const SPEC_KEY = hex.decode(SPEC_PRIVATE_KEY);
const KEY = hex.decode("11".repeat(32));
const PAYEE = hex.encode(secp256k1.getPublicKey(KEY, true));
const HASH = "ab".repeat(32);
const SECRET = "cd".repeat(32);
const NOW = 1_750_000_000;
const BTC_MSAT = 100_000_000_000;

/** bolt11 npm's network objects: it knows regtest as "bcrt" but has no signet. */
const NPM_NETWORKS: Record<Bolt11Network, Parameters<typeof bolt11.decode>[1]> = {
  mainnet: { bech32: "bc", pubKeyHash: 0x00, scriptHash: 0x05, validWitnessVersions: [0, 1] },
  testnet: { bech32: "tb", pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  signet: { bech32: "tbs", pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  regtest: { bech32: "bcrt", pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
};

function fields(overrides: Partial<InvoiceFields> = {}): InvoiceFields {
  return {
    network: "regtest",
    amountMsat: 21_000,
    timestamp: NOW,
    paymentHash: HASH,
    paymentSecret: SECRET,
    description: "ln402 test",
    ...overrides,
  };
}

/** The code of the Bolt11Error that `run` throws; fails the test on any other outcome. */
function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(Bolt11Error);
    return (error as Bolt11Error).code;
  }
  throw new Error("expected a Bolt11Error, but nothing was thrown");
}

/** One tagged field: type, 10-bit data_length, data (BOLT #11 §Tagged Fields). */
function field(type: number, data: number[]): number[] {
  return [type, data.length >> 5, data.length & 31, ...data];
}

/** A correctly checksummed and signed invoice with exactly the given tagged fields. */
function rawInvoice(hrp: string, tagged: number[], key = KEY): string {
  const unsigned = [...intToWords(NOW, 7), ...tagged];
  const signature = signDigest(signingDigest(hrp, unsigned), key);
  return bech32.encode(hrp, [...unsigned, ...signature], false);
}

/** Edits an invoice's words and re-checksums it, so only the later checks can refuse it. */
function editWords(invoice: string, edit: (words: number[]) => number[], hrp?: string): string {
  const decoded = bech32.decode(invoice as `${string}1${string}`, false);
  return bech32.encode(hrp ?? decoded.prefix, edit([...decoded.words]), false);
}

const P_FIELD = field(1, bytesToWords(hex.decode(HASH)));
const D_FIELD = field(13, bytesToWords(new TextEncoder().encode("raw")));

describe("decodeInvoice on the BOLT #11 examples", () => {
  it.each(SPEC_VECTORS)(
    "behavior: decodes the example “$title” to its documented fields",
    (vector) => {
      const { descriptionHash, ...expected } = vector.expected;
      const decoded = decodeInvoice(vector.invoice);
      expect(decoded).toEqual({
        ...expected,
        invoice: vector.invoice.toLowerCase(),
        expiresAt: expected.timestamp + expected.expirySecs,
        payeeNodeKey: SPEC_PAYEE,
        descriptionHash:
          descriptionHash === null
            ? null
            : hex.encode(sha256(new TextEncoder().encode(LONG_DESCRIPTION))),
      });
    },
  );

  it.each(SPEC_VECTORS.filter((v) => v.digest !== undefined))(
    "behavior: re-signing “$title” with the spec key reproduces its digest and signature byte for byte",
    (vector) => {
      const { prefix, words } = bech32.decode(vector.invoice as `${string}1${string}`, false);
      const unsigned = words.slice(0, -SIGNATURE_WORDS);
      const digest = signingDigest(prefix, unsigned);
      expect(hex.encode(digest)).toBe(vector.digest);
      const signature = signDigest(digest, SPEC_KEY);
      expect(hex.encode(wordsToBytes(signature, false).subarray(0, 64))).toBe(vector.signature);
      expect(signature).toEqual(words.slice(-SIGNATURE_WORDS));
    },
  );

  it("behavior: reports unknown even feature 100 rather than refusing (refusing to pay is the payer's duty)", () => {
    expect(decodeInvoice(UNKNOWN_EVEN_FEATURE).featureBits).toEqual([9, 15, 99, 100]);
  });

  it.each(SPEC_INVALID)(
    "error: refuses the invalid example “$title” with $code",
    ({ invoice, code }) => {
      expect(codeOf(() => decodeInvoice(invoice))).toBe(code);
    },
  );
});

describe("encodeInvoice then decodeInvoice", () => {
  it.each([
    [1, "lnbcrt10p"],
    [10, "lnbcrt100p"],
    [1_000, "lnbcrt10n"],
    [150_000, "lnbcrt1500n"],
    [2_500_000_000, "lnbcrt25m"],
    [21 * BTC_MSAT, "lnbcrt21"],
    [Number.MAX_SAFE_INTEGER, "lnbcrt90071992547409910p"],
    [null, "lnbcrt"],
  ])(
    "behavior: writes %s msat with the shortest multiplier (%s) and reads it back",
    (amountMsat, hrp) => {
      const invoice = encodeInvoice(fields({ amountMsat }), KEY);
      expect(invoice.slice(0, invoice.lastIndexOf("1"))).toBe(hrp);
      expect(decodeInvoice(invoice)).toEqual({
        invoice,
        network: "regtest",
        amountMsat,
        timestamp: NOW,
        expirySecs: 3600,
        expiresAt: NOW + 3600,
        paymentHash: HASH,
        paymentSecret: SECRET,
        description: "ln402 test",
        descriptionHash: null,
        payeeNodeKey: PAYEE,
        minFinalCltvExpiry: 18,
        featureBits: [8, 14],
      });
    },
  );

  it.each(["ナンセンス 1杯", "⚡ pay per call ☕", "", "x".repeat(639), "é".repeat(319)])(
    "behavior: carries the description %j exactly",
    (description) => {
      expect(decodeInvoice(encodeInvoice(fields({ description }), KEY)).description).toBe(
        description,
      );
    },
  );

  it("behavior: carries a description hash instead of a description", () => {
    const descriptionHash = hex.encode(sha256(new TextEncoder().encode(LONG_DESCRIPTION)));
    const invoice = encodeInvoice(fields({ description: undefined, descriptionHash }), KEY);
    const decoded = decodeInvoice(invoice);
    expect([decoded.description, decoded.descriptionHash]).toEqual([null, descriptionHash]);
  });

  it("behavior: carries expiry, min_final_cltv_expiry and feature bits", () => {
    const invoice = encodeInvoice(
      fields({ expirySecs: 604_800, minFinalCltvExpiry: 144, featureBits: [8, 14, 17, 99] }),
      KEY,
    );
    expect(decodeInvoice(invoice)).toMatchObject({
      expirySecs: 604_800,
      expiresAt: NOW + 604_800,
      minFinalCltvExpiry: 144,
      featureBits: [8, 14, 17, 99],
    });
  });

  it.each([
    ["mainnet", "lnbc"],
    ["testnet", "lntb"],
    ["signet", "lntbs"],
    ["regtest", "lnbcrt"],
  ] as const)("behavior: writes %s invoices with the %s prefix", (network, prefix) => {
    const invoice = encodeInvoice(fields({ network, amountMsat: null }), KEY);
    expect(invoice).toMatch(new RegExp(`^${prefix}1`));
    expect(decodeInvoice(invoice).network).toBe(network);
  });

  it("behavior: an invoice signed with the spec key recovers the spec payee", () => {
    expect(decodeInvoice(encodeInvoice(fields(), SPEC_KEY)).payeeNodeKey).toBe(SPEC_PAYEE);
  });

  it("behavior: encoding is deterministic (RFC 6979 signatures), so the same fields give the same invoice", () => {
    expect(encodeInvoice(fields(), KEY)).toBe(encodeInvoice(fields(), KEY));
  });

  it("behavior: reads upper-case invoices (as in QR codes) and returns the invoice lowercased", () => {
    const invoice = encodeInvoice(fields(), KEY);
    expect(decodeInvoice(invoice.toUpperCase()).invoice).toBe(invoice);
  });
});

describe("encodeInvoice errors", () => {
  it.each([0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])(
    "error: amountMsat %s is amount-out-of-range",
    (amountMsat) => {
      expect(codeOf(() => encodeInvoice(fields({ amountMsat }), KEY))).toBe("amount-out-of-range");
    },
  );

  it.each<[string, Partial<InvoiceFields>]>([
    ["both description and descriptionHash", { descriptionHash: HASH }],
    ["neither description nor descriptionHash", { description: undefined }],
    ["a payment hash that is not 32 bytes of hex", { paymentHash: "ab".repeat(31) }],
    ["a payment secret that is not hex", { paymentSecret: "zz".repeat(32) }],
    ["a description over 639 bytes", { description: "x".repeat(640) }],
    ["feature bits without payment_secret (14/15)", { featureBits: [8] }],
    ["a negative feature bit", { featureBits: [14, -1] }],
    ["a timestamp beyond 35 bits", { timestamp: 2 ** 35 }],
    ["a fractional expiry", { expirySecs: 1.5 }],
    ["a negative min_final_cltv_expiry", { minFinalCltvExpiry: -1 }],
  ])("error: refuses %s with invalid-field", (_, overrides) => {
    expect(codeOf(() => encodeInvoice(fields(overrides), KEY))).toBe("invalid-field");
  });

  it.each([new Uint8Array(32), new Uint8Array(31).fill(1)])(
    "error: refuses a private key that is not a valid secp256k1 scalar",
    (key) => {
      expect(codeOf(() => encodeInvoice(fields(), key))).toBe("invalid-field");
    },
  );
});

describe("interop with the independent bolt11 npm package", () => {
  const tag = (decoded: ReturnType<typeof bolt11.decode>, name: string) =>
    decoded.tags.find((t) => t.tagName === name)?.data;

  it.each(["mainnet", "testnet", "signet", "regtest"] as const)(
    "behavior: bolt11 npm reads our %s invoice to the same fields",
    (network) => {
      const invoice = encodeInvoice(
        fields({ network, amountMsat: 2_500_001, description: "ナンセンス", expirySecs: 60 }),
        KEY,
      );
      const theirs = bolt11.decode(invoice, NPM_NETWORKS[network]);
      expect(theirs.complete).toBe(true);
      expect(theirs.payeeNodeKey).toBe(PAYEE);
      expect(theirs.millisatoshis).toBe("2500001");
      expect(theirs.timestamp).toBe(NOW);
      expect(tag(theirs, "payment_hash")).toBe(HASH);
      expect(tag(theirs, "payment_secret")).toBe(SECRET);
      expect(tag(theirs, "description")).toBe("ナンセンス");
      expect(tag(theirs, "expire_time")).toBe(60);
      expect(tag(theirs, "min_final_cltv_expiry")).toBe(18);
    },
  );

  it("behavior: bolt11 npm reads our no-amount, description-hash invoice, with no `x` for the default expiry", () => {
    const invoice = encodeInvoice(
      fields({ amountMsat: null, description: undefined, descriptionHash: SECRET }),
      KEY,
    );
    const theirs = bolt11.decode(invoice, NPM_NETWORKS.regtest);
    expect(theirs.millisatoshis).toBeNull();
    expect(tag(theirs, "purpose_commit_hash")).toBe(SECRET);
    expect(tag(theirs, "expire_time")).toBeUndefined();
    expect(theirs.payeeNodeKey).toBe(PAYEE);
  });

  it.each([false, true])(
    "behavior: we read an invoice bolt11 npm encoded and signed (with `n`: %s)",
    (withNodeKey) => {
      const unsigned = bolt11.encode({
        network: NPM_NETWORKS.regtest,
        millisatoshis: "123456789",
        timestamp: NOW,
        tags: [
          { tagName: "payment_hash", data: HASH },
          { tagName: "payment_secret", data: SECRET },
          { tagName: "description", data: "from bolt11 npm ⚡" },
          { tagName: "expire_time", data: 900 },
          { tagName: "min_final_cltv_expiry", data: 40 },
          ...(withNodeKey ? [{ tagName: "payee_node_key", data: PAYEE }] : []),
        ],
      });
      const { paymentRequest } = bolt11.sign(unsigned, hex.encode(KEY));
      expect(decodeInvoice(paymentRequest ?? "")).toEqual({
        invoice: paymentRequest,
        network: "regtest",
        amountMsat: 123_456_789,
        timestamp: NOW,
        expirySecs: 900,
        expiresAt: NOW + 900,
        paymentHash: HASH,
        paymentSecret: SECRET,
        description: "from bolt11 npm ⚡",
        descriptionHash: null,
        payeeNodeKey: PAYEE,
        minFinalCltvExpiry: 40,
        featureBits: [9, 15],
      });
    },
  );
});

describe("decodeInvoice errors", () => {
  const invoice = encodeInvoice(fields(), KEY);

  it("error: one mistyped character is bad-checksum", () => {
    const at = invoice.length - 20;
    const typo = invoice.slice(0, at) + (invoice[at] === "q" ? "p" : "q") + invoice.slice(at + 1);
    expect(codeOf(() => decodeInvoice(typo))).toBe("bad-checksum");
  });

  it.each([1, 10, 200])(
    "error: an invoice missing its last %i character(s) is bad-checksum",
    (cut) => {
      expect(codeOf(() => decodeInvoice(invoice.slice(0, -cut)))).toBe("bad-checksum");
    },
  );

  it("error: an unknown prefix (lnxy) under a valid checksum is unknown-network", () => {
    expect(codeOf(() => decodeInvoice(editWords(invoice, (w) => w, "lnxy")))).toBe(
      "unknown-network",
    );
  });

  it("error: mixed case is malformed (BIP-173)", () => {
    const mixed = invoice.slice(0, 10).toUpperCase() + invoice.slice(10);
    expect(codeOf(() => decodeInvoice(mixed))).toBe("malformed");
  });

  it.each([
    ["an empty string", ""],
    ["a word", "hello"],
    ["a bare prefix", "lnbc"],
    ["a bare separator", "1"],
    ["no data after the separator", "lnbc1"],
    ["characters outside the Bech32 set", "lnbc1bbbbbb"],
    ["a leading space", ` ${invoice}`],
    ["a trailing newline", `${invoice}\n`],
    ["non-ASCII", "lnbc1⚡"],
    ["7090 characters", "x".repeat(7090)],
  ])("error: %s is malformed", (_, garbage) => {
    expect(codeOf(() => decodeInvoice(garbage))).toBe("malformed");
  });

  it("error: a flipped signature byte does not verify against the `n` field: bad-signature", () => {
    const withNodeKey = rawInvoice("lnbcrt", [
      ...P_FIELD,
      ...D_FIELD,
      ...field(19, bytesToWords(hex.decode(PAYEE))),
    ]);
    expect(decodeInvoice(withNodeKey).payeeNodeKey).toBe(PAYEE);
    const flipped = editWords(withNodeKey, (w) =>
      w.map((x, i) => (i === w.length - 50 ? x ^ 1 : x)),
    );
    expect(codeOf(() => decodeInvoice(flipped))).toBe("bad-signature");
  });

  it("behavior: without `n`, a flipped signature byte recovers some other payee, so callers must pin the payee", () => {
    const flipped = editWords(invoice, (w) => w.map((x, i) => (i === w.length - 50 ? x ^ 1 : x)));
    expect(decodeInvoice(flipped).payeeNodeKey).not.toBe(PAYEE);
  });

  it("error: an `n` field naming another node is bad-signature", () => {
    const other = secp256k1.getPublicKey(SPEC_KEY, true);
    const lying = rawInvoice("lnbcrt", [...P_FIELD, ...D_FIELD, ...field(19, bytesToWords(other))]);
    expect(codeOf(() => decodeInvoice(lying))).toBe("bad-signature");
  });

  it.each([4, 31])("error: recovery id %i is bad-signature", (recovery) => {
    // The last signature word holds the low 5 bits of the recovery byte (520 = 104 × 5).
    const bad = editWords(invoice, (w) => [...w.slice(0, -1), recovery]);
    expect(codeOf(() => decodeInvoice(bad))).toBe("bad-signature");
  });

  it("error: a zero r is bad-signature", () => {
    const bad = editWords(invoice, (w) => [
      ...w.slice(0, -SIGNATURE_WORDS),
      ...new Array(SIGNATURE_WORDS).fill(0),
    ]);
    expect(codeOf(() => decodeInvoice(bad))).toBe("bad-signature");
  });

  it("error: no `p` field is missing-field", () => {
    expect(codeOf(() => decodeInvoice(rawInvoice("lnbcrt", D_FIELD)))).toBe("missing-field");
  });

  it("error: a `p` field of 51 words is skipped as BOLT #11 requires, leaving missing-field", () => {
    const short = field(1, bytesToWords(hex.decode(HASH)).slice(0, 51));
    expect(codeOf(() => decodeInvoice(rawInvoice("lnbcrt", [...short, ...D_FIELD])))).toBe(
      "missing-field",
    );
  });

  it("behavior: the first usable field of a type wins and wrong-length ones are skipped", () => {
    const other = field(1, bytesToWords(hex.decode(SECRET)));
    const skipped = field(1, new Array(53).fill(0));
    const decoded = decodeInvoice(
      rawInvoice("lnbcrt", [...skipped, ...P_FIELD, ...other, ...D_FIELD]),
    );
    expect(decoded.paymentHash).toBe(HASH);
  });

  it("error: an amount above Number.MAX_SAFE_INTEGER msat is amount-out-of-range", () => {
    expect(codeOf(() => decodeInvoice(rawInvoice("lnbcrt100000", [...P_FIELD, ...D_FIELD])))).toBe(
      "amount-out-of-range",
    );
  });

  it.each([
    ["lnbcrt0", "malformed"],
    ["lnbcrt025m", "malformed"],
    ["lnbcrt1.5m", "malformed"],
    ["lnbcrt25x", "malformed"],
    ["lnbcrtm", "unknown-network"],
  ])("error: the prefix %s is %s", (hrp, code) => {
    expect(codeOf(() => decodeInvoice(rawInvoice(hrp, P_FIELD)))).toBe(code);
  });

  it("error: a tagged field longer than the data left is malformed", () => {
    const cut = [13, 1, 0, 1, 2, 3];
    expect(codeOf(() => decodeInvoice(rawInvoice("lnbcrt", [...P_FIELD, ...cut])))).toBe(
      "malformed",
    );
  });

  it("error: a description that is not UTF-8 is malformed", () => {
    const notUtf8 = field(13, bytesToWords(Uint8Array.of(0xc3, 0x28)));
    expect(codeOf(() => decodeInvoice(rawInvoice("lnbcrt", [...P_FIELD, ...notUtf8])))).toBe(
      "malformed",
    );
  });

  it("behavior (fuzz): random strings, random words under valid checksums and mutated invoices throw only Bolt11Error", () => {
    const random = mulberry32(0x1b011);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l1lnbcQPZ ⚡";
    const inputs: string[] = [];
    for (let i = 0; i < 200; i++) {
      const length = Math.floor(random() * 400);
      inputs.push(Array.from({ length }, () => pick([...alphabet])).join(""));
    }
    for (let i = 0; i < 200; i++) {
      const words = Array.from({ length: Math.floor(random() * 300) }, () =>
        Math.floor(random() * 32),
      );
      inputs.push(
        bech32.encode(pick(["lnbc", "lnbcrt", "lntb2500u", "lnbc10p", "lntbs1"]), words, false),
      );
    }
    for (let i = 0; i < 200; i++) {
      inputs.push(
        editWords(invoice, (w) => {
          const at = Math.floor(random() * w.length);
          return random() < 0.5
            ? w.map((x, j) => (j === at ? Math.floor(random() * 32) : x))
            : w.slice(0, at);
        }),
      );
    }
    let decoded = 0;
    for (const input of inputs) {
      try {
        decodeInvoice(input);
        decoded++;
      } catch (error) {
        expect(error, input).toBeInstanceOf(Bolt11Error);
      }
    }
    // Mutating the signature or skipped fields still decodes: the fuzz reaches past the parser.
    expect(decoded).toBeGreaterThan(0);
  });
});

describe("readInvoice", () => {
  it("behavior: reads the same fields as decodeInvoice, without recovering the payee", () => {
    const key = secp256k1.utils.randomSecretKey();
    const invoice = encodeInvoice(
      {
        network: "regtest",
        amountMsat: 21_000,
        timestamp: 1_700_000_000,
        paymentHash: "11".repeat(32),
        paymentSecret: "22".repeat(32),
        description: "read only",
      },
      key,
    );
    const { payeeNodeKey: _payee, ...fields } = decodeInvoice(invoice);
    expect(readInvoice(invoice)).toEqual(fields);
  });

  it("error: still refuses a bad checksum", () => {
    const invoice = encodeInvoice(
      {
        network: "regtest",
        amountMsat: 1_000,
        timestamp: 1_700_000_000,
        paymentHash: "11".repeat(32),
        paymentSecret: "22".repeat(32),
        description: "",
      },
      secp256k1.utils.randomSecretKey(),
    );
    const typo = `${invoice.slice(0, 20)}${invoice[20] === "q" ? "p" : "q"}${invoice.slice(21)}`;
    expect(() => readInvoice(typo)).toThrow(Bolt11Error);
  });
});

describe("decodeInvoice cache", () => {
  it("behavior: the same invoice string is signature-checked once; a caller's changes never reach the cache", () => {
    // A description no other test uses: this string was never decoded before.
    const invoice = encodeInvoice(fields({ amountMsat: 21_000, description: "cache test" }), KEY);
    const before = signatureCheckCount();
    const first = decodeInvoice(invoice);
    first.amountMsat = 1;
    first.featureBits.push(99);
    const second = decodeInvoice(invoice);
    expect(signatureCheckCount() - before).toBe(1);
    expect(second.amountMsat).toBe(21_000);
    expect(second.featureBits).not.toContain(99);
    expect(() => decodeInvoice(`${invoice.slice(0, -1)}q`)).toThrow(Bolt11Error);
  });
});
