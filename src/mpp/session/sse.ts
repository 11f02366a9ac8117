import type { Sessions } from "./Sessions.ts";
import { type BudgetRefusal, StreamBudget } from "./streamBudget.ts";

/**
 * Per-chunk billing of a Server-Sent Events stream (draft-lightning-session-00
 * §Streaming and Per-Chunk Billing). Each chunk is paid just before it is sent, from
 * units the stream reserved out of the session balance (`StreamBudget`: one store write
 * per reservation, not per chunk); the reservation is settled when it runs out, on a
 * pause, and when the stream ends for any reason. A short balance pauses the stream
 * with `payment-need-topup` until a top-up, or another stream's released units (from
 * any instance), or the timeout. The body pulls only when the client reads
 * (high-water mark 0), so nothing is generated or billed ahead of the reader, and a
 * disconnect stops the generator.
 */

/** Options of `serve`; amounts are msat. */
export type ServeOptions = {
  sessions: Sessions;
  sessionId: string;
  /**
   * msat per event, at most the price the payer agreed to in the challenge (stored with
   * the session); default that price. A route can never bill more than was agreed.
   */
  amountPerUnitMsat?: number;
  /** The content, one event per string; a function gets a signal that aborts on disconnect. */
  generate: AsyncIterable<string> | ((signal: AbortSignal) => AsyncIterable<string>);
  /** How long a paused stream waits for a top-up (default 60 000 ms, the draft's RECOMMENDED 60 s). */
  topUpTimeoutMs?: number;
};

/** A parsed SSE event; `event` is "message" when the stream named none. */
export type SseEvent = { event: string; data: string };

const DEFAULT_TOP_UP_TIMEOUT_MS = 60_000;
const LINE_BREAK = /[\r\n]/;

/** A `text/event-stream` response that bills each chunk of `generate` to the session. */
export function serve(options: ServeOptions): Response {
  const abort = new AbortController();
  const meter = new Meter(options, abort.signal);
  const encoder = new TextEncoder();
  let step: Promise<unknown> = Promise.resolve();
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const send = (frame: string) => controller.enqueue(encoder.encode(frame));
        const pulled = meter.pull(send, () => abort.signal.aborted || controller.close());
        step = pulled;
        return pulled;
      },
      cancel() {
        // The client went away: wake a paused wait, then (after the step in flight, so a
        // settle never races a reserve) release the reservation and stop the generator.
        abort.abort();
        step
          .catch(() => {})
          .then(() => meter.end())
          .catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
    },
  });
}

/** One SSE event: an optional `event:` line, then one `data:` line per line of `data`. */
export function formatEvent(data: string, event?: string): string {
  const head = event ? `event: ${event}\n` : "";
  // Fast path for the common one-line chunk (this runs once per billed event).
  if (!LINE_BREAK.test(data)) return `${head}data: ${data}\n\n`;
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`);
  return `${head}${lines.join("")}\n`;
}

/** Parses an SSE byte stream into events (WHATWG HTML §9.2.6); breaking out cancels the body. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let finished = false;
  try {
    while (!finished) {
      const { value, done } = await reader.read();
      finished = done;
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const raw of lines) {
        const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n") };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const rest = colon < 0 ? "" : line.slice(colon + 1);
        const fieldValue = rest.startsWith(" ") ? rest.slice(1) : rest;
        if (field === "data") data.push(fieldValue);
        else if (field === "event") event = fieldValue;
      }
    }
  } finally {
    if (!finished) await reader.cancel();
    reader.releaseLock();
  }
}

/**
 * The frames of a billed stream: chunks, pauses, and the closing receipt. Driven by the
 * body's `pull` rather than an async generator, so a chunk paid from the reservation
 * costs one `take()` and no extra await.
 */
class Meter {
  readonly #options: ServeOptions;
  readonly #signal: AbortSignal;
  readonly #chunks: AsyncIterator<string>;
  #budget: StreamBudget | null = null;
  #ended = false;

  constructor(options: ServeOptions, signal: AbortSignal) {
    const { generate } = options;
    this.#options = options;
    this.#signal = signal;
    this.#chunks = (typeof generate === "function" ? generate(signal) : generate)[
      Symbol.asyncIterator
    ]();
  }

  /**
   * The stream's budget, priced at the session's agreed per-unit price
   * (draft-lightning-session-00 §Streaming: "reading the per-unit cost directly from the
   * echoed challenge request", stored at open), or the route's if lower.
   */
  async #start(): Promise<StreamBudget> {
    const { sessions, sessionId, amountPerUnitMsat: asked } = this.#options;
    const agreed = (await sessions.get(sessionId))?.amountPerUnitMsat;
    const unit = Math.min(asked ?? agreed ?? 0, agreed ?? asked ?? 0);
    if (!(unit > 0)) throw new RangeError(`session ${sessionId} is unknown and no price was given`);
    this.#budget = new StreamBudget(sessions, sessionId, unit);
    return this.#budget;
  }

  /** Sends the next frame(s), or calls `close` once the stream is over and its reservation settled. */
  async pull(send: (frame: string) => void, close: () => void): Promise<void> {
    try {
      const budget = this.#budget ?? (await this.#start());
      const next = await this.#chunks.next();
      if (!next.done && !this.#signal.aborted) {
        const paid = budget.take() || (await this.#pay(budget, send));
        if (paid) return send(formatEvent(next.value));
        await this.end();
        return close();
      }
      if (!this.#signal.aborted) {
        // The receipt goes out after the unused rest is back in the balance.
        await budget.settle();
        send(this.#receipt(budget));
        send(formatEvent("[DONE]"));
      }
      await this.end();
      close();
    } catch (err) {
      await this.end();
      throw err;
    }
  }

  /** Settles the reservation and stops the generator, once; every way a stream ends comes here. */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    try {
      await this.#budget?.settle();
    } finally {
      this.#budget?.release();
      await this.#chunks.return?.();
    }
  }

  /** Refills the reservation, pausing for a top-up while the balance is short; true once a unit pays for the chunk. */
  async #pay(budget: StreamBudget, send: (frame: string) => void): Promise<boolean> {
    const { sessions, sessionId } = this.#options;
    const price = budget.unitMsat;
    const topUpTimeoutMs = this.#options.topUpTimeoutMs ?? DEFAULT_TOP_UP_TIMEOUT_MS;
    let pausedUntil: number | null = null;
    do {
      // `refill` settles first, so a refusal's `balanceSpent` includes what this stream
      // delivered, and a paused stream holds nothing another stream could use.
      const refused = await budget.refill();
      if (!refused) continue;
      if (refused.reason !== "insufficient-balance") {
        // Not in the draft: the session was closed (by the client or the idle sweep).
        send(formatEvent(shortfall(sessionId, refused), "session-closed"));
        return false;
      }
      const now = Date.now();
      if (pausedUntil !== null && now >= pausedUntil) {
        // §session-timeout Event: emitted just before the server closes the held connection.
        send(formatEvent(shortfall(sessionId, refused), "session-timeout"));
        return false;
      }
      if (pausedUntil === null) {
        pausedUntil = now + topUpTimeoutMs;
        // §payment-need-topup Event: stop delivering, announce, hold the connection open.
        send(formatEvent(shortfall(sessionId, refused), "payment-need-topup"));
      }
      // Woken by a top-up or by another stream releasing reserved units.
      await sessions.waitForTopUp(sessionId, Math.max(0, pausedUntil - Date.now()), {
        atLeastMsat: price,
        signal: this.#signal,
      });
      if (this.#signal.aborted) return false;
    } while (!budget.take());
    return true;
  }

  /** §Streaming Receipt Event: exact totals of this stream, before the [DONE] sentinel. */
  #receipt(budget: StreamBudget): string {
    const { sessions, sessionId } = this.#options;
    const price = budget.unitMsat;
    const receipt = {
      method: "lightning",
      reference: sessionId,
      status: "success",
      timestamp: rfc3339(sessions.now()),
      spent: msatToSats(budget.units * price),
      units: budget.units,
    };
    return formatEvent(JSON.stringify(receipt), "payment-receipt");
  }
}

/**
 * The data of `payment-need-topup` / `session-timeout`. The draft's examples carry the
 * amounts as JSON numbers of sats (§payment-need-topup Event), so they are numbers here.
 */
function shortfall(sessionId: string, refused: BudgetRefusal): string {
  return JSON.stringify({
    sessionId,
    balanceSpent: msatToSats(refused.spentMsat),
    balanceRequired: msatToSats(refused.requiredMsat),
  });
}

/** Sats for an msat amount (fractional only when the price is not whole sats). */
export function msatToSats(msat: number): number {
  return msat / 1000;
}

/** RFC 3339 without fractional seconds, as the draft's examples write it. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
