import type { Store } from "./Store.ts";

/** How often `update` retries a lost race before it gives up. */
const MAX_ATTEMPTS = 8;

/**
 * The one read-modify-write loop over a Store: reads `key`, asks `fn` for the next value
 * (null deletes; `undefined` leaves it as is), and writes it only if nobody changed the
 * key meanwhile (compare-and-swap), retrying a lost race. Resolves with what was
 * written (or kept), or throws after `MAX_ATTEMPTS` lost races.
 */
export async function update(
  store: Store,
  key: string,
  fn: (current: string | null) => string | null | undefined,
  options?: { ttlSecs?: number },
): Promise<string | null> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await store.get(key);
    const next = fn(current);
    if (next === undefined || next === current) return current;
    if (await store.compareAndSwap(key, current, next, options)) return next;
  }
  throw new Error(`Store.update(${key}): too many concurrent changes`);
}
