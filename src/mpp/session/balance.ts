import type { Store } from "../../store/Store.ts";
import {
  balanceOf,
  bump,
  MAX_RESERVATIONS,
  parseStored,
  type SessionState,
  SessionStateSchema,
  type Step,
  unspentOf,
} from "./state.ts";
import type { DeductResult, ReserveResult, SettleResult } from "./types.ts";

/*
 * The balance changes of a session as pure steps, and the compare-and-swap loop that
 * applies them (§Session State: "Servers MUST serialize all balance updates").
 *
 * Credit reservations of a session (the steps `Sessions.reserve` and
 * `Sessions.settleReservation` run inside their compare-and-swap loop). A stream moves
 * whole units out of the balance into a reservation recorded in the session state, bills
 * its events from it locally, and settles: the used part becomes spent, the rest goes
 * back to the balance. The balance a client sees, `deduct` and a top-up's result all
 * leave reserved msat out, so reserved and spent together never exceed deposit + top-ups.
 *
 * Closing with streams in flight: `close` first marks the session `closing` (no more
 * reservations), tells this process's streams to stop, and waits (bounded) for their
 * settles, so every delivered event is billed and the refund is exactly the rest.
 *
 * Crash trade-off: a process that dies holding a reservation never settles it. `close`
 * (and so the idle sweep) refunds deposit + top-ups − spent, i.e. the whole reservation
 * goes back to the payer, who never loses money. The merchant loses the events that were
 * delivered from that reservation but not settled: at most one reservation (≤ 64 units,
 * see `sse.ts`) per crashed stream. The same holds for a stream in another process that
 * does not settle within the close's grace period.
 */

const MAX_CAS_ATTEMPTS = 10_000;

/** Read-modify-CAS loop over one session record; retries only when another writer won. */
export async function applyStep<R>(
  store: Store,
  key: string,
  step: (s: SessionState | null) => Step<R>,
): Promise<R> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const raw = await store.get(key);
    const { write, result } = step(raw === null ? null : parseStored(raw, SessionStateSchema, key));
    if (!write) return result;
    if (await store.compareAndSwap(key, raw, JSON.stringify(write))) return result;
  }
  throw new Error(`${key}: too much write contention, gave up`);
}

/** Takes exactly `msat` (one unit) from the available balance, or refuses when it is short. */
export function deductStep(s: SessionState | null, msat: number, now: number): Step<DeductResult> {
  const balanceMsat = s ? balanceOf(s) : 0;
  const refusal = { ok: false as const, balanceMsat, requiredMsat: msat, spentMsat: 0 };
  if (!s) return { result: { ...refusal, reason: "session-not-found" } };
  const spentMsat = s.spentMsat;
  if (s.status !== "open") return { result: { ...refusal, reason: "session-closed", spentMsat } };
  if (balanceMsat < msat)
    return { result: { ...refusal, reason: "insufficient-balance", spentMsat } };
  const write = { ...bump(s, now), spentMsat: s.spentMsat + msat, units: s.units + 1 };
  return { write, result: { ok: true, balanceMsat: balanceOf(write), spentMsat: write.spentMsat } };
}

/** Moves min(want, available) msat, in whole units of `unitMsat`, into `streamId`'s reservation. */
export function reserveStep(
  s: SessionState | null,
  args: { streamId: string; wantMsat: number; unitMsat: number; now: number },
): Step<ReserveResult> {
  const { streamId, wantMsat, unitMsat, now } = args;
  const balanceMsat = s ? balanceOf(s) : 0;
  const refusal = { ok: false as const, balanceMsat, requiredMsat: unitMsat, spentMsat: 0 };
  if (!s) return { result: { ...refusal, reason: "session-not-found" } };
  const spentMsat = s.spentMsat;
  if (s.status !== "open") return { result: { ...refusal, reason: "session-closed", spentMsat } };
  const held = s.reservations ?? [];
  const mine = held.find((r) => r.streamId === streamId);
  if (mine && mine.unitMsat !== unitMsat) {
    throw new RangeError(`stream ${streamId} already reserves in units of ${mine.unitMsat} msat`);
  }
  if (!mine && held.length >= MAX_RESERVATIONS) {
    return { result: { ...refusal, reason: "too-many-reservations", spentMsat } };
  }
  const grantMsat =
    Math.min(Math.floor(wantMsat / unitMsat), Math.floor(balanceMsat / unitMsat)) * unitMsat;
  if (grantMsat < unitMsat) {
    return { result: { ...refusal, reason: "insufficient-balance", spentMsat } };
  }
  // A second reserve by the same stream (e.g. a retry whose first write landed) extends it.
  const reservations = mine
    ? held.map((r) => (r === mine ? { ...r, msat: r.msat + grantMsat } : r))
    : [...held, { streamId, msat: grantMsat, unitMsat }];
  const write: SessionState = { ...bump(s, now), reservations };
  return {
    write,
    result: {
      ok: true,
      reservedMsat: grantMsat,
      balanceMsat: balanceOf(write),
      renewAt: renewAt(write),
    },
  };
}

/** Records `usedMsat` of `streamId`'s reservation as spent and returns the rest to the balance. */
export function settleStep(
  s: SessionState | null,
  args: { streamId: string; usedMsat: number; now: number },
): Step<SettleResult> {
  const { streamId, usedMsat, now } = args;
  if (!s) return { result: { ok: false, reason: "session-not-found" } };
  // Closed: `close` already refunded the whole reservation (see the trade-off above).
  // Closing: the close waits for this settle, so what the stream delivered is billed.
  if (s.status === "closed") return { result: { ok: false, reason: "session-closed" } };
  const held = s.reservations ?? [];
  const mine = held.find((r) => r.streamId === streamId);
  if (!mine) return { result: { ok: false, reason: "reservation-not-found" } };
  if (usedMsat > mine.msat || usedMsat % mine.unitMsat !== 0) {
    throw new RangeError(
      `usedMsat ${usedMsat} must be whole units of ${mine.unitMsat} within the reserved ${mine.msat}`,
    );
  }
  const rest = held.filter((r) => r !== mine);
  const write: SessionState = {
    ...bump(s, now),
    spentMsat: s.spentMsat + usedMsat,
    units: s.units + usedMsat / mine.unitMsat,
  };
  if (rest.length > 0) write.reservations = rest;
  else delete write.reservations;
  return {
    write,
    result: {
      ok: true,
      spentMsat: write.spentMsat,
      balanceMsat: balanceOf(write),
      releasedMsat: mine.msat - usedMsat,
    },
  };
}

/** The closing form of `s`: nothing more can be reserved, deducted or credited; settles still land. */
export function closingState(
  s: SessionState,
  closeReason: SessionState["closeReason"],
): SessionState {
  return { ...s, version: s.version + 1, status: "closing", ...(closeReason && { closeReason }) };
}

/** The closed form of `s`: no reservations left, the refund fixed at deposit + top-ups − spent. */
export function closedState(
  s: SessionState,
  fields: Pick<SessionState, "closedAt" | "closeReason">,
): SessionState {
  const { reservations: _refunded, ...rest } = s;
  return {
    ...rest,
    ...fields,
    version: s.version + 1,
    status: "closed",
    refundMsat: unspentOf(s),
  };
}

/** When a stream holding a reservation should renew it: halfway to the session's idle deadline. */
function renewAt(s: SessionState): number {
  return s.lastActivityAt + (s.idleTimeoutSecs * 1000) / 2;
}
