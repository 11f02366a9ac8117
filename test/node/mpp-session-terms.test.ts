import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createPaymentFetch } from "../../src/mpp/fetch.ts";
import { createPaymentHandler, type SessionRoute } from "../../src/mpp/server.ts";
import { lightningSessionClient } from "../../src/mpp/session/client.ts";
import { lightningSessionServer } from "../../src/mpp/session/server.ts";
import { readEvents } from "../../src/mpp/session/sse.ts";
import { MockLightningNetwork, MockLightningProvider } from "../../src/providers/mock.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";

/**
 * Session terms the payer relies on: the credential travels in the header its challenge
 * names (draft-httpauth-payment-01), and a route never bills one unit above the per-unit
 * price the payer accepted (draft-lightning-session-00 §request).
 */

const SECRET = "test-only-mpp-secret-0123456789abcdef";
const URL_ = "http://api.test/stream";
const ROUTE: SessionRoute = { intent: "session", amount: "2", depositAmount: "10" };

async function* chunks(n: number) {
  for (let i = 1; i <= n; i++) yield `chunk ${i}`;
}

/** Every event of a paid stream, read to its end (so each delivered one is billed). */
async function drain(res: Response): Promise<string[]> {
  expect(res.status).toBe(200);
  const events: string[] = [];
  if (res.body) for await (const e of readEvents(res.body)) events.push(e.event);
  return events;
}

function setup(credentialHeader?: "Payment-Authorization") {
  const net = new MockLightningNetwork();
  const merchant = new MockLightningProvider({ mockNetwork: net, balanceMsat: 0 });
  const payer = new MockLightningProvider({ mockNetwork: net, balanceMsat: 1_000_000 });
  const method = lightningSessionServer({ provider: merchant, store: new MemoryStore() });
  const payments = createPaymentHandler({
    secretKey: SECRET,
    realm: "api.test",
    methods: [method],
    ...(credentialHeader && { credentialHeader }),
  });
  const app = new Hono();
  app.get("/stream", async (c) => {
    const result = await payments.handle(c.req.raw, ROUTE);
    if (result.status === 402) return result.challenge;
    if (result.management) return result.management;
    const sessionId = result.receipt.reference;
    return result.withReceipt(method.serve({ sessionId, generate: chunks(3) }));
  });
  const sent: Request[] = [];
  const serve = async (req: Request) => {
    sent.push(req.clone());
    return app.fetch(req);
  };
  const client = lightningSessionClient(payer);
  const pay = createPaymentFetch({ methods: [client], fetch: serve });
  return { merchant, payer, method, client, serve, sent, pay };
}

describe("lightning/session terms", () => {
  it("behavior: with header=Payment-Authorization, bearer, top-up and close go in that header and succeed", async () => {
    const t = setup("Payment-Authorization");
    expect(await drain(await t.pay(URL_))).toContain("payment-receipt");
    expect(await t.client.topUp(t.pay, URL_)).toMatchObject({ topUpSats: 10 });
    expect(await drain(await t.pay(URL_))).toContain("payment-receipt");
    const closed = await t.client.close(t.pay, URL_);
    expect(closed.refundStatus).toBe("succeeded");
    // 2 + 2 sats per chunk × 3 chunks spent of 20 deposited.
    expect(closed.refundSats).toBe(8);
    const paid = t.sent.filter((r) => r.headers.has("Payment-Authorization"));
    expect(paid.length).toBeGreaterThanOrEqual(4);
    expect(t.sent.filter((r) => r.headers.has("Authorization"))).toEqual([]);
  });

  it("error: session.deduct above the agreed per-unit price throws and takes nothing", async () => {
    const t = setup();
    await drain(await t.pay(URL_));
    const sessionId = t.client.getSession()?.sessionId ?? "";
    const before = await t.method.sessions.balance(sessionId);
    await expect(t.method.deduct(sessionId, 3)).rejects.toThrow(/above the 2 sats per unit/);
    expect(await t.method.sessions.balance(sessionId)).toBe(before);
    // At or below the agreed price it bills one unit.
    expect(await t.method.deduct(sessionId, 2)).toBe(true);
    expect(await t.method.deduct(sessionId, 1)).toBe(true);
    expect(await t.method.sessions.balance(sessionId)).toBe((before ?? 0) - 3_000);
  });
});
