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
  /**
   * The content, one event per string; a function gets a signal that aborts on disconnect.
   * An array is a batch of events that are already there (e.g. what one read of an
   * upstream brought): each is billed as usual, and those paid go out in one write, at
   * most `MAX_BATCH` at a time, instead of one write each.
   */
  generate: AsyncIterable<Chunk> | ((signal: AbortSignal) => AsyncIterable<Chunk>);
  /** How long a paused stream waits for a top-up (default 60 000 ms, the draft's RECOMMENDED 60 s). */
  topUpTimeoutMs?: number;
};

/** A parsed SSE event; `event` is "message" when the stream named none. */
export type SseEvent = { event: string; data: string };

/** One event's data, or a batch of them. */
export type Chunk = string | readonly string[];

/**
 * The most events one write carries. A client that goes away has paid for what was
 * written, so a batch bounds how far billing may run ahead of its reading to this many.
 */
export const MAX_BATCH = 32;

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
  for await (const batch of readEventBatches(body)) yield* batch;
}

/**
 * `readEvents`, a batch at a time: the events completed by each read of the body, so a
 * reader can pass on at once what arrived together. Batches are never empty.
 */
export async function* readEventBatches(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<SseEvent[]> {
  const reader = body.getReader();
  const parser = new EventParser();
  let finished = false;
  try {
    while (!finished) {
      const { value, done } = await reader.read();
      finished = done;
      const batch = parser.push(value, done);
      if (batch.length > 0) yield batch;
    }
  } finally {
    if (!finished) await reader.cancel();
    reader.releaseLock();
  }
}

/** The SSE line parser (WHATWG HTML §9.2.6), fed a chunk at a time. */
class EventParser {
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #event = "";
  #data: string[] = [];

  /** The events completed by `chunk` (and, at the end, by the final flush). */
  push(chunk: Uint8Array | undefined, end: boolean): SseEvent[] {
    if (chunk) this.#buffer += this.#decoder.decode(chunk, { stream: true });
    if (end) this.#buffer += this.#decoder.decode();
    const lines = this.#buffer.split("\n");
    this.#buffer = lines.pop() ?? "";
    const batch: SseEvent[] = [];
    for (const raw of lines) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line === "") {
        if (this.#data.length > 0)
          batch.push({ event: this.#event || "message", data: this.#data.join("\n") });
        this.#event = "";
        this.#data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const rest = colon < 0 ? "" : line.slice(colon + 1);
      const fieldValue = rest.startsWith(" ") ? rest.slice(1) : rest;
      if (field === "data") this.#data.push(fieldValue);
      else if (field === "event") this.#event = fieldValue;
    }
    return batch;
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
  readonly #chunks: AsyncIterator<Chunk>;
  /** Events of a batch not sent yet: the stream paused for a top-up, or the batch was over MAX_BATCH. */
  #carried: readonly string[] = [];
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
      for (;;) {
        const events = this.#carried.length > 0 ? this.#carried : await this.#next();
        this.#carried = [];
        if (events === null || this.#signal.aborted) break;
        // Every pull sends something or ends the stream (a pull that sends nothing is
        // not called again), so an empty batch reads on.
        if (events.length === 0) continue;
        const sent = await this.#sendPaid(events, budget, send);
        if (sent) return;
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

  /** The next chunk of the generator as a batch, or null at its end. */
  async #next(): Promise<readonly string[] | null> {
    const next = await this.#chunks.next();
    if (next.done) return null;
    return typeof next.value === "string" ? [next.value] : next.value;
  }

  /**
   * Bills and sends the events of a batch, in one write: each is paid from the
   * reservation just before it is added. At a unit the reservation cannot pay, what is
   * paid goes out first and the rest waits for the next pull; the first event of a pull
   * may pause the stream for a top-up. False when the stream must end unpaid.
   */
  async #sendPaid(
    events: readonly string[],
    budget: StreamBudget,
    send: (frame: string) => void,
  ): Promise<boolean> {
    let frames = "";
    let count = 0;
    for (const data of events) {
      if (count === MAX_BATCH || (count > 0 && !budget.take())) break;
      if (count === 0 && !budget.take() && !(await this.#pay(budget, send))) return false;
      frames += formatEvent(data);
      count++;
    }
    this.#carried = events.slice(count);
    send(frames);
    return true;
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
