/**
 * Every Store key of the MPP methods, built in one place. Keys are scoped to the server
 * that issued the challenge (its realm and `serverId`), so servers sharing a Store can
 * never see each other's sessions or consumed payments.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** The scope of one server: a short digest of its realm and id ("" for an unbound method). */
export function scopeOf(realm: string, serverId: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(`${realm}\n${serverId}`))).slice(0, 32);
}

/** Key builders of one scope. */
export type Keys = ReturnType<typeof keysOf>;

/** The key builders of `scope`. */
export function keysOf(scope: string) {
  const base = scope ? `mpp:${scope}:` : "mpp:";
  return {
    scope,
    /** A session's state. */
    session: (sessionId: string) => `${base}session:${sessionId}`,
    /** Marks a payment hash consumed (charge, deposit and top-up alike). */
    consumed: (paymentHash: string) => `${base}consumed:${paymentHash}`,
    /** A session's refund record (written before the refund is paid). */
    refund: (sessionId: string) => `${base}refund:${sessionId}`,
    /** The index of sessions that may still need an idle close or a refund. */
    active: `${base}sessions:active`,
    /** A management answer given for a challenge and payload. */
    answer: (challengeId: string, payloadHash: string) =>
      `${base}session:answer:${challengeId}:${payloadHash}`,
    /** A stored answer for an Idempotency-Key. */
    idempotency: (keyHash: string) => `${base}idempotency:${keyHash}`,
  };
}
