import type { ReserveResult, Sessions } from "./Sessions.ts";

/** The most units one stream holds reserved at once (bounds what a crash can cost the merchant). */
export const MAX_RESERVATION_UNITS = 64;

/** Why a stream could not get a unit: a `reserve` refusal. */
export type BudgetRefusal = Extract<ReserveResult, { ok: false }>;

/**
 * The local side of one stream's reservation (see `balance.ts`): events are paid from
 * units reserved in the store, so the store is written once per reservation rather than
 * once per event. The size adapts: 1 unit first, doubling after each reservation the
 * stream used up, up to `MAX_RESERVATION_UNITS`, so a short stream holds little and a
 * long one rarely goes to the store. Every paid event is counted exactly.
 */
export class StreamBudget {
  /** This stream's key in the session's reservations. */
  readonly streamId = crypto.randomUUID();
  readonly #sessions: Sessions;
  readonly #sessionId: string;
  readonly #unitMsat: number;
  /** Reserved and not yet used. */
  #heldUnits = 0;
  /** Used from the current reservation, not yet settled. */
  #usedUnits = 0;
  #sizeUnits = 1;
  /** Whether a reservation is recorded in the store (even a fully used one). */
  #reserved = false;
  /** When to settle and reserve again so the session's idle deadline keeps moving (unix ms). */
  #renewAt = 0;
  /** Paid by an exact `deduct` (no reservation slot was free), not yet taken. */
  #prepaidUnits = 0;
  /** Set once the session starts closing: nothing more is taken from the reservation. */
  #stopped = false;
  readonly #unsubscribe: () => void;
  /** Units paid for the events of this stream. */
  units = 0;

  constructor(sessions: Sessions, sessionId: string, unitMsat: number) {
    this.#sessions = sessions;
    this.#sessionId = sessionId;
    this.#unitMsat = unitMsat;
    this.#unsubscribe = sessions.onClosing(sessionId, () => {
      this.#stopped = true;
    });
  }

  /** msat per event this stream bills. */
  get unitMsat(): number {
    return this.#unitMsat;
  }

  /** Pays one event from the local reservation; false when it must be refilled first. */
  take(): boolean {
    if (this.#prepaidUnits > 0) {
      this.#prepaidUnits -= 1;
      this.units += 1;
      return true;
    }
    if (this.#stopped || this.#heldUnits === 0 || this.#sessions.now() >= this.#renewAt)
      return false;
    this.#heldUnits -= 1;
    this.#usedUnits += 1;
    this.units += 1;
    return true;
  }

  /**
   * Settles the current reservation and reserves the next; null when units are held
   * again (call `take`), else the refusal. With every unit settled first, a refused
   * stream holds nothing, so streams waiting on one session cannot starve each other.
   */
  async refill(): Promise<BudgetRefusal | null> {
    const exhausted = this.#reserved && this.#heldUnits === 0;
    await this.settle();
    if (exhausted) this.#sizeUnits = Math.min(this.#sizeUnits * 2, MAX_RESERVATION_UNITS);
    const unit = this.#unitMsat;
    const sessions = this.#sessions;
    const got = await sessions.reserve(
      this.#sessionId,
      this.streamId,
      this.#sizeUnits * unit,
      unit,
    );
    if (got.ok) {
      this.#reserved = true;
      this.#heldUnits = got.reservedMsat / unit;
      this.#renewAt = got.renewAt;
      return null;
    }
    if (got.reason !== "too-many-reservations") return got;
    // Every reservation slot is taken: pay this one event exactly, as before reservations.
    const paid = await sessions.deduct(this.#sessionId, unit);
    if (!paid.ok) return paid;
    this.#prepaidUnits = 1;
    return null;
  }

  /** Stops listening for the session's close; call once the stream is over. */
  release(): void {
    this.#unsubscribe();
  }

  /** Records the used units as spent and returns the rest to the balance; a no-op when nothing is reserved. */
  async settle(): Promise<void> {
    if (!this.#reserved) return;
    const usedMsat = this.#usedUnits * this.#unitMsat;
    this.#reserved = false;
    this.#heldUnits = 0;
    this.#usedUnits = 0;
    // Refused only when the session closed meanwhile: `close` refunded the reservation.
    await this.#sessions.settleReservation(this.#sessionId, this.streamId, usedMsat);
  }
}
