import type { Store } from "../../store/Store.ts";
import type { Keys } from "../keys.ts";
import { ActiveIndexSchema, parseStored } from "./state.ts";

const MAX_CAS_ATTEMPTS = 10_000;

/**
 * The ids of sessions that may still need an idle close or a refund, in one store key
 * updated only by compare-and-swap. It changes on open and close, never per deduction,
 * so it is not a hot key; deadlines are read from each session when sweeping.
 */
export class ActiveIndex {
  readonly #store: Store;
  readonly #key: string;

  constructor(store: Store, keys: Keys) {
    this.#store = store;
    this.#key = keys.active;
  }

  /** The indexed session ids. */
  async ids(): Promise<string[]> {
    const raw = await this.#store.get(this.#key);
    return raw === null ? [] : parseStored(raw, ActiveIndexSchema, this.#key);
  }

  /** Adds `id` (no-op when present). */
  add(id: string): Promise<void> {
    return this.#change((ids) => (ids.includes(id) ? null : [...ids, id]));
  }

  /** Removes `id` (no-op when absent). */
  remove(id: string): Promise<void> {
    return this.#change((ids) => (ids.includes(id) ? ids.filter((x) => x !== id) : null));
  }

  async #change(change: (ids: string[]) => string[] | null): Promise<void> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.#store.get(this.#key);
      const next = change(raw === null ? [] : parseStored(raw, ActiveIndexSchema, this.#key));
      if (next === null) return;
      if (await this.#store.compareAndSwap(this.#key, raw, JSON.stringify(next))) return;
    }
    throw new Error("session index: too much write contention, gave up");
  }
}
