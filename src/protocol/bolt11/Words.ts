/**
 * 5-bit words, the unit of the BOLT #11 data part: conversions to bytes, integers and
 * feature vectors. Out-of-range values are reported as `null`/thrown by the callers that
 * know which field they came from.
 */
import { bech32 } from "@scure/base";

/** Largest `data_length` a tagged field can state: it is 10 bits (BOLT #11 §Tagged Fields). */
export const MAX_FIELD_WORDS = 1023;

/** Bytes to words, zero-padding the last word (BOLT #11 §Tagged Fields: "pad field data … using 0s"). */
export function bytesToWords(bytes: Uint8Array): number[] {
  return bech32.toWords(bytes);
}

/**
 * Words to bytes. `pad` appends zero bits up to a byte boundary, as the signing data
 * needs (BOLT #11 §Data Part); without it, trailing bits short of a byte are dropped,
 * which is how field data is read (e.g. 52 words = 32 bytes + 4 padding bits).
 */
export function wordsToBytes(words: readonly number[], pad: boolean): Uint8Array {
  const out = new Uint8Array(Math.ceil((words.length * 5) / 8));
  let length = 0;
  let acc = 0;
  let bits = 0;
  for (const word of words) {
    // acc never needs more than 12 bits: at most 7 left over plus the 5 just read.
    acc = ((acc << 5) | word) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[length++] = (acc >> bits) & 0xff;
    }
  }
  if (pad && bits > 0) out[length++] = (acc << (8 - bits)) & 0xff;
  return out.subarray(0, length);
}

/** Big-endian words to an integer, or `null` when it exceeds `Number.MAX_SAFE_INTEGER`. */
export function wordsToInt(words: readonly number[]): number | null {
  let value = 0;
  for (const word of words) {
    value = value * 32 + word;
    if (value > Number.MAX_SAFE_INTEGER) return null;
  }
  return value;
}

/**
 * A non-negative safe integer as big-endian words: exactly `length` words when given,
 * else the fewest that hold it (at least one), as `x` and `c` SHOULD use.
 */
export function intToWords(value: number, length?: number): number[] {
  const words: number[] = [];
  let rest = value;
  do {
    words.unshift(rest % 32);
    rest = Math.floor(rest / 32);
  } while (rest > 0);
  if (length === undefined) return words;
  if (words.length > length) throw new RangeError(`${value} does not fit in ${length} words`);
  while (words.length < length) words.unshift(0);
  return words;
}

/** The set bits of a `9` field, ascending; bit 0 is the last bit of the last word (BOLT #11 §Feature Bits). */
export function wordsToFeatureBits(words: readonly number[]): number[] {
  const bits: number[] = [];
  for (let i = words.length - 1; i >= 0; i--) {
    const word = words[i] ?? 0;
    const base = (words.length - 1 - i) * 5;
    for (let bit = 0; bit < 5; bit++) {
      if (word & (1 << bit)) bits.push(base + bit);
    }
  }
  return bits;
}

/** A feature vector as the fewest words that hold its highest bit. */
export function featureBitsToWords(bits: readonly number[]): number[] {
  const highest = Math.max(-1, ...bits);
  const words = new Array<number>(Math.floor(highest / 5) + 1).fill(0);
  for (const bit of bits) {
    const index = words.length - 1 - Math.floor(bit / 5);
    words[index] = (words[index] ?? 0) | (1 << (bit % 5));
  }
  return words;
}
