/**
 * The invoice signature (BOLT #11 §Data Part): a recoverable secp256k1 ECDSA signature,
 * 64 bytes r‖s then one recovery-id byte, over the SHA-256 of the signing data.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { Bolt11Error } from "./Bolt11Error.ts";
import { bytesToWords, wordsToBytes } from "./Words.ts";

/** 520 bits: r (256) ‖ s (256) ‖ recovery id (8), exactly 104 words. */
export const SIGNATURE_WORDS = 104;

/**
 * SHA-256 of the human-readable part's UTF-8 bytes followed by the data part before the
 * signature, zero-padded to a whole byte (BOLT #11 §Data Part, writer requirements).
 */
export function signingDigest(hrp: string, unsignedWords: readonly number[]): Uint8Array {
  const prefix = new TextEncoder().encode(hrp);
  const data = wordsToBytes(unsignedWords, true);
  const preimage = new Uint8Array(prefix.length + data.length);
  preimage.set(prefix);
  preimage.set(data, prefix.length);
  return sha256(preimage);
}

/** Signs a digest with low-S (so the invoice is not malleable) and returns the 104 signature words. */
export function signDigest(digest: Uint8Array, nodePrivateKey: Uint8Array): number[] {
  // noble's "recovered" format puts the recovery id first; BOLT #11 wants it last.
  const recovered = secp256k1.sign(digest, nodePrivateKey, {
    prehash: false,
    lowS: true,
    format: "recovered",
  });
  const signature = new Uint8Array(65);
  signature.set(recovered.subarray(1));
  signature[64] = recovered[0] ?? 0;
  return bytesToWords(signature);
}

/**
 * The payee's 33-byte compressed key, as hex. With a valid `n` field the signature must
 * verify against it; otherwise the key is recovered from the signature (BOLT #11 §Tagged
 * Fields, reader: "MUST use the `n` field to validate the signature instead of performing
 * signature recovery"). High-S signatures are accepted: the spec asks only for a valid one.
 */
export function verifyPayee(
  digest: Uint8Array,
  signatureWords: readonly number[],
  nodeKey: Uint8Array | null,
): string {
  const signature = wordsToBytes(signatureWords, false);
  const compact = signature.subarray(0, 64);
  const recovery = signature[64] ?? 0xff;
  if (signature.length !== 65 || recovery > 3) {
    throw new Bolt11Error("bad-signature", `Invoice signature recovery id ${recovery} is not 0-3.`);
  }
  if (nodeKey !== null) {
    const ok = secp256k1.verify(compact, digest, nodeKey, { prehash: false, lowS: false });
    if (!ok) {
      throw new Bolt11Error(
        "bad-signature",
        "Invoice signature does not verify against the payee key in its `n` field.",
      );
    }
    return hex.encode(nodeKey);
  }
  try {
    const point = secp256k1.Signature.fromBytes(compact, "compact")
      .addRecoveryBit(recovery)
      .recoverPublicKey(digest);
    return hex.encode(point.toBytes(true));
  } catch {
    throw new Bolt11Error(
      "bad-signature",
      "No public key can be recovered from the invoice signature.",
    );
  }
}
