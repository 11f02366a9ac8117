import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { createPaymentFetch } from "../../src/mpp/fetch.ts";
import { createPaymentHandler, type SessionRoute } from "../../src/mpp/server.ts";
import { lightningSessionClient } from "../../src/mpp/session/client.ts";
import { lightningSessionServer } from "../../src/mpp/session/server.ts";
import { readEvents, type SseEvent } from "../../src/mpp/session/sse.ts";
import * as Challenge from "../../src/protocol/mpp/Challenge.ts";
import * as Credential from "../../src/protocol/mpp/Credential.ts";
import * as Receipt from "../../src/protocol/mpp/Receipt.ts";
import { MockLightningNetwork, MockLightningProvider } from "../../src/providers/mock.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";

/**
 * lightning/session over HTTP, end to end (draft-lightning-session-00): a Hono app sells a
 * metered SSE stream through ln402's server core; the payer is ln402's session client on
 * another mock node of the same in-memory network, so every sat is accounted for in the
 * mock balances (test doubles, not Lightning nodes).
 */

const SECRET = "test-only-mpp-secret-0123456789abcdef";
const URL_ = "http://api.test/stream";
const P = "https://paymentauth.org/problems/";
const PAYER_START_MSAT = 1_000_000;
/** 2 sats per chunk, a 10-sat deposit: the 8-chunk stream runs dry after 5 chunks. */
const ROUTE: SessionRoute = { intent: "session", amount: "2", depositAmount: "10" };

async function* chunks(n: number) {
  for (let i = 1; i <= n; i++) yield `chunk ${i}`;
}

type Options = {
  failRefund?: boolean;
  requireBearerToken?: boolean;
  chunkSats?: number;
  /** Use Date.now (faked by the test) instead of a manual clock. */
  realClock?: boolean;
};

function setup(options: Options = {}) {
  const manual = { ms: Date.now() };
  const clock = options.realClock
    ? {
        get ms() {
          return Date.now();
        },
        set ms(_: number) {
          throw new Error("the real clock cannot be moved");
        },
      }
    : manual;
  const net = new MockLightningNetwork({ now: () => clock.ms });
  const merchant = new MockLightningProvider({
    mockNetwork: net,
    balanceMsat: 0,
    ...(options.failRefund && { failOnPay: true }),
  });
  const payer = new MockLightningProvider({ mockNetwork: net, balanceMsat: PAYER_START_MSAT });
  const store = new MemoryStore({ now: () => clock.ms });
  const method = lightningSessionServer({
    provider: merchant,
    store,
    now: () => clock.ms,
    ...(options.requireBearerToken && { requireBearerToken: true }),
  });
  const payments = createPaymentHandler({
    secretKey: SECRET,
    realm: "api.test",
    methods: [method],
    now: () => clock.ms,
  });
  const app = new Hono();
  app.get("/stream", async (c) => {
    const result = await payments.handle(c.req.raw, ROUTE);
    if (result.status === 402) return result.challenge;
    if (result.management) return result.management;
    const sessionId = result.receipt.reference;
    const satsPerChunk = options.chunkSats ?? 2;
    return result.withReceipt(method.serve({ sessionId, satsPerChunk, generate: chunks(8) }));
  });
  const sent: Request[] = [];
  const serve = async (req: Request) => {
    sent.push(req.clone());
    return app.fetch(req);
  };
  const client = lightningSessionClient(payer, { maxDepositSats: 50, now: () => clock.ms });
  const pay = createPaymentFetch({ methods: [client], fetch: serve });
  const send = (authorization: string) =>
    serve(new Request(URL_, { headers: { Authorization: authorization } }));
  /** A fresh challenge (a new deposit invoice) and the preimage of paying it. */
  const payFresh = async () => {
    const res = await serve(new Request(URL_));
    const [challenge] = Challenge.parseAll([res.headers.get("WWW-Authenticate") ?? ""]);
    if (!challenge) throw new Error("no challenge");
    const paid = await payer.payInvoice({ invoice: String(challenge.request.depositInvoice) });
    return { challenge, preimage: paid.preimage };
  };
  const open = async () => {
    const res = await pay(URL_);
    expect(res.status).toBe(200);
    const session = client.getSession();
    if (!session) throw new Error("no session");
    return { res, session };
  };
  return { clock, merchant, payer, method, client, serve, sent, pay, send, payFresh, open };
}

async function problem(res: Response) {
  expect(res.status).toBe(402);
  expect(res.headers.get("WWW-Authenticate")).toMatch(/intent="session"/);
  return ((await res.json()) as { type: string }).type;
}

describe("lightning/session over HTTP: ln402 server and ln402 client", () => {
  it("behavior: open, stream until dry, top up, resume, close; the payer gets back exactly deposit + top-up − spent", async () => {
    const t = setup();
    const { res: opened, session } = await t.open();
    // §open: the request that opens the session is served its content (billed from the deposit).
    expect(opened.headers.get("Content-Type")).toMatch(/text\/event-stream/);
    const openReceipt = Receipt.parse(opened.headers.get("Payment-Receipt") ?? "");
    expect(openReceipt).toMatchObject({ reference: session.sessionId, intent: "session" });
    expect(openReceipt.challengeId).toBe(session.challenge.id);
    const first: SseEvent[] = [];
    for await (const e of readEvents(opened.body ?? new ReadableStream())) {
      first.push(e);
      if (e.event === "message" && e.data === "chunk 2") break;
    }
    expect(first.map((e) => e.data)).toEqual(["chunk 1", "chunk 2"]);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the cancelled stream settles
    expect(await t.method.sessions.get(session.sessionId)).toMatchObject({ units: 2 });
    await t.client.topUp(t.serve, URL_);
    await t.method.sessions.deduct(session.sessionId, 6_000); // back to 10 sats left
    const before = t.sent.length;
    const stream = await t.pay(URL_);
    // The bearer credential went up front: one request, no unpaid 402 round trip.
    expect(t.sent.length - before).toBe(1);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("Content-Type")).toMatch(/text\/event-stream/);
    const events: SseEvent[] = [];
    for await (const e of readEvents(stream.body ?? new ReadableStream())) {
      events.push(e);
      if (e.event === "payment-need-topup") {
        expect(await t.client.topUp(t.serve, URL_)).toEqual({ balanceSats: 10, topUpSats: 10 });
        const answer = t.sent.at(-1);
        expect(
          answer && Credential.parse(answer.headers.get("Authorization") ?? "").payload.action,
        ).toBe("topUp");
      }
    }
    const data = events.filter((e) => e.event === "message").map((e) => e.data);
    expect(data).toEqual([...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `chunk ${i}`), "[DONE]"]);
    const pause = events.findIndex((e) => e.event === "payment-need-topup");
    expect(pause).toBe(5);
    expect(JSON.parse(events[pause]?.data ?? "")).toEqual({
      sessionId: session.sessionId,
      balanceSpent: 20, // 2 chunks + 6 sats deducted + 5 chunks
      balanceRequired: 2,
    });
    const receipt = events.find((e) => e.event === "payment-receipt");
    expect(JSON.parse(receipt?.data ?? "")).toMatchObject({ spent: 16, units: 8 });

    expect(await t.client.close(t.serve, URL_)).toEqual({
      refundSats: 4,
      refundStatus: "succeeded",
    });
    expect(t.client.getSession()).toBeNull();
    // 2 + 8 chunks at 2 sats, and the 6 sats taken directly: 26 of 30 deposited.
    expect(t.payer.balanceMsat()).toBe(PAYER_START_MSAT - 26_000);
    expect(t.merchant.balanceMsat()).toBe(26_000);
  });

  it("error: a replayed open is answered from its cache, and its proof opens nothing on another challenge", async () => {
    const t = setup();
    const { res, session } = await t.open();
    const again = await t.send(session.openCredential);
    expect(again.status).toBe(200);
    expect(again.headers.get("Payment-Receipt")).toBe(res.headers.get("Payment-Receipt"));
    const fresh = await t.payFresh();
    const replayed = Credential.serialize({
      challenge: fresh.challenge,
      payload: Credential.parse(session.openCredential).payload,
    });
    expect(await problem(await t.send(replayed))).toBe(`${P}lightning/invalid-preimage`);
    expect(await t.method.sessions.balance(session.sessionId)).toBe(10_000);
  });

  it("error: a replayed top-up credits once; its proof on another challenge or session is refused", async () => {
    const t = setup();
    const { session } = await t.open();
    const { challenge, preimage } = await t.payFresh();
    const payload = { action: "topUp", sessionId: session.sessionId, topUpPreimage: preimage };
    const credential = Credential.serialize({ challenge, payload });
    const first = await t.send(credential);
    expect(await first.json()).toEqual({
      status: "ok",
      sessionId: session.sessionId,
      balanceSats: 20,
      topUpSats: 10,
    });
    expect((await t.send(credential)).status).toBe(200);
    const other = await t.payFresh();
    const onOther = Credential.serialize({ challenge: other.challenge, payload });
    expect(await problem(await t.send(onOther))).toBe(`${P}lightning/invalid-preimage`);
    expect(await t.method.sessions.balance(session.sessionId)).toBe(20_000);
  });

  it("error: a replayed close refunds once; a close on another challenge is session-closed", async () => {
    const t = setup();
    const { session } = await t.open();
    const { sessionId, preimage, bearerToken } = session;
    const payload = { action: "close", sessionId, preimage, bearerToken };
    const credential = Credential.serialize({ challenge: session.challenge, payload });
    const first = await t.send(credential);
    expect(await first.json()).toEqual({
      status: "closed",
      sessionId: session.sessionId,
      refundSats: 10,
      refundStatus: "succeeded",
    });
    const closeReceipt = Receipt.parse(first.headers.get("Payment-Receipt") ?? "");
    expect(closeReceipt).toMatchObject({ refundSats: 10, refundStatus: "succeeded" });
    expect(closeReceipt.challengeId).toBe(session.challenge.id);
    const again = await t.send(credential);
    expect(again.headers.get("Payment-Receipt")).toBe(first.headers.get("Payment-Receipt"));
    const { challenge } = await t.payFresh();
    expect(await problem(await t.send(Credential.serialize({ challenge, payload })))).toBe(
      `${P}lightning/session-closed`,
    );
    // Deposit 10 + the unused 10 of payFresh paid out; 10 refunded, once.
    expect(t.payer.balanceMsat()).toBe(PAYER_START_MSAT - 10_000);
    expect(await problem(await t.pay(URL_))).toBe(`${P}lightning/session-closed`);
  });

  it("behavior: an idle session is closed and its whole deposit refunded", async () => {
    const t = setup();
    const { session } = await t.open();
    expect(await t.method.sessions.nextIdleDeadline()).toBe(t.clock.ms + 300_000);
    t.clock.ms += 299_000;
    expect(await t.method.sessions.closeIdle()).toEqual([]);
    t.clock.ms += 1_000;
    const [closed] = await t.method.sessions.closeIdle();
    expect(closed).toMatchObject({ refundMsat: 10_000, refundStatus: "succeeded" });
    expect(t.payer.balanceMsat()).toBe(PAYER_START_MSAT);
    // The opening challenge expired too: the client echoes the 402's fresh one.
    expect(t.client.authorization(URL_)).toBeNull();
    expect(await problem(await t.pay(URL_))).toBe(`${P}lightning/session-closed`);
    expect(session.sessionId).toBe(closed?.ok ? closed.sessionId : "");
  });

  it("error: a refund the merchant's node fails to pay is reported as failed, never succeeded", async () => {
    const t = setup({ failRefund: true });
    await t.open();
    const res = await t.client.close(t.serve, URL_);
    expect(res).toEqual({ refundSats: 10, refundStatus: "failed" });
    expect(t.payer.balanceMsat()).toBe(PAYER_START_MSAT - 10_000);
  });

  it("error: the client refuses a deposit above its cap and pays nothing; bearer stays on its origin", async () => {
    const t = setup();
    const capped = lightningSessionClient(t.payer, { maxDepositSats: 5 });
    const pay = createPaymentFetch({ methods: [capped], fetch: t.serve });
    await expect(pay(URL_)).rejects.toThrow(/above the limit/);
    expect(t.payer.balanceMsat()).toBe(PAYER_START_MSAT);
    await t.open();
    expect(t.client.authorization("http://elsewhere.test/stream")).toBeNull();
    expect(t.client.authorization(URL_)).toMatchObject({
      header: "Authorization",
      value: expect.stringMatching(/^Payment /),
    });
  });

  it("error: a forwarding node that learned the deposit preimage cannot spend or close the session", async () => {
    const t = setup();
    const { session } = await t.open();
    expect(session.bearerToken).toMatch(/^[0-9a-f]{64}$/);
    const { challenge } = await t.payFresh();
    const { sessionId, preimage } = session;
    for (const action of ["bearer", "close"]) {
      const payload = { action, sessionId, preimage };
      expect(await problem(await t.send(Credential.serialize({ challenge, payload })))).toBe(
        `${P}invalid-payload`,
      );
    }
    const stolen = { action: "bearer", sessionId, preimage, bearerToken: "00".repeat(32) };
    expect(await problem(await t.send(Credential.serialize({ challenge, payload: stolen })))).toBe(
      `${P}invalid-payload`,
    );
    expect(await t.method.sessions.get(sessionId)).toMatchObject({ status: "open", units: 0 });
    expect(await t.client.close(t.serve, URL_)).toEqual({
      refundSats: 10,
      refundStatus: "succeeded",
    });
  });

  it("behavior: a draft-only client (preimage bearer) still works when the token is not required", async () => {
    const t = setup();
    const { challenge, preimage } = await t.payFresh();
    const refund = await t.payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    const open = { action: "open", preimage, returnInvoice: refund.invoice };
    expect((await t.send(Credential.serialize({ challenge, payload: open }))).status).toBe(200);
    const sessionId = String(challenge.request.paymentHash);
    const bearer = { action: "bearer", sessionId, preimage };
    const res = await t.send(Credential.serialize({ challenge, payload: bearer }));
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/text\/event-stream/);
    await res.body?.cancel();
  });

  it("error: when the server requires a bearer token, a preimage-only open is refused and nothing is opened", async () => {
    const t = setup({ requireBearerToken: true });
    const { challenge, preimage } = await t.payFresh();
    expect(challenge.request.bearerToken).toBe("required");
    const refund = await t.payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    const open = { action: "open", preimage, returnInvoice: refund.invoice };
    const res = await t.send(Credential.serialize({ challenge, payload: open }));
    expect(await problem(res)).toBe(`${P}invalid-payload`);
    expect(await t.method.sessions.get(String(challenge.request.paymentHash))).toBeNull();
    // ln402's client registers a token and is served.
    const { session } = await t.open();
    expect(session.bearerToken).toMatch(/^[0-9a-f]{64}$/);
  });

  it("error: a route asking more per chunk than the payer agreed is billed the agreed price", async () => {
    const t = setup({ chunkSats: 5 });
    const { session } = await t.open();
    const stream = await t.pay(URL_);
    const events: SseEvent[] = [];
    for await (const e of readEvents(stream.body ?? new ReadableStream())) {
      events.push(e);
      if (e.event === "payment-need-topup") break;
    }
    // The payer agreed to 2 sats per chunk: the 10-sat deposit buys 5 chunks, not 2 at 5 sats.
    expect(events.filter((e) => e.event === "message")).toHaveLength(5);
    expect(JSON.parse(events.at(-1)?.data ?? "")).toMatchObject({
      balanceSpent: 10,
      balanceRequired: 2,
    });
    expect(await t.method.sessions.get(session.sessionId)).toMatchObject({
      spentMsat: 10_000,
      units: 5,
    });
  });

  it("behavior: after the opening challenge expires, bearer and close echo a fresh challenge and still work", async () => {
    const t = setup();
    const { session } = await t.open();
    const opening = session.challenge.id;
    t.clock.ms += 301_000;
    const stream = await t.pay(URL_);
    expect(stream.status).toBe(200);
    await stream.body?.cancel();
    const bearer = Credential.parse(t.sent.at(-1)?.headers.get("Authorization") ?? "");
    expect(bearer.payload.action).toBe("bearer");
    expect(bearer.challenge.id).not.toBe(opening);
    expect(Date.parse(bearer.challenge.expires ?? "")).toBeGreaterThan(t.clock.ms);
    expect(await t.client.close(t.serve, URL_)).toMatchObject({ refundStatus: "succeeded" });
    const close = Credential.parse(t.sent.at(-1)?.headers.get("Authorization") ?? "");
    expect(close.payload.action).toBe("close");
    expect(close.challenge.id).toBe(bearer.challenge.id);
  });

  it("error: a bearer echoing an expired challenge is refused as payment-expired", async () => {
    const t = setup();
    const { session } = await t.open();
    t.clock.ms += 301_000;
    const { sessionId, preimage, bearerToken } = session;
    const payload = { action: "bearer", sessionId, preimage, bearerToken };
    const res = await t.send(Credential.serialize({ challenge: session.challenge, payload }));
    expect(await problem(res)).toBe(`${P}payment-expired`);
  });

  it("behavior: topUp works with the paying fetch, as the README shows", async () => {
    const t = setup();
    await t.open();
    expect(await t.client.topUp(t.pay, URL_)).toMatchObject({ balanceSats: 20, topUpSats: 10 });
    expect(await t.client.close(t.pay, URL_)).toMatchObject({ refundSats: 20 });
    expect(t.payer.balanceMsat()).toBe(PAYER_START_MSAT);
  });

  it("behavior: a challenge without idleTimeout or depositAmount (both optional) opens a session", async () => {
    const t = setup();
    const res = await t.serve(new Request(URL_));
    const [issued] = Challenge.parseAll([res.headers.get("WWW-Authenticate") ?? ""]);
    if (!issued) throw new Error("no challenge");
    const { idleTimeout: _i, depositAmount: _d, ...request } = issued.request;
    const { id: _id, ...fields } = issued;
    const bare = Challenge.from({ ...fields, request, secretKey: SECRET });
    const credential = await t.client.createCredential({
      challenge: bare,
      request: new Request(URL_),
    });
    const opened = await t.send(credential);
    expect(opened.status).toBe(200);
    await opened.body?.cancel();
    const id = t.client.getSession()?.sessionId ?? "";
    expect(await t.method.sessions.get(id)).toMatchObject({
      depositMsat: 10_000,
      idleTimeoutSecs: 300,
    });
  });

  it("behavior: an idle session closes and refunds by itself at its deadline, with no application timer", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    try {
      const t = setup({ realClock: true });
      const { res, session } = await t.open();
      await res.body?.cancel();
      await vi.advanceTimersByTimeAsync(299_000);
      expect(await t.method.sessions.get(session.sessionId)).toMatchObject({ status: "open" });
      await vi.advanceTimersByTimeAsync(2_000);
      expect(await t.method.sessions.get(session.sessionId)).toMatchObject({
        status: "closed",
        closeReason: "idle",
      });
      expect(t.payer.balanceMsat()).toBe(PAYER_START_MSAT);
    } finally {
      vi.useRealTimers();
    }
  });
});
