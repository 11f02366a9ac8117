import { hexToBytes } from "@noble/hashes/utils.js";
import { ProblemError } from "../protocol/Errors.ts";

/**
 * The raw variables and secrets the configuration is read from (a part of the Worker's
 * bindings). Declared here, not in env.ts, so that config.ts imports nothing of the
 * Worker: env.ts → MerchantDO.ts → config.ts is then a chain, not a cycle.
 */
export type ConfigVars = {
  /** "true" lets merchants use ws:// relays (dev and tests only). */
  ALLOW_INSECURE_RELAYS?: string;
  /** "true" lets gateway routes use http:// and private or loopback upstreams (dev and tests only). */
  ALLOW_INSECURE_UPSTREAMS?: string;
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
};

/** The Worker's settings, parsed once from its bindings. Only this module reads raw env strings. */
export type Config = Readonly<{
  environment: "production" | "development";
  /** ws:// relays are accepted (dev and tests); production requires wss://. */
  allowInsecureRelays: boolean;
  /** Gateway upstreams may be http:// and private or loopback (dev and tests); production requires public https. */
  allowInsecureUpstreams: boolean;
  /** 32-byte AES-GCM key that encrypts NWC strings at rest. */
  secretsKey: Uint8Array;
  /** Upstash REST endpoint, or null for the embedded Durable-Object store. */
  upstash: Readonly<{ url: string; token: string }> | null;
  /** Per-call NIP-47 timeout: seconds, so a wallet that does not answer fails the HTTP request, not hangs it. */
  walletTimeoutMs: number;
  /** A connected merchant with nothing pending is disconnected after this long. */
  idleDisconnectMs: number;
  /** Relay liveness probe interval while connected. */
  pingIntervalMs: number;
}>;

/** Thrown when the deployment is misconfigured; names the variable, never its value. */
export class ConfigError extends ProblemError {
  /** The settings to set or fix (for `/health`). */
  readonly variables: readonly string[];
  constructor(detail: string, variables: readonly string[]) {
    super(500, "misconfigured", "Server misconfigured", detail);
    this.variables = variables;
  }
}

/**
 * A fixed key for local development only (`LN402_ENV=development` with no
 * SECRETS_KEY): dev data is throwaway, and `npm run dev` must work with no setup.
 * Never used when LN402_ENV is anything else.
 */
const DEV_SECRETS_KEY = "6c6e3430322d6465762d6f6e6c792d6e6f742d666f722d70726f64756374696f";

const cache = new WeakMap<object, Config>();

/** Parses (once per bindings object) and validates the configuration. */
export function getConfig(bindings: ConfigVars): Config {
  const cached = cache.get(bindings);
  if (cached) return cached;
  const config = parseConfig(bindings);
  cache.set(bindings, config);
  return config;
}

function parseConfig(env: ConfigVars): Config {
  const environment = env.LN402_ENV === "development" ? "development" : "production";
  const configured = env.SECRETS_KEY?.trim() ? env.SECRETS_KEY.trim() : undefined;
  const rawKey = configured ?? (environment === "development" ? DEV_SECRETS_KEY : undefined);
  if (rawKey === undefined || rawKey === "") {
    throw new ConfigError(
      "SECRETS_KEY is not set. Set it as a Worker secret: 64 hex characters (32 random bytes), e.g. `wrangler secret put SECRETS_KEY`.",
      ["SECRETS_KEY"],
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(rawKey)) {
    throw new ConfigError("SECRETS_KEY must be 64 hex characters (32 bytes).", ["SECRETS_KEY"]);
  }
  const url = env.UPSTASH_REDIS_REST_URL ?? "";
  const token = env.UPSTASH_REDIS_REST_TOKEN ?? "";
  if ((url === "") !== (token === "")) {
    throw new ConfigError(
      "Set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, or neither (embedded store).",
      [url === "" ? "UPSTASH_REDIS_REST_URL" : "UPSTASH_REDIS_REST_TOKEN"],
    );
  }
  return Object.freeze({
    environment,
    allowInsecureRelays: env.ALLOW_INSECURE_RELAYS === "true",
    allowInsecureUpstreams: env.ALLOW_INSECURE_UPSTREAMS === "true",
    secretsKey: hexToBytes(rawKey.toLowerCase()),
    upstash: url === "" ? null : Object.freeze({ url, token }),
    walletTimeoutMs: positiveInt(env.WALLET_TIMEOUT_MS, "WALLET_TIMEOUT_MS", 8_000),
    idleDisconnectMs: positiveInt(env.IDLE_DISCONNECT_MS, "IDLE_DISCONNECT_MS", 5 * 60_000),
    pingIntervalMs: positiveInt(env.PING_INTERVAL_MS, "PING_INTERVAL_MS", 30_000),
  });
}

function positiveInt(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new ConfigError(`${name} must be a positive integer.`, [name]);
  return value;
}
