import type { StoreBindings } from "../store/index.ts";
import type { Store } from "../store/Store.ts";
import type { Config, ConfigVars } from "./config.ts";
import type { MerchantDO } from "./merchant/MerchantDO.ts";
import type { GatewayLogFields } from "./middleware/requestLog/index.ts";

/** What a merchant's Durable Object is given: the configuration and the Store. */
export type MerchantBindings = ConfigVars & StoreBindings;

/** The Worker's bindings, as declared in wrangler.toml and set as secrets. */
export type Bindings = MerchantBindings & {
  MERCHANT: DurableObjectNamespace<MerchantDO>;
  /** Workers rate-limit bindings (wrangler.toml `[[ratelimits]]`). */
  REGISTER_LIMIT: RateLimit;
  INVOICE_IP_LIMIT: RateLimit;
  INVOICE_MERCHANT_LIMIT: RateLimit;
  INVOICE_CLIENT_LIMIT: RateLimit;
  STATUS_LIMIT: RateLimit;
};

/** Per-request values set by the app's first middleware. */
export type Variables = {
  config: Config;
  store: Store;
  /** The merchant a request acts for, when a route knows it (for the request log). */
  merchantId?: string;
  /** What a gateway request did (for the request log). */
  gateway?: GatewayLogFields;
};

/** The one Hono environment type that flows through the app. */
export type Env = { Bindings: Bindings; Variables: Variables };
