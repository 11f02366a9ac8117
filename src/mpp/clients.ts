/**
 * The MPP client pieces (draft-httpauth-payment-00 §client): the paying fetch and the
 * Lightning `charge` and `session` client methods, for the `ln402/client` entry.
 */

export {
  type ChargeProgress,
  type ChargeRefusal,
  ChargeRefusedError,
  type LightningChargeClientOptions,
  lightningChargeClient,
} from "./chargeClient.ts";
export {
  createPaymentFetch,
  type PaymentClientMethod,
  type PaymentFetch,
  type PaymentFetchOptions,
} from "./fetch.ts";
export {
  type ClientSession,
  type LightningSessionClient,
  type LightningSessionClientOptions,
  lightningSessionClient,
  type Send,
  SessionClientError,
  type SessionProgress,
} from "./session/client.ts";
export { readEvents, type SseEvent } from "./session/sse.ts";
