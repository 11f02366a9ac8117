/** Shared test fixtures: a seeded PRNG for fuzz tests and NIP-47 wire samples. */

/** A small seeded PRNG (mulberry32), so fuzz inputs are the same on every run. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A payment hash and its preimage-shaped companion used by the NIP-47 samples. */
export const SAMPLE_HASH = "ab".repeat(32);
export const SAMPLE_PREIMAGE = "cd".repeat(32);

/** A lookup_invoice result as a wallet sends it (devnet and Alby shapes). */
export const WIRE_TX = {
  type: "incoming",
  state: "settled",
  invoice: "lnbcrt210n1…",
  description: "coffee",
  description_hash: "",
  preimage: SAMPLE_PREIMAGE,
  payment_hash: SAMPLE_HASH,
  amount: 21_000,
  fees_paid: 0,
  created_at: 1_750_000_000,
  expires_at: 1_750_003_600,
  settled_at: 1_750_000_100,
  metadata: {},
};
