/**
 * The tagged fields of the data part (BOLT #11 §Tagged Fields): reading the ones we use,
 * skipping the rest, and writing new ones.
 */
import { hex } from "@scure/base";
import { Bolt11Error } from "./Bolt11Error.ts";
import { MAX_FIELD_WORDS, wordsToBytes, wordsToFeatureBits, wordsToInt } from "./Words.ts";

/** Tagged-field types we read or write (BOLT #11 §Tagged Fields); `features` is the `9` field. */
export const TAG = { p: 1, features: 5, x: 6, d: 13, s: 16, n: 19, h: 23, c: 24 } as const;
/** 256 bits in 5-bit words, the `data_length` of `p`, `s` and `h`. */
const HASH_WORDS = 52;
/** 264 bits (a compressed key) in 5-bit words, the `data_length` of `n`. */
const NODE_KEY_WORDS = 53;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The tagged fields we use, each the first one of its type that is not skipped. */
export type Fields = {
  paymentHash: string | null;
  paymentSecret: string | null;
  description: string | null;
  descriptionHash: string | null;
  nodeKey: Uint8Array | null;
  expirySecs: number | null;
  minFinalCltvExpiry: number | null;
  featureBits: number[] | null;
};

/** Walks the tagged fields: `type` (5 bits), `data_length` (10 bits), data (BOLT #11 §Tagged Fields). */
export function readFields(words: readonly number[]): Fields {
  const fields: Fields = {
    paymentHash: null,
    paymentSecret: null,
    description: null,
    descriptionHash: null,
    nodeKey: null,
    expirySecs: null,
    minFinalCltvExpiry: null,
    featureBits: null,
  };
  let at = 0;
  while (at < words.length) {
    const type = words[at] ?? 0;
    const length = (words[at + 1] ?? 0) * 32 + (words[at + 2] ?? 0);
    const data = words.slice(at + 3, at + 3 + length);
    if (at + 3 > words.length || data.length !== length) {
      throw new Bolt11Error("malformed", `Invoice tagged field of type ${type} is cut short.`);
    }
    at += 3 + length;
    readField(fields, type, data);
  }
  return fields;
}

/**
 * Reads one field into `fields`, keeping the first of each type (writers list the
 * most-preferred first). Per the reader rules of BOLT #11 §Tagged Fields, `p`, `h`, `s`
 * and `n` with a `data_length` other than 52, 52, 52 and 53 are skipped, not refused, so
 * that a future variant of another length is ignored by old readers; unknown types
 * (and `f`, `r`, `t`, which we do not use) are skipped too.
 */
function readField(fields: Fields, type: number, data: number[]): void {
  switch (type) {
    case TAG.p:
      if (data.length === HASH_WORDS) fields.paymentHash ??= hex.encode(wordsToBytes(data, false));
      return;
    case TAG.s:
      if (data.length === HASH_WORDS)
        fields.paymentSecret ??= hex.encode(wordsToBytes(data, false));
      return;
    case TAG.h:
      if (data.length === HASH_WORDS)
        fields.descriptionHash ??= hex.encode(wordsToBytes(data, false));
      return;
    case TAG.n:
      if (data.length === NODE_KEY_WORDS) fields.nodeKey ??= wordsToBytes(data, false);
      return;
    case TAG.d:
      fields.description ??= readUtf8(data);
      return;
    case TAG.x:
      fields.expirySecs ??= readInt(data, "x (expiry)");
      return;
    case TAG.c:
      fields.minFinalCltvExpiry ??= readInt(data, "c (min_final_cltv_expiry)");
      return;
    case TAG.features:
      // Failing on unknown even bits is the payer's duty (BOLT #11 §Feature Bits); we report them.
      fields.featureBits ??= wordsToFeatureBits(data);
      return;
  }
}

function readUtf8(data: number[]): string {
  try {
    return utf8.decode(wordsToBytes(data, false));
  } catch {
    throw new Bolt11Error("malformed", "Invoice `d` (description) field is not valid UTF-8.");
  }
}

function readInt(data: number[], name: string): number {
  const value = wordsToInt(data);
  if (value === null) throw new Bolt11Error("malformed", `Invoice \`${name}\` field is too large.`);
  return value;
}

/** Appends a tagged field, refusing data longer than a 10-bit `data_length` can state. */
export function pushField(words: number[], type: number, data: number[]): void {
  if (data.length > MAX_FIELD_WORDS) {
    throw new Bolt11Error(
      "invalid-field",
      `A tagged field of type ${type} would be ${data.length} words; the most is ${MAX_FIELD_WORDS}.`,
    );
  }
  words.push(type, data.length >> 5, data.length & 31, ...data);
}
