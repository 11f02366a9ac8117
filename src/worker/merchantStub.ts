import type { Bindings } from "./env.ts";

/** The Durable Object stub of one merchant. */
export function merchantStub(env: Bindings, merchantId: string) {
  return env.MERCHANT.get(env.MERCHANT.idFromName(merchantId));
}
