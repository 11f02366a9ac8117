import { isRecord } from "../protocol/Schema.ts";
import type { Store } from "../store/Store.ts";
import { update } from "../store/update.ts";
import { apiKeyMatches } from "./secrets.ts";

/**
 * The merchant registry and the global invoice index, in the Store: only what routing
 * and authentication need. No secret is here (the API key only as its SHA-256; the NWC
 * string stays sealed in the merchant's Durable Object), and no wallet fact either: the
 * merchant's object owns those. Every key is built in this module.
 */

/** What a merchant may turn on or off. */
export type MerchantSettings = {
  /**
   * `POST /invoice` without the API key. Off by default: unauthenticated minting lets
   * any stranger spend the merchant's invoice quota and its wallet's time.
   */
  publicInvoices: boolean;
  /**
   * The merchant declares that no one else can issue invoices under its wallet's node key
   * (its own node, not a custodial wallet): x402 lnbtc settles then take the preimage as
   * proof without confirming receipt with the wallet (scheme_exact_lnbtc §Receiver Key
   * Isolation, option 1). Off by default.
   */
  exclusiveNodeKey: boolean;
};

/** A registered merchant as the registry keeps it. Times are unix seconds. */
export type MerchantRecord = {
  merchantId: string;
  apiKeyHash: string;
  settings: MerchantSettings;
  createdAt: number;
  updatedAt: number;
};

const merchantKey = (id: string) => `merchant:${id}`;
const invoiceKey = (paymentHash: string) => `invoice:${paymentHash}`;

/** The record, or null. */
export async function getMerchant(
  store: Store,
  merchantId: string,
): Promise<MerchantRecord | null> {
  const raw = await store.get(merchantKey(merchantId));
  return raw === null ? null : parseRecord(raw);
}

/** Creates a record; false if the id is taken. */
export function createMerchant(store: Store, record: MerchantRecord): Promise<boolean> {
  return store.putIfAbsent(merchantKey(record.merchantId), JSON.stringify(record));
}

/**
 * Changes a record with `fn` (compare-and-swap, retried on a lost race): a concurrent
 * change is never overwritten. Null when the merchant no longer exists.
 */
export async function updateMerchant(
  store: Store,
  merchantId: string,
  fn: (record: MerchantRecord) => MerchantRecord,
): Promise<MerchantRecord | null> {
  const written = await update(store, merchantKey(merchantId), (raw) =>
    raw === null ? undefined : JSON.stringify(fn(parseRecord(raw))),
  );
  return written === null ? null : parseRecord(written);
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
): Promise<MerchantRecord | null> {
  if (apiKey === null) return null;
  const found = await getMerchant(store, merchantId);
  if (!found || !apiKeyMatches(apiKey, found.apiKeyHash)) return null;
  return found;
}

/**
 * Indexes paymentHash → merchantId, put-if-absent: the first merchant to index a hash
 * owns it for good. True when `merchantId` owns it (now or already); false when another
 * merchant does, so a wallet returning someone else's payment hash cannot take over
 * that invoice's public status.
 */
export async function claimInvoiceIndex(
  store: Store,
  paymentHash: string,
  merchantId: string,
  ttlSecs: number,
): Promise<boolean> {
  if (await store.putIfAbsent(invoiceKey(paymentHash), merchantId, { ttlSecs })) return true;
  return (await store.get(invoiceKey(paymentHash))) === merchantId;
}

/**
 * Payment hash → merchant answers seen by this isolate. The index is put-if-absent, so a
 * hash never changes owner: a cached answer is never wrong, only possibly past its TTL,
 * and then it leads to a merchant's object that no longer has the invoice (refused).
 */
const owners = new Map<string, string>();
const OWNERS_MAX = 10_000;

/** The merchant that first indexed this payment hash, or null. */
export async function merchantForInvoice(
  store: Store,
  paymentHash: string,
): Promise<string | null> {
  const known = owners.get(paymentHash);
  if (known !== undefined) return known;
  const owner = await store.get(invoiceKey(paymentHash));
  if (owner !== null) {
    if (owners.size >= OWNERS_MAX) owners.clear();
    owners.set(paymentHash, owner);
  }
  return owner;
}

function parseRecord(raw: string): MerchantRecord {
  const value: unknown = JSON.parse(raw);
  if (
    !isRecord(value) ||
    typeof value.merchantId !== "string" ||
    typeof value.apiKeyHash !== "string" ||
    typeof value.createdAt !== "number" ||
    typeof value.updatedAt !== "number"
  ) {
    throw new Error("corrupt merchant record");
  }
  const settings = isRecord(value.settings) ? value.settings : {};
  return {
    merchantId: value.merchantId,
    apiKeyHash: value.apiKeyHash,
    // Records written before settings existed read as the safe defaults.
    settings: {
      publicInvoices: settings.publicInvoices === true,
      exclusiveNodeKey: settings.exclusiveNodeKey === true,
    },
    createdAt: value.createdAt,
    updatedAt: value.updatedAt,
  };
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

/** Whether `merchantId` is registered (cached briefly per isolate; see above). */
export async function merchantExists(store: Store, merchantId: string): Promise<boolean> {
  const now = Date.now();
  if ((knownMerchants.get(merchantId) ?? 0) > now) return true;
  if (!(await getMerchant(store, merchantId))) return false;
  if (knownMerchants.size >= KNOWN_MAX) knownMerchants.clear();
  knownMerchants.set(merchantId, now + KNOWN_TTL_MS);
  return true;
}
