/**
 * `ln402/mpp`: the MPP server core (draft-httpauth-payment-00) with the Lightning
 * `charge` and `session` methods, their errors, and the stores they keep state in.
 * The mppx adapters live in `./mppx.ts` (they import mppx) and are not re-exported here.
 */

export * from "../providers/errors.ts";
export type { LightningProvider } from "../providers/LightningProvider.ts";
export { MemoryStore } from "../store/MemoryStore.ts";
export type { Store } from "../store/Store.ts";
export { UpstashStore } from "../store/UpstashStore.ts";
export {
  ChargePayload,
  ChargeRequest,
  type LightningChargeServer,
  type LightningChargeServerOptions,
  lightningChargeServer,
} from "./charge.ts";
export {
  type ChargeRoute,
  createPaymentHandler,
  type HandleResult,
  type LightningServerMethod,
  type PaymentHandler,
  type PaymentHandlerOptions,
  type PaymentRoute,
  type RouteTerms,
  type SessionRoute,
  type VerifyResult,
  withReceipt,
} from "./server.ts";
export {
  type LightningSessionServer,
  type LightningSessionServerOptions,
  lightningSessionServer,
  type SessionServeOptions,
} from "./session/server.ts";
export { formatEvent, readEvents, type SseEvent } from "./session/sse.ts";
export type { CloseAnswer, SessionRequest } from "./session/wire.ts";
