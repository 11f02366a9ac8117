import type { Sessions } from "./Sessions.ts";

/**
 * Closes idle sessions by itself (draft-lightning-session-00 §Server-Initiated Close)
 * with one timer armed for the earliest idle deadline in the store. The deadlines live
 * in the store, so a restarted process (or another instance) finds them again; the timer
 * only decides when to look. Activity only moves deadlines later, so a timer that fires
 * early closes nothing and re-arms for the new earliest deadline. A Durable Object does
 * the same from its alarm with `nextIdleDeadline` / `closeIdle` instead.
 */
export class IdleTimer {
  readonly #sessions: () => Sessions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor: number | null = null;
  #sweeping: Promise<void> | null = null;

  /** `sessions` is read at each sweep (the engine is replaced when its method is bound). */
  constructor(sessions: () => Sessions) {
    this.#sessions = sessions;
  }

  /** Re-arms the timer for the earliest deadline (call after a session opens). */
  async poke(): Promise<void> {
    const next = await this.#sessions().nextIdleDeadline();
    if (next === null || (this.#armedFor !== null && this.#armedFor <= next)) return;
    this.#arm(next);
  }

  /** Stops the timer (a sweep in progress finishes). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = null;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = at;
    const delayMs = Math.max(0, at - this.#sessions().now());
    this.#timer = setTimeout(() => void this.#sweep(), delayMs);
    // In Node, a pending sweep must not keep the process alive on its own.
    const handle: unknown = this.#timer;
    if (typeof handle === "object" && handle !== null && "unref" in handle) {
      (handle as { unref(): void }).unref();
    }
  }

  #sweep(): Promise<void> {
    this.#timer = undefined;
    this.#armedFor = null;
    this.#sweeping ??= (async () => {
      try {
        await this.#sessions().closeIdle();
      } finally {
        this.#sweeping = null;
        await this.poke();
      }
    })();
    return this.#sweeping;
  }
}
