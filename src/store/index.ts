import { DurableObjectStore } from "./DurableObjectStore.ts";
import type { Store } from "./Store.ts";
import type { StoreDO } from "./StoreDO.ts";
import { UpstashStore } from "./UpstashStore.ts";

export { DurableObjectStore } from "./DurableObjectStore.ts";
export { MemoryStore } from "./MemoryStore.ts";
export type { Store } from "./Store.ts";
export { UpstashStore } from "./UpstashStore.ts";

/** The bindings that choose and reach the store. */
export type StoreBindings = {
  STORE: DurableObjectNamespace<StoreDO>;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
};

// Plain http only to this machine: the devnet's Upstash stand-in and local development.
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The deployment's `Store`: Upstash when both `UPSTASH_REDIS_REST_*` variables are set,
 * otherwise the embedded Durable-Object store. Throws, naming the variable, when only
 * one is set (half a configuration would silently split data between two stores) or the
 * URL is not https:// (http:// is accepted for 127.0.0.1 and localhost only).
 */
export function createStore(bindings: StoreBindings): Store {
  const url = bindings.UPSTASH_REDIS_REST_URL?.trim() ?? "";
  const token = bindings.UPSTASH_REDIS_REST_TOKEN?.trim() ?? "";
  if (url === "" && token === "") return new DurableObjectStore(bindings.STORE);
  if (token === "") {
    throw new Error(
      "UPSTASH_REDIS_REST_URL is set but UPSTASH_REDIS_REST_TOKEN is not: set both to use Upstash, or neither for the built-in store",
    );
  }
  if (url === "") {
    throw new Error(
      "UPSTASH_REDIS_REST_TOKEN is set but UPSTASH_REDIS_REST_URL is not: set both to use Upstash, or neither for the built-in store",
    );
  }
  const parsed = URL.parse(url);
  const allowed =
    parsed !== null &&
    (parsed.protocol === "https:" ||
      (parsed.protocol === "http:" && LOCAL_HOSTS.has(parsed.hostname)));
  if (!allowed) {
    // The URL is not secret, but it is not echoed either: it may carry credentials.
    throw new Error(
      "UPSTASH_REDIS_REST_URL must be an https:// URL such as https://example.upstash.io (http:// is accepted only for 127.0.0.1 or localhost)",
    );
  }
  return new UpstashStore({ url, token });
}
