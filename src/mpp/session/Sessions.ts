import type { Store } from "../../store/Store.ts";
import { type Keys, keysOf } from "../keys.ts";
import { ActiveIndex } from "./activeIndex.ts";
import {
  applyStep,
  closedState,
  closingState,
  deductStep,
  reserveStep,
  settleStep,
} from "./balance.ts";
import { type RefundOutcome, Refunds } from "./refunds.ts";
import {
  balanceOf,
  bump,
  type CloseReason,
  idleDeadline,
  parseStored,
  type SessionState,
  SessionStateSchema,
  type SessionView,
  type Step,
  view,
} from "./state.ts";
import type {
  CloseResult,
  DeductResult,
  OpenArgs,
  OpenResult,
  ReserveResult,
  SessionsOptions,
  SettleResult,
  TopUpResult,
  TouchResult,
} from "./types.ts";
import { Wakeups, waitUntil } from "./wait.ts";

export type * from "./types.ts";

/**
 * Prepaid Lightning sessions (draft-lightning-session-00) over a shared `Store`. Every
 * balance change is a compare-and-swap of the whole session record, so instances that
 * share the store serialize their updates and a balance can never go below zero
 * (§Session State: "Servers MUST serialize all balance updates").
 */
export class Sessions {
  readonly #store: Store;
  readonly #keys: Keys;
  readonly #now: () => number;
  readonly #pollIntervalMs: number;
  readonly #refunds: Refunds;
  readonly #index: ActiveIndex;
  readonly #wakeups = new Wakeups();
  /** Streams of this process to stop when their session starts closing. */
  readonly #closings = new Wakeups();
  readonly #closeGraceMs: number;

  constructor(options: SessionsOptions) {
    this.#store = options.store;
    this.#keys = keysOf(options.scope ?? "");
    this.#now = options.now ?? Date.now;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#closeGraceMs = options.closeGraceMs ?? 5_000;
    this.#index = new ActiveIndex(options.store, this.#keys);
    this.#refunds = new Refunds({
      store: options.store,
      keys: this.#keys,
      provider: options.provider,
      now: this.#now,
      pollIntervalMs: this.#pollIntervalMs,
      maxFeeMsat: options.refundMaxFeeMsat,
    });
  }

  /** The clock this engine uses (unix ms). */
  now = (): number => this.#now();

  /** Opens a session once its deposit is proven; a deposit hash is consumed once, and a closed session is never reopened. */
  async open(args: OpenArgs): Promise<OpenResult> {
    const id = args.sessionId;
    if (!/^[0-9a-f]{64}$/.test(id)) throw new RangeError("sessionId must be 64 lowercase hex");
    positive("depositMsat", args.depositMsat);
    positive("amountPerUnitMsat", args.amountPerUnitMsat);
    positive("idleTimeoutSecs", args.idleTimeoutSecs);
    // §Replay Prevention: closed sessions stay in the store, so this refuses a reopen.
    if ((await this.#store.get(this.#keys.session(id))) !== null) return refuse("session-exists");
    const now = this.#now();
    const marker = JSON.stringify({ use: "session-deposit", sessionId: id, at: now });
    if (!(await this.#store.putIfAbsent(this.#keys.consumed(id), marker)))
      return refuse("deposit-consumed");
    const state: SessionState = {
      version: 1,
      sessionId: id,
      status: "open",
      depositMsat: args.depositMsat,
      topUpMsat: 0,
      spentMsat: 0,
      units: 0,
      amountPerUnitMsat: args.amountPerUnitMsat,
      returnInvoice: args.returnInvoice,
      idleTimeoutSecs: args.idleTimeoutSecs,
      openedAt: now,
      lastActivityAt: now,
      ...(args.bearerTokenHash !== undefined && { bearerTokenHash: args.bearerTokenHash }),
    };
    if (!(await this.#store.compareAndSwap(this.#keys.session(id), null, JSON.stringify(state)))) {
      return refuse("session-exists");
    }
    // Indexed after it exists, so a sweep never drops a session that is being created.
    await this.#index.add(id);
    return { ok: true, session: view(state) };
  }

  /** Atomically takes `msat` from the balance, or refuses without change when it is short. */
  async deduct(sessionId: string, msat: number): Promise<DeductResult> {
    if (!Number.isSafeInteger(msat) || msat < 0) throw new RangeError("msat must be >= 0");
    const now = this.#now();
    return applyStep(this.#store, this.#keys.session(sessionId), (s) => deductStep(s, msat, now));
  }

  /**
   * Atomically moves min(`wantMsat`, available) msat, in whole units of `unitMsat`, from the
   * balance into `streamId`'s reservation, or refuses without change when not even one
   * unit is available. See `reservations.ts` for what a crash holding one costs whom.
   */
  async reserve(
    sessionId: string,
    streamId: string,
    wantMsat: number,
    unitMsat: number,
  ): Promise<ReserveResult> {
    positive("wantMsat", wantMsat);
    positive("unitMsat", unitMsat);
    const now = this.#now();
    const step = (s: SessionState | null) => reserveStep(s, { streamId, wantMsat, unitMsat, now });
    return applyStep(this.#store, this.#keys.session(sessionId), step);
  }

  /** Atomically spends `usedMsat` of `streamId`'s reservation and releases the rest, waking waiters. */
  async settleReservation(
    sessionId: string,
    streamId: string,
    usedMsat: number,
  ): Promise<SettleResult> {
    if (!Number.isSafeInteger(usedMsat) || usedMsat < 0)
      throw new RangeError("usedMsat must be >= 0");
    const now = this.#now();
    const step = (s: SessionState | null) => settleStep(s, { streamId, usedMsat, now });
    const result = await applyStep(this.#store, this.#keys.session(sessionId), step);
    // Released msat is balance another stream may be waiting for (the top-up notifier),
    // and a settle is what a closing session waits for.
    if (result.ok) this.#wakeups.notify(sessionId);
    return result;
  }

  /** Calls `stop` when the session starts closing (in this process); returns the unsubscribe. */
  onClosing(sessionId: string, stop: () => void): () => void {
    return this.#closings.subscribe(sessionId, stop);
  }

  /** Credits a paid top-up (§TopUp Action); its payment hash is consumed once, and waiting streams wake. */
  async topUp(sessionId: string, topUpPaymentHash: string, msat: number): Promise<TopUpResult> {
    positive("msat", msat);
    const before = await this.get(sessionId);
    if (!before) return refuse("session-not-found");
    if (before.status !== "open") return refuse("session-closed");
    const marker = JSON.stringify({ use: "session-top-up", sessionId, at: this.#now() });
    const hashKey = this.#keys.consumed(topUpPaymentHash);
    if (!(await this.#store.putIfAbsent(hashKey, marker))) return refuse("payment-consumed");
    const now = this.#now();
    const result = await applyStep(
      this.#store,
      this.#keys.session(sessionId),
      (s): Step<TopUpResult> => {
        if (!s) return { result: { ok: false, reason: "session-not-found" } };
        if (s.status !== "open") return { result: { ok: false, reason: "session-closed" } };
        const write = { ...bump(s, now), topUpMsat: s.topUpMsat + msat };
        return { write, result: { ok: true, balanceMsat: balanceOf(write) } };
      },
    );
    // Closed between the check and the credit: the payment was not credited, so it is
    // not consumed either (its proof stays usable, e.g. to open a new session).
    if (!result.ok) await this.#store.compareAndSwap(hashKey, marker, null);
    else this.#wakeups.notify(sessionId);
    return result;
  }

  /** Records activity (a bearer request) so the idle timeout restarts; refuses closed sessions. */
  async touch(sessionId: string): Promise<TouchResult> {
    const now = this.#now();
    return applyStep(this.#store, this.#keys.session(sessionId), (s): Step<TouchResult> => {
      if (!s) return { result: refuse("session-not-found") };
      if (s.status !== "open") return { result: refuse("session-closed") };
      return { write: bump(s, now), result: { ok: true } };
    });
  }

  /** The session with its balance, or null when unknown. */
  async get(sessionId: string): Promise<SessionView | null> {
    const raw = await this.#store.get(this.#keys.session(sessionId));
    return raw === null
      ? null
      : view(parseStored(raw, SessionStateSchema, this.#keys.session(sessionId)));
  }

  /** The unspent balance in msat, or null when the session is unknown. */
  async balance(sessionId: string): Promise<number | null> {
    return (await this.get(sessionId))?.balanceMsat ?? null;
  }

  /**
   * Resolves true once the balance reaches `atLeastMsat` (default: grows past its value
   * now), false on timeout, abort, or when the session closes. A top-up applied in this
   * process wakes it at once; one applied by another instance sharing the store is seen
   * by re-reading the store every `pollIntervalMs` (§Streaming: "Poll or await an increase").
   */
  async waitForTopUp(
    sessionId: string,
    timeoutMs: number,
    options: { atLeastMsat?: number; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const start = await this.get(sessionId);
    if (start?.status !== "open") return false;
    const target = options.atLeastMsat ?? start.balanceMsat + 1;
    return waitUntil({
      check: async () => {
        const s = await this.get(sessionId);
        if (s?.status !== "open") return false;
        return s.balanceMsat >= target ? true : null;
      },
      subscribe: (wake) => this.#wakeups.subscribe(sessionId, wake),
      timeoutMs,
      pollIntervalMs: this.#pollIntervalMs,
      signal: options.signal,
    });
  }

  /**
   * Closes the session once (§Close Action) and refunds deposit + top-ups − spent (any
   * outstanding reservation included) to its return invoice at most once; a retried or concurrent close reports the recorded outcome.
   */
  async close(sessionId: string, reason: CloseReason = "client"): Promise<CloseResult> {
    return (await this.#close(sessionId, reason, () => true)) ?? refuse("session-not-found");
  }

  /**
   * Closes and refunds every open session whose idle deadline (last activity +
   * idleTimeout) is at or before `nowMs` (§Server-Initiated Close), and finishes the
   * refund of sessions a crash left closed but still indexed. The caller schedules it
   * (a Node timer, a Durable Object alarm); all state it needs is in the store.
   */
  async closeIdle(nowMs: number = this.#now()): Promise<CloseResult[]> {
    const closed: CloseResult[] = [];
    for (const id of await this.#index.ids()) {
      const s = await this.get(id);
      if (!s) {
        await this.#index.remove(id);
        continue;
      }
      if (s.status === "open" && idleDeadline(s) > nowMs) continue;
      const result = await this.#close(id, "idle", (fresh) => idleDeadline(fresh) <= nowMs);
      if (result) closed.push(result);
    }
    return closed;
  }

  /**
   * Pays a closed session's failed refund once more (§Close Action); the caller spaces
   * and bounds the retries. The recorded outcome otherwise; null when nothing to retry.
   */
  async retryRefund(sessionId: string): Promise<RefundOutcome | null> {
    const s = await this.get(sessionId);
    if (s?.status !== "closed") return null;
    return this.#refunds.retryFailed(sessionId, s.returnInvoice);
  }

  /**
   * Settles a closed session's refund left `pending` by an attempt that died (stale) from
   * what the wallet says of the payment (see `Refunds.resolvePending`); a refund it finds
   * unpaid becomes `failed`, for `retryRefund`. The recorded outcome otherwise; null when none.
   */
  async resolveRefund(sessionId: string): Promise<RefundOutcome | null> {
    const s = await this.get(sessionId);
    if (s?.status !== "closed") return null;
    return this.#refunds.resolvePending(sessionId, s.returnInvoice);
  }

  /** The earliest idle deadline (unix ms) among open sessions, for scheduling `closeIdle`; null when none. */
  async nextIdleDeadline(): Promise<number | null> {
    let next: number | null = null;
    for (const id of await this.#index.ids()) {
      const s = await this.get(id);
      if (!s) continue;
      const at = s.status === "open" ? idleDeadline(s) : 0;
      next = next === null ? at : Math.min(next, at);
    }
    return next;
  }

  /**
   * Marks closed (when `shouldClose` agrees with the fresh state), refunds, unindexes; null
   * when skipped. A session with reservations goes through `closing` first: its streams
   * stop and settle what they delivered, then the refund is fixed at what is left.
   */
  async #close(
    id: string,
    reason: CloseReason,
    shouldClose: (s: SessionState) => boolean,
  ): Promise<CloseResult | null> {
    const key = this.#keys.session(id);
    type Marked = { state: SessionState; alreadyClosed: boolean } | "closing" | null;
    // §Server-Initiated Close: "Mark session.status = closed atomically before attempting the refund".
    const finish = (s: SessionState | null): Step<Marked> => {
      if (!s) return { result: null };
      if (s.status === "closed") return { result: { state: s, alreadyClosed: true } };
      const closeReason = s.closeReason ?? reason;
      const write = closedState(s, { closedAt: this.#now(), closeReason });
      return { write, result: { state: write, alreadyClosed: false } };
    };
    let marked = await applyStep(this.#store, key, (s): Step<Marked> => {
      if (s?.status !== "open") return finish(s);
      if (!shouldClose(s)) return { result: null };
      if (!s.reservations?.length) return finish(s);
      return { write: closingState(s, reason), result: "closing" };
    });
    if (marked === "closing") {
      this.#closings.notify(id);
      await this.#drained(id);
      marked = await applyStep(this.#store, key, finish);
    }
    if (marked === null || marked === "closing") return null;
    this.#wakeups.notify(id);
    const { state, alreadyClosed } = marked;
    const refundMsat = state.refundMsat ?? 0;
    const outcome = await this.#refunds.refundOnce(id, state.returnInvoice, refundMsat);
    // Unindexed only after the refund is recorded, so a crash before it is finished by the next sweep.
    await this.#index.remove(id);
    return {
      ok: true,
      sessionId: id,
      refundMsat,
      refundStatus: outcome.status,
      ...(outcome.preimage ? { preimage: outcome.preimage } : {}),
      closeReason: state.closeReason ?? reason,
      alreadyClosed,
    };
  }

  /** Waits (at most the grace period) until no stream holds a reservation on a closing session. */
  async #drained(id: string): Promise<void> {
    await waitUntil({
      check: async () => {
        const s = await this.get(id);
        return s?.status !== "closing" || !s.reservations?.length ? true : null;
      },
      subscribe: (wake) => this.#wakeups.subscribe(id, wake),
      timeoutMs: this.#closeGraceMs,
      pollIntervalMs: this.#pollIntervalMs,
    });
  }
}

function refuse<R extends string>(reason: R): { ok: false; reason: R } {
  return { ok: false, reason };
}

function positive(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}
