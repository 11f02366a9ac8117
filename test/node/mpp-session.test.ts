import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { Sessions } from "../../src/mpp/session/Sessions.ts";
import { MAX_BATCH, readEvents, type SseEvent, serve } from "../../src/mpp/session/sse.ts";
import type {
  LightningProvider,
  PayInvoiceArgs,
  PaymentResult,
} from "../../src/providers/LightningProvider.ts";
import { MockLightningNetwork, MockLightningProvider } from "../../src/providers/mock.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";

/**
 * The Lightning session engine (draft-lightning-session-00) over a shared store: balances
 * that never overdraw, proofs consumed once, a refund paid at most once and reported as
 * it went, idle expiry from stored state, and per-chunk SSE billing with top-up pauses.
 * Money moves on the in-memory mock network, so the payer's balance shows each refund.
 */

const UNIT = 1_000; // msat per unit (1 sat)

/** Test double: forwards to a real provider and counts the payments it was asked to make. */
class CountingProvider implements LightningProvider {
  readonly payments: PayInvoiceArgs[] = [];
  readonly #inner: LightningProvider;
  constructor(inner: LightningProvider) {
    this.#inner = inner;
  }
  createInvoice(args: Parameters<LightningProvider["createInvoice"]>[0]) {
    return this.#inner.createInvoice(args);
  }
  payInvoice(args: PayInvoiceArgs): Promise<PaymentResult> {
    this.payments.push(args);
    return this.#inner.payInvoice(args);
  }
  lookupInvoice(paymentHash: string) {
    return this.#inner.lookupInvoice(paymentHash);
  }
}

const randomHash = () => bytesToHex(randomBytes(32));

function setup(options: { failRefunds?: boolean } = {}) {
  let nowMs = Date.UTC(2026, 2, 15, 12);
  const clock = {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
  const mockNetwork = new MockLightningNetwork({ now: clock.now });
  const merchant = new CountingProvider(
    new MockLightningProvider({ mockNetwork, failOnPay: options.failRefunds ?? false }),
  );
  const payer = new MockLightningProvider({ mockNetwork, balanceMsat: 0 });
  const store = new MemoryStore({ now: clock.now });
  const instance = () =>
    new Sessions({ store, provider: merchant, now: clock.now, pollIntervalMs: 5 });
  const sessions = instance();
  async function open(depositUnits: number, idleTimeoutSecs = 300) {
    const refundTo = await payer.createInvoice({ amountMsat: 0, expirySecs: 30 * 86_400 });
    const sessionId = randomHash();
    const opened = await sessions.open({
      sessionId,
      depositMsat: depositUnits * UNIT,
      returnInvoice: refundTo.invoice,
      amountPerUnitMsat: UNIT,
      idleTimeoutSecs,
    });
    expect(opened.ok).toBe(true);
    return sessionId;
  }
  return { clock, merchant, payer, store, sessions, instance, open };
}

describe("Sessions: balances", () => {
  it("behavior: deducts down to zero, then refuses without changing the balance", async () => {
    const { sessions, open } = setup();
    const id = await open(3);
    for (const left of [2, 1, 0]) {
      expect(await sessions.deduct(id, UNIT)).toEqual({
        ok: true,
        balanceMsat: left * UNIT,
        spentMsat: (3 - left) * UNIT,
      });
    }
    expect(await sessions.deduct(id, UNIT)).toEqual({
      ok: false,
      reason: "insufficient-balance",
      balanceMsat: 0,
      requiredMsat: UNIT,
      spentMsat: 3 * UNIT,
    });
    expect(await sessions.balance(id)).toBe(0);
  });

  it("behavior: 300 concurrent deductions from two instances take exactly the balance", async () => {
    const { sessions, instance, open } = setup();
    const id = await open(100);
    const other = instance();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => (i % 2 ? sessions : other).deduct(id, UNIT)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(100);
    expect(Math.min(...results.map((r) => r.balanceMsat))).toBe(0);
    expect(await sessions.get(id)).toMatchObject({ balanceMsat: 0, spentMsat: 100 * UNIT });
  });

  it("behavior: a top-up is credited once; its replay is refused", async () => {
    const { sessions, open } = setup();
    const id = await open(2);
    const topUpHash = randomHash();
    expect(await sessions.topUp(id, topUpHash, 5 * UNIT)).toEqual({
      ok: true,
      balanceMsat: 7 * UNIT,
    });
    expect(await sessions.topUp(id, topUpHash, 5 * UNIT)).toEqual({
      ok: false,
      reason: "payment-consumed",
    });
    expect(await sessions.topUp(id, id, 5 * UNIT)).toEqual({
      ok: false,
      reason: "payment-consumed",
    });
    expect(await sessions.balance(id)).toBe(7 * UNIT);
  });

  it("error: an open is refused for a replayed deposit, a used top-up hash, or a closed session", async () => {
    const { sessions, open } = setup();
    const id = await open(2);
    const again = { depositMsat: UNIT, returnInvoice: "lnbcrt1", amountPerUnitMsat: UNIT };
    const args = { ...again, idleTimeoutSecs: 300 };
    expect(await sessions.open({ ...args, sessionId: id })).toEqual({
      ok: false,
      reason: "session-exists",
    });
    const topUpHash = randomHash();
    await sessions.topUp(id, topUpHash, UNIT);
    expect(await sessions.open({ ...args, sessionId: topUpHash })).toEqual({
      ok: false,
      reason: "deposit-consumed",
    });
    await sessions.close(id);
    expect(await sessions.open({ ...args, sessionId: id })).toMatchObject({ ok: false });
    expect(await sessions.deduct(id, UNIT)).toMatchObject({ ok: false, reason: "session-closed" });
    expect(await sessions.topUp(id, randomHash(), UNIT)).toMatchObject({
      reason: "session-closed",
    });
  });

  it("behavior: a waiter on another instance sees a top-up by polling the shared store", async () => {
    const { sessions, instance, open } = setup();
    const id = await open(1);
    const waiting = instance().waitForTopUp(id, 10_000, { atLeastMsat: 2 * UNIT });
    await sessions.topUp(id, randomHash(), UNIT);
    expect(await waiting).toBe(true);
  });
});

describe("Sessions: close and refund", () => {
  it("behavior: two concurrent closes pay the refund once and report the same outcome", async () => {
    const { sessions, merchant, payer, open } = setup();
    const id = await open(10);
    await sessions.deduct(id, 3 * UNIT);
    const [a, b] = await Promise.all([sessions.close(id), sessions.close(id)]);
    for (const result of [a, b]) {
      expect(result).toMatchObject({ ok: true, refundMsat: 7 * UNIT, refundStatus: "succeeded" });
    }
    expect(merchant.payments).toHaveLength(1);
    expect(payer.balanceMsat()).toBe(7 * UNIT);
    expect(await sessions.close(id)).toMatchObject({
      alreadyClosed: true,
      refundStatus: "succeeded",
    });
    expect(merchant.payments).toHaveLength(1);
  });

  it("behavior: closes on two instances at once still pay once", async () => {
    const { sessions, instance, merchant, payer, open } = setup();
    const id = await open(4);
    const results = await Promise.all([sessions.close(id), instance().close(id)]);
    expect(results.map((r) => r.ok && r.refundStatus)).toEqual(["succeeded", "succeeded"]);
    expect(merchant.payments).toEqual([expect.objectContaining({ amountMsat: 4 * UNIT })]);
    expect(payer.balanceMsat()).toBe(4 * UNIT);
  });

  it("error: a failed refund is reported as failed, and a retried close does not pay again", async () => {
    const { sessions, merchant, payer, open } = setup({ failRefunds: true });
    const id = await open(5);
    expect(await sessions.close(id)).toMatchObject({
      refundMsat: 5 * UNIT,
      refundStatus: "failed",
    });
    expect(await sessions.close(id)).toMatchObject({
      refundStatus: "failed",
      alreadyClosed: true,
    });
    expect(merchant.payments).toHaveLength(1);
    expect(payer.balanceMsat()).toBe(0);
  });

  it("behavior: nothing left to refund is skipped without a payment", async () => {
    const { sessions, merchant, open } = setup();
    const id = await open(2);
    await sessions.deduct(id, 2 * UNIT);
    expect(await sessions.close(id)).toMatchObject({ refundMsat: 0, refundStatus: "skipped" });
    expect(merchant.payments).toHaveLength(0);
  });

  it("behavior: an idle session is closed and refunded by a sweep from a fresh instance", async () => {
    const { sessions, instance, clock, payer, open } = setup();
    const idle = await open(10, 300);
    const busy = await open(10, 300);
    await sessions.deduct(idle, 4 * UNIT);
    clock.advance(200_000);
    await sessions.deduct(busy, UNIT);
    expect(await sessions.nextIdleDeadline()).toBe(clock.now() + 100_000);
    clock.advance(99_000);
    expect(await instance().closeIdle()).toEqual([]);
    clock.advance(1_000);
    const restarted = instance();
    expect(await restarted.closeIdle()).toEqual([
      expect.objectContaining({ sessionId: idle, refundMsat: 6 * UNIT, closeReason: "idle" }),
    ]);
    expect(payer.balanceMsat()).toBe(6 * UNIT);
    expect((await sessions.get(idle))?.status).toBe("closed");
    expect((await sessions.get(busy))?.status).toBe("open");
    expect(await restarted.closeIdle()).toEqual([]);
  });
});

/** Reads every event of a stream, acting on each as it arrives. */
async function collect(
  events: AsyncGenerator<SseEvent>,
  onEvent: (e: SseEvent) => Promise<void> | void = () => {},
): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  for await (const e of events) {
    seen.push(e);
    await onEvent(e);
  }
  return seen;
}

/** What a generator did: how many chunks were asked of it, and a signal that it stopped. */
type GeneratorLog = { pulled: number; stopped: Promise<void>; stop: () => void };

function generatorLog(): GeneratorLog {
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  return { pulled: 0, stopped, stop };
}

/** `n` chunks at once, as one batch (what one read of an upstream might bring). */
async function* batch(n: number, log: GeneratorLog = generatorLog()) {
  try {
    log.pulled = n;
    yield Array.from({ length: n }, (_, i) => `chunk ${i + 1}`);
  } finally {
    log.stop();
  }
}

async function* chunks(n: number, log: GeneratorLog = generatorLog()) {
  try {
    for (let i = 1; i <= n; i++) {
      log.pulled = i;
      yield `chunk ${i}`;
    }
  } finally {
    log.stop();
  }
}

describe("SSE billing", () => {
  it("behavior: 10 chunks on a balance of 6 pause for a top-up, resume, and end with a receipt", async () => {
    const { sessions, open } = setup();
    const id = await open(6);
    const response = serve({
      sessions,
      sessionId: id,
      amountPerUnitMsat: UNIT,
      generate: chunks(10),
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const body = response.body;
    if (!body) throw new Error("no body");
    const seen = await collect(readEvents(body), async (e) => {
      if (e.event === "payment-need-topup") await sessions.topUp(id, randomHash(), 4 * UNIT);
    });
    const names = seen.map((e) => (e.event === "message" ? e.data : e.event));
    expect(names).toEqual([
      ...[1, 2, 3, 4, 5, 6].map((i) => `chunk ${i}`),
      "payment-need-topup",
      ...[7, 8, 9, 10].map((i) => `chunk ${i}`),
      "payment-receipt",
      "[DONE]",
    ]);
    const need = seen.find((e) => e.event === "payment-need-topup");
    expect(JSON.parse(need?.data ?? "")).toEqual({
      sessionId: id,
      balanceSpent: 6,
      balanceRequired: 1,
    });
    const receipt = JSON.parse(seen.find((e) => e.event === "payment-receipt")?.data ?? "");
    expect(receipt).toEqual({
      method: "lightning",
      reference: id,
      status: "success",
      timestamp: "2026-03-15T12:00:00Z",
      spent: 10,
      units: 10,
    });
    expect(await sessions.balance(id)).toBe(0);
  });

  it("behavior: without a top-up the stream ends with session-timeout", async () => {
    const { sessions, open } = setup();
    const id = await open(2);
    const response = serve({
      sessions,
      sessionId: id,
      amountPerUnitMsat: UNIT,
      generate: chunks(5),
      topUpTimeoutMs: 30,
    });
    const seen = await collect(readEvents(response.body as ReadableStream<Uint8Array>));
    expect(seen.map((e) => e.event)).toEqual([
      "message",
      "message",
      "payment-need-topup",
      "session-timeout",
    ]);
    expect(JSON.parse(seen[3]?.data ?? "")).toEqual({
      sessionId: id,
      balanceSpent: 2,
      balanceRequired: 1,
    });
  });

  it("behavior: two concurrent streams on one session bill no more than its balance", async () => {
    const { sessions, open } = setup();
    const id = await open(25);
    const stream = () =>
      collect(
        readEvents(
          serve({
            sessions,
            sessionId: id,
            amountPerUnitMsat: UNIT,
            generate: chunks(20),
            topUpTimeoutMs: 30,
          }).body as ReadableStream<Uint8Array>,
        ),
      );
    const [a, b] = await Promise.all([stream(), stream()]);
    const delivered = [...a, ...b].filter((e) => e.event === "message").length;
    expect(delivered).toBe(25);
    expect(await sessions.get(id)).toMatchObject({ balanceMsat: 0, units: 25 });
  });

  it("behavior: a client disconnect stops the generator and billing, even while paused", async () => {
    const { sessions, open } = setup();
    const id = await open(3);
    const log = generatorLog();
    const response = serve({
      sessions,
      sessionId: id,
      amountPerUnitMsat: UNIT,
      generate: chunks(100, log),
    });
    const seen: string[] = [];
    for await (const e of readEvents(response.body as ReadableStream<Uint8Array>)) {
      seen.push(e.event);
      if (e.event === "payment-need-topup") break;
    }
    expect(seen).toEqual(["message", "message", "message", "payment-need-topup"]);
    await log.stopped;
    expect(log.pulled).toBe(4);
    expect(await sessions.get(id)).toMatchObject({ units: 3, balanceMsat: 0 });
  });

  it("behavior: a chunk with newlines is sent as one data line per line and read back whole", async () => {
    const { sessions, open } = setup();
    const id = await open(2);
    async function* multiline() {
      yield "line one\nline two\r\nline three";
    }
    const stream = () =>
      serve({ sessions, sessionId: id, amountPerUnitMsat: UNIT, generate: multiline() });
    const text = await stream().text();
    expect(text.startsWith("data: line one\ndata: line two\ndata: line three\n\n")).toBe(true);
    const [first] = await collect(readEvents(stream().body as ReadableStream<Uint8Array>));
    expect(first).toEqual({ event: "message", data: "line one\nline two\nline three" });
  });
});

describe("SSE billing from reservations", () => {
  const body = (response: Response) => response.body as ReadableStream<Uint8Array>;

  it("behavior: two concurrent streams on a small balance deliver exactly its units and never overdraw", async () => {
    const { sessions, open } = setup();
    const id = await open(7);
    const balances: number[] = [];
    const stream = () =>
      collect(
        readEvents(
          body(
            serve({
              sessions,
              sessionId: id,
              amountPerUnitMsat: UNIT,
              generate: chunks(50),
              topUpTimeoutMs: 30,
            }),
          ),
        ),
        async () => {
          const s = await sessions.get(id);
          balances.push(s?.balanceMsat ?? -1, s?.reservedMsat ?? -1);
        },
      );
    const [a, b] = await Promise.all([stream(), stream()]);
    const delivered = [...a, ...b].filter((e) => e.event === "message").length;
    expect(delivered).toBe(7);
    expect(Math.min(...balances)).toBeGreaterThanOrEqual(0);
    expect(await sessions.get(id)).toMatchObject({
      balanceMsat: 0,
      reservedMsat: 0,
      spentMsat: 7 * UNIT,
      units: 7,
    });
  });

  it("behavior: a stream that ends early returns its unused reservation and its receipt is exact", async () => {
    const { sessions, open } = setup();
    const id = await open(100);
    // Reservations of 1, 2, 4 and 8 units: the last one is only partly used by 10 chunks.
    const seen = await collect(
      readEvents(
        body(serve({ sessions, sessionId: id, amountPerUnitMsat: UNIT, generate: chunks(10) })),
      ),
    );
    const receipt = JSON.parse(seen.find((e) => e.event === "payment-receipt")?.data ?? "");
    expect(receipt).toMatchObject({ spent: 10, units: 10 });
    expect(await sessions.get(id)).toMatchObject({
      balanceMsat: 90 * UNIT,
      reservedMsat: 0,
      spentMsat: 10 * UNIT,
      units: 10,
    });
  });

  it("behavior: a disconnect mid-reservation settles what was delivered and releases the rest", async () => {
    const { sessions, open } = setup();
    const id = await open(100);
    const log = generatorLog();
    const response = serve({
      sessions,
      sessionId: id,
      amountPerUnitMsat: UNIT,
      generate: chunks(100, log),
    });
    let read = 0;
    for await (const _ of readEvents(body(response))) if (++read === 5) break;
    await log.stopped; // the reservation is settled before the generator is stopped
    expect(await sessions.get(id)).toMatchObject({
      balanceMsat: 95 * UNIT,
      reservedMsat: 0,
      units: 5,
    });
  });

  it("behavior: a batch is billed event by event and written at most MAX_BATCH events at a time", async () => {
    const { sessions, open } = setup();
    const id = await open(200);
    const response = serve({ sessions, sessionId: id, generate: batch(100) });
    const reader = body(response).getReader();
    const perWrite: number[] = [];
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const chunk = decoder.decode(value);
      text += chunk;
      const events = chunk.match(/^data: chunk \d+$/gm)?.length ?? 0;
      if (events > 0) perWrite.push(events);
    }
    expect(perWrite.reduce((a, b) => a + b, 0)).toBe(100);
    expect(Math.max(...perWrite)).toBe(MAX_BATCH);
    expect(perWrite.length).toBeLessThan(100);
    expect(text.match(/^data: chunk (\d+)$/gm)).toEqual(
      Array.from({ length: 100 }, (_, i) => `data: chunk ${i + 1}`),
    );
    expect(await sessions.get(id)).toMatchObject({ balanceMsat: 100 * UNIT, units: 100 });
  });

  it("behavior: a disconnect after one write of a batch bills that write's events only", async () => {
    const { sessions, open } = setup();
    const id = await open(200);
    const log = generatorLog();
    const response = serve({ sessions, sessionId: id, generate: batch(100, log) });
    const reader = body(response).getReader();
    let written = 0;
    while (written === 0) {
      const { value } = await reader.read();
      written = new TextDecoder().decode(value).match(/^data: chunk \d+$/gm)?.length ?? 0;
    }
    await reader.cancel();
    await log.stopped;
    expect(written).toBeLessThan(100);
    expect(await sessions.get(id)).toMatchObject({
      balanceMsat: (200 - written) * UNIT,
      reservedMsat: 0,
      units: written,
    });
  });

  it("behavior: a batch on a short balance sends what is paid, pauses for a top-up, then the rest", async () => {
    const { sessions, open } = setup();
    const id = await open(6);
    const response = serve({ sessions, sessionId: id, generate: batch(10) });
    const seen = await collect(readEvents(body(response)), async (e) => {
      if (e.event === "payment-need-topup") await sessions.topUp(id, randomHash(), 4 * UNIT);
    });
    expect(seen.map((e) => (e.event === "message" ? e.data : e.event))).toEqual([
      ...[1, 2, 3, 4, 5, 6].map((i) => `chunk ${i}`),
      "payment-need-topup",
      ...[7, 8, 9, 10].map((i) => `chunk ${i}`),
      "payment-receipt",
      "[DONE]",
    ]);
    expect(await sessions.get(id)).toMatchObject({ balanceMsat: 0, units: 10 });
  });

  it("behavior: a crashed stream's reservation is refunded in full at close", async () => {
    const { sessions, payer, open } = setup();
    const id = await open(10);
    await sessions.deduct(id, 2 * UNIT);
    expect(await sessions.reserve(id, "crashed-stream", 64 * UNIT, UNIT)).toMatchObject({
      ok: true,
      reservedMsat: 8 * UNIT,
      balanceMsat: 0,
    });
    expect(await sessions.deduct(id, UNIT)).toMatchObject({ reason: "insufficient-balance" });
    expect(await sessions.close(id)).toMatchObject({ refundMsat: 8 * UNIT });
    expect(payer.balanceMsat()).toBe(8 * UNIT);
    expect(await sessions.get(id)).toMatchObject({ reservedMsat: 0, refundMsat: 8 * UNIT });
    expect(await sessions.settleReservation(id, "crashed-stream", 3 * UNIT)).toEqual({
      ok: false,
      reason: "session-closed",
    });
  });

  it("behavior: the idle sweep refunds a crashed stream's reservation too", async () => {
    const { sessions, instance, clock, payer, open } = setup();
    const id = await open(5, 60);
    await sessions.reserve(id, "crashed-stream", 3 * UNIT, UNIT);
    clock.advance(60_000);
    expect(await instance().closeIdle()).toEqual([
      expect.objectContaining({ sessionId: id, refundMsat: 5 * UNIT }),
    ]);
    expect(payer.balanceMsat()).toBe(5 * UNIT);
  });

  it("behavior: a settle that releases units wakes a stream waiting for balance", async () => {
    const { store, merchant, clock, open } = setup();
    const id = await open(4);
    // Polls too rarely to matter: only the in-process notifier can end this wait in time.
    const sessions = new Sessions({
      store,
      provider: merchant,
      now: clock.now,
      pollIntervalMs: 60_000,
    });
    await sessions.reserve(id, "holder", 4 * UNIT, UNIT);
    const waiting = sessions.waitForTopUp(id, 1_000, { atLeastMsat: UNIT });
    await new Promise((resolve) => setTimeout(resolve, 10)); // its first look saw nothing
    expect(await sessions.settleReservation(id, "holder", UNIT)).toEqual({
      ok: true,
      spentMsat: UNIT,
      balanceMsat: 3 * UNIT,
      releasedMsat: 3 * UNIT,
    });
    expect(await waiting).toBe(true);
    expect(await sessions.get(id)).toMatchObject({ units: 1, reservedMsat: 0 });
  });

  it("behavior: closing with 8 streams in flight bills every delivered event, refunds the rest exactly, and ends the streams", async () => {
    const { sessions, payer, open } = setup();
    const id = await open(1_000);
    const streams = Array.from({ length: 8 }, () =>
      readEvents(
        body(serve({ sessions, sessionId: id, amountPerUnitMsat: UNIT, generate: chunks(10_000) })),
      ),
    );
    const delivered = streams.map(() => 0);
    // Each stream reads 20 events, so each holds a partly used reservation.
    for (let k = 0; k < 20; k++) {
      for (const [i, stream] of streams.entries()) {
        if (!(await stream.next()).done) delivered[i] = (delivered[i] ?? 0) + 1;
      }
    }
    expect((await sessions.get(id))?.reservedMsat).toBeGreaterThan(0);
    const closing = sessions.close(id);
    const tails = streams.map(async (stream, i) => {
      const others: string[] = [];
      for await (const e of stream) {
        if (e.event === "message") delivered[i] = (delivered[i] ?? 0) + 1;
        else others.push(e.event);
      }
      return others;
    });
    const [closed, ...ends] = await Promise.all([closing, ...tails]);
    for (const others of ends) expect(others).toEqual(["session-closed"]);
    const billed = delivered.reduce((a, b) => a + b, 0);
    expect(billed).toBeGreaterThanOrEqual(160);
    expect(closed).toMatchObject({
      refundMsat: (1_000 - billed) * UNIT,
      refundStatus: "succeeded",
    });
    expect(await sessions.get(id)).toMatchObject({
      status: "closed",
      spentMsat: billed * UNIT,
      units: billed,
    });
    expect(payer.balanceMsat()).toBe((1_000 - billed) * UNIT);
  });
});
