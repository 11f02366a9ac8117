/**
 * A second, stricter look at an invoice's tagged fields, for protocols that need more
 * than the tolerant reader of BOLT #11 §Tagged Fields gives (it keeps the first field of
 * each type and skips odd lengths). x402 lnbtc asks for "exactly one description hash
 * and no inline description" and a strict decode (scheme_exact_lnbtc §Facilitator
 * Validation, step 5), so it counts every `d` and `h` and checks padding bits.
 */
import { bech32 } from "@scure/base";
import { TAG } from "./TaggedFields.ts";

/** What a strict reader must know beyond the decoded fields. */
export type TagCensus = {
  /** Every `d` field, whatever its length. */
  descriptions: number;
  /** Every `h` field, whatever its length. */
  descriptionHashes: number;
  /** Whether the pad bits of every `p`, `s`, `h` and `n` are zero (a canonical encoding). */
  paddingClean: boolean;
};

/** 35-bit timestamp and 520-bit signature, in 5-bit words (BOLT #11 §Data Part). */
const TIMESTAMP_WORDS = 7;
const SIGNATURE_WORDS = 104;
/** 52 words hold 260 bits: 256 plus 4 pad bits; 53 words hold 264 plus 1. */
const PAD_MASK: Readonly<Record<number, { words: number; mask: number }>> = {
  [TAG.p]: { words: 52, mask: 0b1111 },
  [TAG.s]: { words: 52, mask: 0b1111 },
  [TAG.h]: { words: 52, mask: 0b1111 },
  [TAG.n]: { words: 53, mask: 0b1 },
};

/**
 * Counts the description fields and checks pad bits of an invoice that `decodeInvoice`
 * has accepted already (so its Bech32 form and checksum are known good).
 */
export function tagCensus(invoice: string): TagCensus {
  const { words } = bech32.decode(invoice.toLowerCase() as `${string}1${string}`, false);
  const end = words.length - SIGNATURE_WORDS;
  const census: TagCensus = { descriptions: 0, descriptionHashes: 0, paddingClean: true };
  let at = TIMESTAMP_WORDS;
  while (at + 3 <= end) {
    const type = words[at] ?? 0;
    const length = (words[at + 1] ?? 0) * 32 + (words[at + 2] ?? 0);
    if (type === TAG.d) census.descriptions += 1;
    if (type === TAG.h) census.descriptionHashes += 1;
    const pad = PAD_MASK[type];
    const last = words[at + 2 + length] ?? 0;
    if (pad !== undefined && length === pad.words && (last & pad.mask) !== 0) {
      census.paddingClean = false;
    }
    at += 3 + length;
  }
  return census;
}
