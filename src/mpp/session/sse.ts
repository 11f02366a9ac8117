import type { DeductResult, Sessions } from "./Sessions.ts";

/**
 * Per-chunk billing of a Server-Sent Events stream (draft-lightning-session-00
 * §Streaming and Per-Chunk Billing). Each chunk is paid from the session balance just
 * before it is sent; a short balance pauses the stream with `payment-need-topup` until a
 * top-up (from any instance) or the timeout. The body pulls only when the client reads
 * (high-water mark 0), so nothing is generated or billed ahead of the reader, and a
 * disconnect stops the generator.
 */

/** Options of `serve`; amounts are msat. */
export type ServeOptions = {
  sessions: Sessions;
  sessionId: string;
  amountPerUnitMsat: number;
  /** The content, one event per string; a function gets a signal that aborts on disconnect. */
  generate: AsyncIterable<string> | ((signal: AbortSignal) => AsyncIterable<string>);
  /** How long a paused stream waits for a top-up (default 60 000 ms, the draft's RECOMMENDED 60 s). */
  topUpTimeoutMs?: number;
};

/** A parsed SSE event; `event` is "message" when the stream named none. */
export type SseEvent = { event: string; data: string };

const DEFAULT_TOP_UP_TIMEOUT_MS = 60_000;

/** A `text/event-stream` response that bills each chunk of `generate` to the session. */
export function serve(options: ServeOptions): Response {
  const abort = new AbortController();
  const frames = meter(options, abort.signal);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await frames.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      cancel() {
        // The client went away: wake a paused wait and stop the generator.
        abort.abort();
        frames.return(undefined).catch(() => {});
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
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`);
  return `${event ? `event: ${event}\n` : ""}${lines.join("")}\n`;
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

/** The SSE frames of a billed stream: chunks, pauses, and the closing receipt. */
async function* meter(options: ServeOptions, signal: AbortSignal): AsyncGenerator<string> {
  const { sessions, sessionId, amountPerUnitMsat: price } = options;
  const topUpTimeoutMs = options.topUpTimeoutMs ?? DEFAULT_TOP_UP_TIMEOUT_MS;
  const source =
    typeof options.generate === "function" ? options.generate(signal) : options.generate;
  const chunks = source[Symbol.asyncIterator]();
  let units = 0;
  let spentMsat = 0;
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done || signal.aborted) break;
      let pausedUntil: number | null = null;
      for (;;) {
        const paid = await sessions.deduct(sessionId, price);
        if (paid.ok) break;
        if (paid.reason !== "insufficient-balance") {
          // Not in the draft: the session was closed (by the client or the idle sweep).
          yield formatEvent(shortfall(sessionId, paid), "session-closed");
          return;
        }
        const now = Date.now();
        if (pausedUntil !== null && now >= pausedUntil) {
          // §session-timeout Event: emitted just before the server closes the held connection.
          yield formatEvent(shortfall(sessionId, paid), "session-timeout");
          return;
        }
        if (pausedUntil === null) {
          pausedUntil = now + topUpTimeoutMs;
          // §payment-need-topup Event: stop delivering, announce, hold the connection open.
          yield formatEvent(shortfall(sessionId, paid), "payment-need-topup");
        }
        await sessions.waitForTopUp(sessionId, Math.max(0, pausedUntil - Date.now()), {
          atLeastMsat: price,
          signal,
        });
        if (signal.aborted) return;
      }
      units += 1;
      spentMsat += price;
      yield formatEvent(next.value);
    }
    if (signal.aborted) return;
    // §Streaming Receipt Event: totals of this stream, before the [DONE] sentinel.
    const receipt = {
      method: "lightning",
      reference: sessionId,
      status: "success",
      timestamp: rfc3339(sessions.now()),
      spent: msatToSats(spentMsat),
      units,
    };
    yield formatEvent(JSON.stringify(receipt), "payment-receipt");
    yield formatEvent("[DONE]");
  } finally {
    await chunks.return?.();
  }
}

/**
 * The data of `payment-need-topup` / `session-timeout`. The draft's examples carry the
 * amounts as JSON numbers of sats (§payment-need-topup Event), so they are numbers here.
 */
function shortfall(sessionId: string, refused: Extract<DeductResult, { ok: false }>): string {
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
