import type { StoreDO } from "../store/StoreDO.ts";
import type { MerchantDO } from "./merchant/MerchantDO.ts";

/** The Worker's bindings, as declared in wrangler.toml and set as secrets. */
export type Bindings = {
  MERCHANT: DurableObjectNamespace<MerchantDO>;
  STORE: DurableObjectNamespace<StoreDO>;
  /** "true" lets merchants use ws:// relays (dev and tests only). */
  ALLOW_INSECURE_RELAYS?: string;
};

/** The one Hono environment type that flows through the app. */
export type Env = { Bindings: Bindings };
