/**
 * BOLT #11 Lightning invoices: decode-and-verify, and encode-and-sign. Pure: no clock
 * (the timestamp is passed in), no network, no Node-only APIs.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bech32, hex } from "@scure/base";
import { Bolt11Error } from "./Bolt11Error.ts";
import type { Bolt11Network } from "./Hrp.ts";
import { formatHrp, parseHrp } from "./Hrp.ts";
import { SIGNATURE_WORDS, signDigest, signingDigest, verifyPayee } from "./Signature.ts";
import { pushField, readFields, TAG } from "./TaggedFields.ts";
import {
  bytesToWords,
  featureBitsToWords,
  intToWords,
  MAX_FIELD_WORDS,
  wordsToInt,
} from "./Words.ts";

export type { Bolt11ErrorCode } from "./Bolt11Error.ts";
export type { Bolt11Network } from "./Hrp.ts";
export { Bolt11Error };

/** A decoded invoice whose checksum and signature have been verified. */
export type DecodedInvoice = {
  /** The input, lowercased. */
  invoice: string;
  network: Bolt11Network;
  /** `null` for a no-amount invoice. */
  amountMsat: number | null;
  /** Unix seconds. */
  timestamp: number;
  /** `x`, default 3600. */
  expirySecs: number;
  /** `timestamp + expirySecs`, unix seconds. */
  expiresAt: number;
  /** `p`, 64 lowercase hex. */
  paymentHash: string;
  /** `s`, 64 lowercase hex; `null` in legacy invoices. */
  paymentSecret: string | null;
  /** `d`. */
  description: string | null;
  /** `h`, 64 lowercase hex. The caller must check it against the description it was given. */
  descriptionHash: string | null;
  /** 66 hex: the `n` field when present (the signature verified against it), else recovered. */
  payeeNodeKey: string;
  /** `c`, default 18. */
  minFinalCltvExpiry: number;
  /** Set bit indices of the `9` field, ascending. */
  featureBits: number[];
};

/** What `encodeInvoice` writes; the payee is whoever holds the signing key. */
export type InvoiceFields = {
  network: Bolt11Network;
  /** `null` for a no-amount invoice. */
  amountMsat: number | null;
  /** Unix seconds, passed in: this module reads no clock. */
  timestamp: number;
  /** 64 hex. */
  paymentHash: string;
  /** 64 hex. */
  paymentSecret: string;
  /** Exactly one of `description` and `descriptionHash`. */
  description?: string;
  /** 64 hex: SHA-256 of a description too long (over 639 bytes) or too private to inline. */
  descriptionHash?: string;
  /** Written as `x` only when not the default 3600. */
  expirySecs?: number;
  /** Written as `c`; default 18. */
  minFinalCltvExpiry?: number;
  /** Default [8, 14]: var_onion_optin and payment_secret, both required. */
  featureBits?: number[];
};

/** The most alphanumeric characters a QR code holds; nothing longer is a usable invoice. */
const MAX_INVOICE_LENGTH = 7089;
/** 35-bit timestamp (BOLT #11 §Data Part). */
const TIMESTAMP_WORDS = 7;
/** floor(1023 words × 5 bits / 8) (BOLT #11 §Tagged Fields, `h`). */
const MAX_DESCRIPTION_BYTES = 639;
const DEFAULT_EXPIRY_SECS = 3600;
const DEFAULT_MIN_FINAL_CLTV_EXPIRY = 18;
const DEFAULT_FEATURE_BITS: readonly number[] = [8, 14];
/** Feature bits 14/15, `payment_secret`: set if and only if there is an `s` field (BOLT #11 §Feature Bits). */
const PAYMENT_SECRET_BITS: readonly number[] = [14, 15];

/** Signature checks (ECDSA verify or recovery, ~1 ms each) run so far; for benchmarks. */
let signatureChecks = 0;

/** How many invoice signatures this process has checked (a benchmark counter, never reset). */
export function signatureCheckCount(): number {
  return signatureChecks;
}

/** Invoices decoded recently, by their exact string; the oldest is dropped past the bound. */
const decoded = new Map<string, Readonly<DecodedInvoice>>();
const MAX_CACHED = 1_024;

/**
 * Decodes and verifies a BOLT11 invoice; throws Bolt11Error. A string already verified is
 * answered from a bounded cache: the same characters decode to the same fields and
 * signature, so one round trip (mint, check before paying, verify the proof) recovers the
 * payee once per process instead of three times. Every check on the fields (amount,
 * hash, network, expiry against a clock) stays with the caller and runs each time.
 */
export function decodeInvoice(invoice: string): DecodedInvoice {
  const known = decoded.get(invoice);
  if (known) return { ...known, featureBits: [...known.featureBits] };
  const { fields, signed } = parse(invoice);
  signatureChecks += 1;
  const payeeNodeKey = verifyPayee(
    signingDigest(signed.hrp, signed.unsigned),
    signed.signature,
    signed.nodeKey,
  );
  const result = { ...fields, payeeNodeKey };
  if (decoded.size >= MAX_CACHED) decoded.delete(decoded.keys().next().value ?? "");
  decoded.set(invoice, Object.freeze({ ...result, featureBits: [...result.featureBits] }));
  return result;
}

/**
 * Reads an invoice's fields (checksum included) WITHOUT verifying its signature, so
 * the payee is unknown. Only for an invoice that is then matched, string for string,
 * against invoices one issued and verified earlier (ln402's invoice book): the match
 * is the proof, and skipping the ECDSA recovery keeps hot paths cheap.
 */
export function readInvoice(invoice: string): Omit<DecodedInvoice, "payeeNodeKey"> {
  return parse(invoice).fields;
}

function parse(invoice: string) {
  const { hrp, words } = readBech32(invoice);
  const { network, amountMsat } = parseHrp(hrp);
  if (words.length < TIMESTAMP_WORDS + SIGNATURE_WORDS) {
    throw new Bolt11Error("malformed", "Invoice is too short to hold a timestamp and a signature.");
  }
  const unsigned = words.slice(0, -SIGNATURE_WORDS);
  // 35 bits always fit in a safe integer.
  const timestamp = wordsToInt(unsigned.slice(0, TIMESTAMP_WORDS)) ?? 0;
  const fields = readFields(unsigned.slice(TIMESTAMP_WORDS));
  if (fields.paymentHash === null) {
    throw new Bolt11Error("missing-field", "Invoice has no 256-bit `p` (payment hash) field.");
  }
  const expirySecs = fields.expirySecs ?? DEFAULT_EXPIRY_SECS;
  const expiresAt = timestamp + expirySecs;
  if (!Number.isSafeInteger(expiresAt)) {
    throw new Bolt11Error("malformed", `Invoice expiry ${expirySecs}s is out of range.`);
  }
  return {
    signed: { hrp, unsigned, signature: words.slice(-SIGNATURE_WORDS), nodeKey: fields.nodeKey },
    fields: {
      invoice: invoice.toLowerCase(),
      network,
      amountMsat,
      timestamp,
      expirySecs,
      expiresAt,
      paymentHash: fields.paymentHash,
      paymentSecret: fields.paymentSecret,
      description: fields.description,
      descriptionHash: fields.descriptionHash,
      minFinalCltvExpiry: fields.minFinalCltvExpiry ?? DEFAULT_MIN_FINAL_CLTV_EXPIRY,
      featureBits: fields.featureBits ?? [],
    },
  };
}

/** Encodes and signs an invoice with the node's 32-byte private key. */
export function encodeInvoice(fields: InvoiceFields, nodePrivateKey: Uint8Array): string {
  const hrp = formatHrp(fields.network, fields.amountMsat);
  if (
    !Number.isSafeInteger(fields.timestamp) ||
    fields.timestamp < 0 ||
    fields.timestamp >= 2 ** 35
  ) {
    throw new Bolt11Error(
      "invalid-field",
      `timestamp must be unix seconds below 2^35; got ${fields.timestamp}.`,
    );
  }
  const words = intToWords(fields.timestamp, TIMESTAMP_WORDS);
  pushField(words, TAG.p, bytesToWords(hashBytes(fields.paymentHash, "paymentHash")));
  pushField(words, TAG.s, bytesToWords(hashBytes(fields.paymentSecret, "paymentSecret")));
  if ((fields.description === undefined) === (fields.descriptionHash === undefined)) {
    throw new Bolt11Error("invalid-field", "Give exactly one of description and descriptionHash.");
  }
  if (fields.description !== undefined) {
    const bytes = new TextEncoder().encode(fields.description);
    // 639 bytes is the most a 1023-word field holds; longer ones are what `h` is for.
    if (bytes.length > MAX_DESCRIPTION_BYTES) {
      throw new Bolt11Error(
        "invalid-field",
        `description is ${bytes.length} UTF-8 bytes; the most is ${MAX_DESCRIPTION_BYTES}: send descriptionHash instead.`,
      );
    }
    pushField(words, TAG.d, bytesToWords(bytes));
  } else if (fields.descriptionHash !== undefined) {
    pushField(words, TAG.h, bytesToWords(hashBytes(fields.descriptionHash, "descriptionHash")));
  }
  const expirySecs = count(fields.expirySecs ?? DEFAULT_EXPIRY_SECS, "expirySecs");
  if (expirySecs !== DEFAULT_EXPIRY_SECS) pushField(words, TAG.x, intToWords(expirySecs));
  // BOLT #11 §Tagged Fields: a writer MUST include one `c` field.
  const cltv = count(
    fields.minFinalCltvExpiry ?? DEFAULT_MIN_FINAL_CLTV_EXPIRY,
    "minFinalCltvExpiry",
  );
  pushField(words, TAG.c, intToWords(cltv));
  pushField(words, TAG.features, featureBitsToWords(featureBits(fields.featureBits)));
  if (
    !(nodePrivateKey instanceof Uint8Array) ||
    !secp256k1.utils.isValidSecretKey(nodePrivateKey)
  ) {
    throw new Bolt11Error("invalid-field", "nodePrivateKey must be a valid 32-byte secp256k1 key.");
  }
  const signature = signDigest(signingDigest(hrp, words), nodePrivateKey);
  return bech32.encode(hrp, [...words, ...signature], false);
}

/** Checks the Bech32 form (BIP-173, without its 90-character limit) and the checksum. */
function readBech32(invoice: string): { hrp: string; words: number[] } {
  if (typeof invoice !== "string" || invoice.length > MAX_INVOICE_LENGTH) {
    throw new Bolt11Error(
      "malformed",
      `An invoice is a string of at most ${MAX_INVOICE_LENGTH} characters.`,
    );
  }
  if (!/^[\x21-\x7e]*$/.test(invoice)) {
    throw new Bolt11Error("malformed", "Invoice has characters outside printable ASCII.");
  }
  const lowered = invoice.toLowerCase();
  if (invoice !== lowered && invoice !== invoice.toUpperCase()) {
    throw new Bolt11Error("malformed", "Invoice mixes upper and lower case; send it in one case.");
  }
  // The separator is the last "1": the human-readable part may itself contain digits.
  const separator = lowered.lastIndexOf("1");
  const data = lowered.slice(separator + 1);
  if (separator < 1 || data.length < 6 || !/^[qpzry9x8gf2tvdw0s3jn54khce6mua7l]*$/.test(data)) {
    throw new Bolt11Error(
      "malformed",
      "Invoice is not Bech32: expected <prefix>1<data><checksum>.",
    );
  }
  // Every other Bech32 rule was checked above, so a refusal here is the checksum.
  const decoded = bech32.decodeUnsafe(lowered, false);
  if (!decoded) {
    throw new Bolt11Error(
      "bad-checksum",
      "Invoice checksum does not match: it was mistyped or cut.",
    );
  }
  return { hrp: decoded.prefix, words: decoded.words };
}

function hashBytes(value: string, name: string): Uint8Array {
  if (typeof value !== "string" || !/^[0-9a-fA-F]{64}$/.test(value)) {
    throw new Bolt11Error("invalid-field", `${name} must be 64 hex characters (32 bytes).`);
  }
  return hex.decode(value.toLowerCase());
}

function count(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Bolt11Error("invalid-field", `${name} must be a non-negative integer; got ${value}.`);
  }
  return value;
}

/** Validates the feature bits to write; `payment_secret` must be among them since we always write `s`. */
function featureBits(bits: readonly number[] = DEFAULT_FEATURE_BITS): number[] {
  const unique = [...new Set(bits)];
  if (unique.some((bit) => !Number.isSafeInteger(bit) || bit < 0 || bit >= MAX_FIELD_WORDS * 5)) {
    throw new Bolt11Error(
      "invalid-field",
      `featureBits must be integers from 0 to ${MAX_FIELD_WORDS * 5 - 1}.`,
    );
  }
  if (!unique.some((bit) => PAYMENT_SECRET_BITS.includes(bit))) {
    throw new Bolt11Error(
      "invalid-field",
      "featureBits must include 14 or 15 (payment_secret): the invoice always carries `s`.",
    );
  }
  return unique;
}
