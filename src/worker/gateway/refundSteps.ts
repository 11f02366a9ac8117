import type { Sessions } from "../../mpp/session/Sessions.ts";
import { ProblemError } from "../../protocol/Errors.ts";
import { LightningError, PaymentTimeoutError } from "../../providers/errors.ts";
import type { LightningProvider, OutgoingPaymentState } from "../../providers/LightningProvider.ts";
import type { SessionTables } from "./SessionTables.ts";

/**
 * The due refund steps of the gateway's sessions (the object's alarm), on the backoff
 * schedule of `SessionTables.refunded`: a failed refund is paid once more; a `pending`
 * one (its attempt died with an evicted object) is settled from what the merchant's
 * wallet says of the payment (`Sessions.resolveRefund`): paid → succeeded, failed or
 * never started → failed (paid again on the next step), still in flight or unknowable →
 * checked again on the next step. Each outcome is recorded before the next session.
 */
export async function runDueRefunds(
  sessions: Sessions,
  tables: SessionTables,
  dueMs: number,
  nowMs: () => number,
): Promise<void> {
  for (const sessionId of tables.dueRetries(dueMs)) {
    const outcome =
      tables.refundStatusOf(sessionId) === "pending"
        ? await sessions.resolveRefund(sessionId)
        : await sessions.retryRefund(sessionId);
    if (outcome === null) tables.stopRetry(sessionId);
    else tables.refunded(sessionId, outcome.status, null, nowMs());
  }
}

/**
 * The session engine's view of the merchant's wallet: it only pays refunds and, when
 * `lookupRefund` is given, looks up what it paid.
 */
export function refundProvider(
  payRefund: (invoice: string, amountMsat: number) => Promise<{ preimage: string }>,
  lookupRefund?: (paymentHash: string) => Promise<OutgoingPaymentState>,
): LightningProvider {
  return {
    createInvoice: () => Promise.reject(new LightningError("unsupported", "refunds only")),
    lookupInvoice: () => Promise.reject(new LightningError("unsupported", "refunds only")),
    payInvoice: async ({ invoice, amountMsat }) => {
      try {
        const paid = await payRefund(invoice, amountMsat ?? 0);
        return { preimage: paid.preimage, feesPaidMsat: 0 };
      } catch (err) {
        // Silence or a dropped socket (503) after pay_invoice: the outcome is unknown.
        if (err instanceof ProblemError && err.status === 503)
          throw new PaymentTimeoutError(undefined, { cause: err });
        throw err;
      }
    },
    ...(lookupRefund && { lookupPayment: lookupRefund }),
  };
}
