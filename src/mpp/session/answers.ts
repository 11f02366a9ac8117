/**
 * The answers of the session method's management actions (draft-lightning-session-00
 * §open, §topUp, §close): receipts, refusals, and a per-credential cache so a client
 * that lost an answer and retries the same credential gets the same answer, not a
 * second effect (and not a replay refusal).
 */
import * as Problems from "../../protocol/mpp/Problems.ts";
import * as Receipts from "../../protocol/mpp/Receipt.ts";
import { isRecord } from "../../protocol/Schema.ts";
import type { Store } from "../../store/Store.ts";
import type { VerifyResult } from "../server.ts";
import type { CloseResult } from "./Sessions.ts";
import type { CloseAnswer } from "./wire.ts";

const ANSWER_TTL_SECS = 86_400;

/** Management answers remembered in the store, keyed by challenge id and payload. */
export class Answers {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Records and returns an answer (the first recorded one wins): a management body, or
   * none for an open, whose request is then served its content (§open).
   */
  async give(
    key: string,
    receipt: Receipts.Receipt,
    body?: Record<string, unknown>,
  ): Promise<VerifyResult> {
    const stored = JSON.stringify({ receipt: Receipts.serialize(receipt), body });
    await this.#store.putIfAbsent(key, stored, { ttlSecs: ANSWER_TTL_SECS });
    return body ? { ok: true, receipt, body } : { ok: true, receipt };
  }

  /** The answer already given for `key`, or null. */
  async recall(key: string): Promise<VerifyResult | null> {
    const raw = await this.#store.get(key);
    if (raw === null) return null;
    const parsed: unknown = JSON.parse(raw);
    if (!isRecord(parsed) || typeof parsed.receipt !== "string") return null;
    const receipt = Receipts.parse(parsed.receipt);
    return isRecord(parsed.body) ? { ok: true, receipt, body: parsed.body } : { ok: true, receipt };
  }
}

/** A session receipt (`reference` = sessionId, with the `challengeId` the draft requires). */
export function receiptFor(
  sessionId: string,
  challengeId: string,
  nowMs: number,
  extra: Record<string, unknown> = {},
): Receipts.Receipt {
  return {
    ...extra,
    status: "success",
    method: "lightning",
    intent: "session",
    reference: sessionId,
    challengeId,
    timestamp: new Date(nowMs).toISOString(),
  };
}

/** The problem of a refused session action. */
export function refusal(reason: "session-not-found" | "session-closed"): Problems.PaymentProblem {
  return reason === "session-not-found"
    ? Problems.sessionNotFound("No session has this id; open one by paying the challenge.")
    : Problems.sessionClosed("This session is closed; open a new one by paying the challenge.");
}

/** §close receipt: `refundStatus` is the recorded outcome; a failed refund is never `succeeded`. */
export function closeAnswer(closed: Extract<CloseResult, { ok: true }>): CloseAnswer {
  return {
    status: "closed",
    sessionId: closed.sessionId,
    refundSats: closed.refundMsat / 1000,
    refundStatus: closed.refundStatus,
  };
}
