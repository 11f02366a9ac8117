import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

/** The payment hash a preimage (hex) commits to: sha256 of its bytes, hex. */
export function paymentHashOf(preimageHex: string): string {
  return bytesToHex(sha256(hexToBytes(preimageHex)));
}

/**
 * Whether `preimageHex` is the proof of payment for `paymentHash`: only the payee and,
 * once paid, the payer know it (BOLT #11 `p`). False for anything not 64 hex chars.
 */
export function proves(preimageHex: string, paymentHash: string): boolean {
  return (
    /^[0-9a-fA-F]{64}$/.test(preimageHex) &&
    paymentHashOf(preimageHex) === paymentHash.toLowerCase()
  );
}
