import type { Store } from "../store/Store.ts";
import type { StoreDO } from "../store/StoreDO.ts";
import type { Config } from "./config.ts";
import type { MerchantDO } from "./merchant/MerchantDO.ts";

/** The Worker's bindings, as declared in wrangler.toml and set as secrets. */
export type Bindings = {
  MERCHANT: DurableObjectNamespace<MerchantDO>;
  STORE: DurableObjectNamespace<StoreDO>;
  /** "true" lets merchants use ws:// relays (dev and tests only). */
  ALLOW_INSECURE_RELAYS?: string;
  /** "development" enables dev defaults (a fixed SECRETS_KEY when none is set). */
  LN402_ENV?: string;
  /** Secret: 64 hex chars, the AES-GCM key for NWC strings at rest. */
  SECRETS_KEY?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  /** Secret: an NWC string; when set, `GET /demo/quote` sells quotes into that wallet. */
  DEMO_NWC_SECRET?: string;
  WALLET_TIMEOUT_MS?: string;
  IDLE_DISCONNECT_MS?: string;
  PING_INTERVAL_MS?: string;
  /** Workers rate-limit bindings (wrangler.toml `[[ratelimits]]`). */
  REGISTER_LIMIT: RateLimit;
  INVOICE_IP_LIMIT: RateLimit;
  INVOICE_MERCHANT_LIMIT: RateLimit;
};

/** Per-request values set by the app's first middleware. */
export type Variables = {
  config: Config;
  store: Store;
  /** The merchant a request acts for, when a route knows it (for the request log). */
  merchantId?: string;
};

/** The one Hono environment type that flows through the app. */
export type Env = { Bindings: Bindings; Variables: Variables };
