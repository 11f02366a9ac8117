import type { Store } from "../store/Store.ts";
import type { Capabilities } from "./merchant/registration.ts";
import { apiKeyMatches } from "./secrets.ts";

/**
 * The merchant registry and the global invoice index, in the Store. No secret is here:
 * the API key only as its SHA-256, and the NWC string stays sealed in the merchant's
 * Durable Object.
 */

/** A registered merchant as the registry keeps it. Times are unix seconds. */
export type MerchantRecord = {
  merchantId: string;
  apiKeyHash: string;
  network: string;
  walletPubkey: string;
  capabilities: Capabilities;
  createdAt: number;
  updatedAt: number;
};

const merchantKey = (id: string) => `merchant:${id}`;
const invoiceKey = (paymentHash: string) => `invoice:${paymentHash}`;

/** The record and its raw stored form (for compare-and-swap updates), or null. */
export async function getMerchant(
  store: Store,
  merchantId: string,
): Promise<{ record: MerchantRecord; raw: string } | null> {
  const raw = await store.get(merchantKey(merchantId));
  if (raw === null) return null;
  const value: unknown = JSON.parse(raw);
  if (!isMerchantRecord(value)) throw new Error("corrupt merchant record");
  return { record: value, raw };
}

/** Creates a record; false if the id is taken. */
export function createMerchant(store: Store, record: MerchantRecord): Promise<boolean> {
  return store.putIfAbsent(merchantKey(record.merchantId), JSON.stringify(record));
}

/** Replaces a record only if nobody changed it since `raw` was read. */
export function updateMerchant(store: Store, raw: string, next: MerchantRecord): Promise<boolean> {
  return store.compareAndSwap(merchantKey(next.merchantId), raw, JSON.stringify(next));
}

/** Deletes a record. */
export function deleteMerchant(store: Store, merchantId: string): Promise<boolean> {
  return store.delete(merchantKey(merchantId));
}

/** The merchant whose record matches `apiKey`, or null (missing merchant and wrong key look the same). */
export async function authenticate(
  store: Store,
  merchantId: string,
  apiKey: string | null,
): Promise<{ record: MerchantRecord; raw: string } | null> {
  if (apiKey === null) return null;
  const found = await getMerchant(store, merchantId);
  if (!found || !apiKeyMatches(apiKey, found.record.apiKeyHash)) return null;
  return found;
}

/** Indexes paymentHash → merchantId until well after the invoice expired. */
export function indexInvoice(
  store: Store,
  paymentHash: string,
  merchantId: string,
  ttlSecs: number,
): Promise<void> {
  return store.put(invoiceKey(paymentHash), merchantId, { ttlSecs });
}

/** The merchant that issued the invoice with this hash, or null. */
export function merchantForInvoice(store: Store, paymentHash: string): Promise<string | null> {
  return store.get(invoiceKey(paymentHash));
}

function isMerchantRecord(value: unknown): value is MerchantRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.merchantId === "string" &&
    typeof r.apiKeyHash === "string" &&
    typeof r.network === "string" &&
    typeof r.walletPubkey === "string" &&
    typeof r.capabilities === "object" &&
    r.capabilities !== null &&
    typeof r.createdAt === "number" &&
    typeof r.updatedAt === "number"
  );
}

/**
 * Registered merchants seen recently by this isolate (id → unix ms until which the
 * answer is reused). The check keeps made-up merchantIds from instantiating Durable
 * Objects; a merchant deleted meanwhile is still refused by its own object, which is
 * authoritative, so a stale positive answer costs nothing.
 */
const knownMerchants = new Map<string, number>();
const KNOWN_TTL_MS = 60_000;
const KNOWN_MAX = 10_000;

export async function merchantExists(store: Store, merchantId: string): Promise<boolean> {
  const now = Date.now();
  if ((knownMerchants.get(merchantId) ?? 0) > now) return true;
  if (!(await getMerchant(store, merchantId))) return false;
  if (knownMerchants.size >= KNOWN_MAX) knownMerchants.clear();
  knownMerchants.set(merchantId, now + KNOWN_TTL_MS);
  return true;
}
