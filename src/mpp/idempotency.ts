/**
 * Stored answers for `Idempotency-Key` retries (draft-httpauth-payment-01 §idempotency):
 * a paid credential is consumed once, so a client whose response was lost cannot pay
 * with it again; when it sent an `Idempotency-Key`, the server answers a retry of the
 * same request with the response it delivered, without running the handler again.
 * Bounded in time (`ttlSecs`) and size (`maxBodyBytes`); event streams are never stored
 * (reading one ahead of the client would bill events nobody asked for yet).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes } from "@noble/hashes/utils.js";
import { decodeBytes, encodeBytes } from "../protocol/mpp/Base64Url.ts";
import { isRecord } from "../protocol/Schema.ts";
import type { Store } from "../store/Store.ts";
import { keysOf } from "./keys.ts";

/** Options of the handler's idempotent replay. */
export type IdempotencyOptions = {
  /** Where delivered answers are kept; share it between instances of one server. */
  store: Store;
  /** How long an answer is kept, default 86 400 s. */
  ttlSecs?: number;
  /** Largest body kept, default 64 KiB; a larger answer is sent but not stored. */
  maxBodyBytes?: number;
};

/** Longest `Idempotency-Key` accepted (draft-ietf-httpapi-idempotency-key-header: a short token). */
const MAX_KEY_CHARS = 255;
const encoder = new TextEncoder();

type Stored = { fingerprint: string; status: number; headers: [string, string][]; body: string };

/** One request's view of the idempotency store: look up a stored answer, or store the one delivered. */
export class IdempotentRequest {
  readonly #store: Store;
  readonly #key: string;
  readonly #fingerprint: string;
  readonly #ttlSecs: number;
  readonly #maxBodyBytes: number;

  private constructor(options: IdempotencyOptions, key: string, fingerprint: string) {
    this.#store = options.store;
    this.#key = key;
    this.#fingerprint = fingerprint;
    this.#ttlSecs = options.ttlSecs ?? 86_400;
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  }

  /**
   * The view for `request` when it carries an `Idempotency-Key` and a credential; null
   * otherwise. The fingerprint covers method, URL, credential and body, so the same key
   * on a different request is never answered from the store.
   */
  static async of(
    options: IdempotencyOptions | undefined,
    scope: string,
    request: Request,
    credential: string,
  ): Promise<IdempotentRequest | null> {
    const key = request.headers.get("Idempotency-Key");
    if (!options || !key || key.length > MAX_KEY_CHARS) return null;
    const body = new Uint8Array(await request.clone().arrayBuffer());
    const head = encoder.encode(`${request.method}\n${request.url}\n${credential}\n`);
    const fingerprint = bytesToHex(sha256(concatBytes(head, body)));
    const storeKey = keysOf(scope).idempotency(bytesToHex(sha256(encoder.encode(key))));
    return new IdempotentRequest(options, storeKey, fingerprint);
  }

  /** The stored answer to this exact request, or null. */
  async recall(): Promise<Response | null> {
    const raw = await this.#store.get(this.#key);
    if (raw === null) return null;
    const stored: unknown = JSON.parse(raw);
    if (!isStored(stored) || stored.fingerprint !== this.#fingerprint) return null;
    // A copy on a fresh ArrayBuffer: what every runtime's BodyInit accepts.
    return new Response(stored.status === 204 ? null : new Uint8Array(decodeBytes(stored.body)), {
      status: stored.status,
      headers: stored.headers,
    });
  }

  /** Stores `response` (when small enough and not a stream) and returns an unread equivalent. */
  async keep(response: Response): Promise<Response> {
    const type = response.headers.get("Content-Type") ?? "";
    if (/^text\/event-stream/i.test(type) || response.status >= 300) return response;
    const read = await readBounded(response.body, this.#maxBodyBytes);
    const init = { status: response.status, statusText: response.statusText };
    if (read.rest) {
      return new Response(prepend(read.chunks, read.rest), { ...init, headers: response.headers });
    }
    const body = new Uint8Array(concatBytes(...read.chunks));
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => {
      headers.push([name, value]);
    });
    const stored: Stored = {
      fingerprint: this.#fingerprint,
      status: response.status,
      headers,
      body: encodeBytes(body),
    };
    // The first delivered answer wins; a concurrent one (another credential) is not stored.
    await this.#store.putIfAbsent(this.#key, JSON.stringify(stored), { ttlSecs: this.#ttlSecs });
    return new Response(response.status === 204 ? null : body, {
      ...init,
      headers: response.headers,
    });
  }
}

function isStored(value: unknown): value is Stored {
  return (
    isRecord(value) &&
    typeof value.fingerprint === "string" &&
    typeof value.status === "number" &&
    typeof value.body === "string" &&
    Array.isArray(value.headers) &&
    value.headers.every(
      (h) => Array.isArray(h) && typeof h[0] === "string" && typeof h[1] === "string",
    )
  );
}

/** Reads up to `max` bytes; `rest` is the unread remainder when the body was larger. */
async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<{ chunks: Uint8Array[]; rest: ReadableStreamDefaultReader<Uint8Array> | null }> {
  const chunks: Uint8Array[] = [];
  if (!body) return { chunks, rest: null };
  const reader = body.getReader();
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { chunks, rest: null };
    chunks.push(value);
    size += value.byteLength;
    if (size > max) return { chunks, rest: reader };
  }
}

/** A stream of the chunks already read followed by the rest of the reader. */
function prepend(
  chunks: Uint8Array[],
  rest: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const head = chunks[i++];
      if (head) return controller.enqueue(head);
      const { value, done } = await rest.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => rest.cancel(reason),
  });
}
