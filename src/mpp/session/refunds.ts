import { LightningError } from "../../providers/errors.ts";
import type { LightningProvider } from "../../providers/LightningProvider.ts";
import type { Store } from "../../store/Store.ts";
import type { Keys } from "../keys.ts";
import { parseStored, type RefundRecord, RefundRecordSchema } from "./state.ts";

/**
 * The refund of a closed session's balance (draft-lightning-session-00 §Close Action):
 * `succeeded`, `failed` (the one attempt did not complete), `skipped` (nothing owed), or
 * `pending` — another instance is paying it right now, or crashed mid-payment; the
 * draft lists only the first three, and `pending` is never reported as a success.
 */
export type RefundStatus = "succeeded" | "failed" | "skipped" | "pending";

/** What a refund attempt came to. */
export type RefundOutcome = { status: RefundStatus; preimage?: string };

/** How long a close waits for another instance's refund attempt to record its outcome. */
const PENDING_WAIT_MS = 30_000;
const HEX64 = /^[0-9a-f]{64}$/i;

/**
 * Pays each session's refund at most once. The attempt is recorded in the store
 * (`putIfAbsent`) before the payment starts, so neither a concurrent close, a retried
 * close, nor another instance can pay it twice; the outcome then replaces the record.
 * One attempt per call; `retryFailed` pays a failed refund again, and the caller spaces
 * and bounds those retries (the draft: "MUST NOT retry indefinitely").
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
    if (!(await this.#store.putIfAbsent(key, pendingRaw))) return this.#recorded(sessionId, key);
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
      // A timeout counts as failed too: the payment "did not complete" within the one attempt.
      const error = err instanceof LightningError ? err.code : "payment_failed";
      record = { ...pending, status: "failed", error };
    }
    await this.#store.compareAndSwap(key, pendingRaw, JSON.stringify(record));
    return outcomeOf(record);
  }

  /** Waits (bounded) for an attempt another caller started to record its outcome. */
  async #recorded(sessionId: string, key: string): Promise<RefundOutcome> {
    const maxPolls = Math.ceil(PENDING_WAIT_MS / this.#pollIntervalMs);
    for (let poll = 0; ; poll++) {
      const running = this.#inflight.get(sessionId);
      if (running) return running;
      const raw = await this.#store.get(key);
      if (raw === null) return { status: "pending" };
      const record = parseStored(raw, RefundRecordSchema, key);
      if (record.status !== "pending") return outcomeOf(record);
      const stale = this.#now() - record.attemptedAt >= PENDING_WAIT_MS;
      if (stale || poll >= maxPolls) return { status: "pending" };
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
