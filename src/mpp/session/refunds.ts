import { readInvoice } from "../../protocol/bolt11/Bolt11.ts";
import { proves } from "../../protocol/Preimage.ts";
import { LightningError } from "../../providers/errors.ts";
import type { LightningProvider } from "../../providers/LightningProvider.ts";
import type { Store } from "../../store/Store.ts";
import type { Keys } from "../keys.ts";
import { parseStored, type RefundRecord, RefundRecordSchema } from "./state.ts";

/**
 * The refund of a closed session's balance (draft-lightning-session-00 §Close Action):
 * `succeeded`, `failed` (the one attempt did not complete), `skipped` (nothing owed), or
 * `pending` — another instance is paying it right now, or crashed mid-payment (until
 * `resolvePending` asks the wallet); the draft lists only the first three, and
 * `pending` is never reported as a success.
 */
export type RefundStatus = "succeeded" | "failed" | "skipped" | "pending";

/** What a refund attempt came to. */
export type RefundOutcome = { status: RefundStatus; preimage?: string };

/**
 * How long a close waits for another instance's refund attempt to record its outcome;
 * a `pending` record older than this is stale: its attempt is taken to have died.
 */
export const PENDING_WAIT_MS = 30_000;
const HEX64 = /^[0-9a-f]{64}$/i;

/**
 * Pays each session's refund at most once. The attempt is recorded in the store
 * (`putIfAbsent`) before the payment starts, so neither a concurrent close, a retried
 * close, nor another instance can pay it twice; the outcome then replaces the record.
 * One attempt per call; `retryFailed` pays a failed refund again, and the caller spaces
 * and bounds those retries (the draft: "MUST NOT retry indefinitely"). A stale `pending`
 * record (its attempt died with its process) is settled by `resolvePending` from what
 * the wallet says of the payment (`lookupPayment`).
 */
export class Refunds {
  readonly #store: Store;
  readonly #keys: Keys;
  readonly #provider: LightningProvider;
  readonly #now: () => number;
  readonly #pollIntervalMs: number;
  readonly #maxFeeMsat: number | undefined;
  /** Attempts running in this process, so a concurrent close awaits the same outcome. */
  readonly #inflight = new Map<string, Promise<RefundOutcome>>();

  constructor(options: {
    store: Store;
    keys: Keys;
    provider: LightningProvider;
    now: () => number;
    pollIntervalMs: number;
    maxFeeMsat?: number | undefined;
  }) {
    this.#store = options.store;
    this.#keys = options.keys;
    this.#provider = options.provider;
    this.#now = options.now;
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#maxFeeMsat = options.maxFeeMsat;
  }

  /** Pays `refundMsat` to the no-amount `returnInvoice` unless an attempt is already recorded, whose outcome is returned instead. */
  async refundOnce(
    sessionId: string,
    returnInvoice: string,
    refundMsat: number,
  ): Promise<RefundOutcome> {
    // §Close Action: "If refundSats is zero, the server MUST NOT attempt to pay".
    if (refundMsat === 0) return { status: "skipped" };
    const running = this.#inflight.get(sessionId);
    if (running) return running;
    const key = this.#keys.refund(sessionId);
    const pending: RefundRecord = { status: "pending", refundMsat, attemptedAt: this.#now() };
    const pendingRaw = JSON.stringify(pending);
    if (!(await this.#store.putIfAbsent(key, pendingRaw)))
      return this.#recorded(sessionId, key, returnInvoice);
    const paying = this.#pay(key, pendingRaw, pending, returnInvoice);
    this.#inflight.set(sessionId, paying);
    try {
      return await paying;
    } finally {
      this.#inflight.delete(sessionId);
    }
  }

  /**
   * Pays a refund whose recorded outcome is `failed` once more: the record goes back to
   * `pending` by compare-and-swap before paying, so two retries never both pay. Any other
   * recorded outcome is returned as is; null when nothing is recorded or another caller won.
   */
  async retryFailed(sessionId: string, returnInvoice: string): Promise<RefundOutcome | null> {
    const key = this.#keys.refund(sessionId);
    const raw = await this.#store.get(key);
    if (raw === null) return null;
    const record = parseStored(raw, RefundRecordSchema, key);
    if (record.status !== "failed") return outcomeOf(record);
    const { error: _previous, ...rest } = record;
    const pending: RefundRecord = { ...rest, status: "pending", attemptedAt: this.#now() };
    const pendingRaw = JSON.stringify(pending);
    if (!(await this.#store.compareAndSwap(key, raw, pendingRaw))) return null;
    const paying = this.#pay(key, pendingRaw, pending, returnInvoice);
    this.#inflight.set(sessionId, paying);
    try {
      return await paying;
    } finally {
      this.#inflight.delete(sessionId);
    }
  }

  /**
   * Settles a stale `pending` record (its attempt started over `PENDING_WAIT_MS` ago and
   * is not running here) from the wallet's own record of the payment: paid → `succeeded`
   * with its preimage; failed or never started → `failed`, so `retryFailed` may pay it;
   * in flight, unreadable, or a provider without `lookupPayment` → still `pending`. The
   * record changes by compare-and-swap, so of concurrent resolvers one acts. Any other
   * recorded outcome is returned as is; null when nothing is recorded.
   */
  async resolvePending(sessionId: string, returnInvoice: string): Promise<RefundOutcome | null> {
    const running = this.#inflight.get(sessionId);
    if (running) return running;
    const key = this.#keys.refund(sessionId);
    const raw = await this.#store.get(key);
    if (raw === null) return null;
    const record = parseStored(raw, RefundRecordSchema, key);
    if (record.status !== "pending") return outcomeOf(record);
    if (this.#now() - record.attemptedAt < PENDING_WAIT_MS) return { status: "pending" };
    const next = await this.#settled(record, returnInvoice);
    if (next === null) return { status: "pending" };
    if (await this.#store.compareAndSwap(key, raw, JSON.stringify(next))) return outcomeOf(next);
    // Another resolver (or retry) moved it first: report what it recorded.
    const now = await this.recorded(sessionId);
    return now === null ? null : outcomeOf(now);
  }

  /** The recorded refund of a session, or null when none was attempted. */
  async recorded(sessionId: string): Promise<RefundRecord | null> {
    const key = this.#keys.refund(sessionId);
    const raw = await this.#store.get(key);
    return raw === null ? null : parseStored(raw, RefundRecordSchema, key);
  }

  async #pay(
    key: string,
    pendingRaw: string,
    pending: RefundRecord,
    invoice: string,
  ): Promise<RefundOutcome> {
    let record: RefundRecord;
    try {
      const paid = await this.#provider.payInvoice({
        invoice,
        amountMsat: pending.refundMsat,
        ...(this.#maxFeeMsat === undefined ? {} : { maxFeeMsat: this.#maxFeeMsat }),
      });
      const preimage = HEX64.test(paid.preimage) ? paid.preimage.toLowerCase() : undefined;
      record = { ...pending, status: "succeeded", ...(preimage ? { preimage } : {}) };
    } catch (err) {
      const error = err instanceof LightningError ? err.code : "payment_failed";
      // A timed-out payment may have completed: ask the wallet once. Still in flight: the
      // record stays pending for `resolvePending`; unknown: failed, as the attempt did not complete.
      const late = error === "payment_timeout" ? await this.#settled(pending, invoice) : null;
      if (late?.status === "pending") return { status: "pending" };
      record = late?.status === "succeeded" ? late : { ...pending, status: "failed", error };
    }
    await this.#store.compareAndSwap(key, pendingRaw, JSON.stringify(record));
    return outcomeOf(record);
  }

  /**
   * What the wallet says became of the payment `record` stands for, as the record to
   * write: `pending` while in flight, null when the wallet cannot tell (no `lookupPayment`,
   * an error, an unreadable invoice, a success without a preimage proving it).
   */
  async #settled(record: RefundRecord, invoice: string): Promise<RefundRecord | null> {
    const lookupPayment = this.#provider.lookupPayment?.bind(this.#provider);
    if (!lookupPayment) return null;
    let paymentHash: string;
    try {
      paymentHash = readInvoice(invoice).paymentHash;
    } catch {
      return null;
    }
    const { error: _previous, ...rest } = record;
    try {
      const paid = await lookupPayment(paymentHash);
      switch (paid.state) {
        case "succeeded":
          if (paid.preimage === undefined || !proves(paid.preimage, paymentHash)) return null;
          return { ...rest, status: "succeeded", preimage: paid.preimage.toLowerCase() };
        case "failed":
          return { ...rest, status: "failed", error: "payment_failed" };
        case "unknown":
          return { ...rest, status: "failed", error: "payment_not_started" };
        case "pending":
          return { ...rest, status: "pending" };
        default:
          return null;
      }
    } catch {
      return null;
    }
  }

  /** Waits (bounded) for an attempt another caller started to record its outcome; settles a stale one. */
  async #recorded(sessionId: string, key: string, returnInvoice: string): Promise<RefundOutcome> {
    const maxPolls = Math.ceil(PENDING_WAIT_MS / this.#pollIntervalMs);
    for (let poll = 0; ; poll++) {
      const running = this.#inflight.get(sessionId);
      if (running) return running;
      const raw = await this.#store.get(key);
      if (raw === null) return { status: "pending" };
      const record = parseStored(raw, RefundRecordSchema, key);
      if (record.status !== "pending") return outcomeOf(record);
      const stale = this.#now() - record.attemptedAt >= PENDING_WAIT_MS;
      if (stale)
        return (await this.resolvePending(sessionId, returnInvoice)) ?? { status: "pending" };
      if (poll >= maxPolls) return { status: "pending" };
      await new Promise((resolve) => setTimeout(resolve, this.#pollIntervalMs));
    }
  }
}

function outcomeOf(record: RefundRecord): RefundOutcome {
  return {
    status: record.status,
    ...(record.preimage ? { preimage: record.preimage } : {}),
  };
}
