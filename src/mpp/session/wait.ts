/**
 * Waiting for a session to change (draft-lightning-session-00 §Streaming: "Poll or
 * await an increase in session.depositSats"). A change made in this process wakes the
 * waiter at once through `Wakeups`; a change made by another instance sharing the store
 * is only seen by re-reading it, so the waiter also polls at a modest interval.
 */

/** In-process wake-ups per session id; owned by one `Sessions` instance, never global. */
export class Wakeups {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Calls `wake` on every `notify(id)` until the returned function unsubscribes it. */
  subscribe(id: string, wake: () => void): () => void {
    const set = this.#waiters.get(id) ?? new Set<() => void>();
    this.#waiters.set(id, set);
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.#waiters.get(id) === set) this.#waiters.delete(id);
    };
  }

  /** Wakes every waiter of `id`. */
  notify(id: string): void {
    for (const wake of this.#waiters.get(id) ?? []) wake();
  }
}

/** Options of `waitUntil`. */
export type WaitOptions = {
  /** true: done; false: give up (e.g. the session closed); null: keep waiting. */
  check: () => Promise<boolean | null>;
  /** Registers the in-process wake-up; returns its unsubscribe. */
  subscribe: (wake: () => void) => () => void;
  timeoutMs: number;
  pollIntervalMs: number;
  signal?: AbortSignal | undefined;
};

/** Resolves with `check`'s verdict, re-checking on every wake-up and poll; false on timeout or abort. */
export function waitUntil(options: WaitOptions): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    let poll: ReturnType<typeof setTimeout> | undefined;
    const finish = (outcome: boolean | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(poll);
      unsubscribe();
      options.signal?.removeEventListener("abort", abort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const check = () =>
      options.check().then(
        (verdict) => {
          if (verdict !== null) finish(verdict);
        },
        (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
      );
    const schedule = (): void => {
      poll = setTimeout(() => {
        void check().then(() => settled || schedule());
      }, options.pollIntervalMs);
    };
    const abort = () => finish(false);
    const deadline = setTimeout(() => finish(false), options.timeoutMs);
    const unsubscribe = options.subscribe(() => void check());
    options.signal?.addEventListener("abort", abort);
    if (options.signal?.aborted) finish(false);
    else {
      // A change that landed before this wait began (e.g. a top-up sent right after
      // `payment-need-topup`) has no wake-up left: look once now, not one poll later.
      void check();
      schedule();
    }
  });
}
