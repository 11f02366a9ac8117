import { describe, expect, it } from "vitest";
import { lightningChargeServer } from "../../src/mpp/charge.ts";
import { createPaymentHandler, type PaymentRoute } from "../../src/mpp/server.ts";
import { lightningSessionServer } from "../../src/mpp/session/server.ts";
import * as Challenge from "../../src/protocol/mpp/Challenge.ts";
import * as Credential from "../../src/protocol/mpp/Credential.ts";
import { MockLightningNetwork, MockLightningProvider } from "../../src/providers/mock.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";

/**
 * Two merchants sharing one Store, one secret and one realm (a hosted deployment):
 * a session or a payment made at one can never be spent, topped up, closed or
 * redeemed at the other. Each server is known by its `serverId`.
 */

const SECRET = "test-only-mpp-secret-0123456789abcdef";
const REALM = "api.test";
const URL_ = `http://${REALM}/stream`;
const P = "https://paymentauth.org/problems/";
const SESSION: PaymentRoute = { intent: "session", amount: "1", depositAmount: "10" };
const CHARGE: PaymentRoute = { intent: "charge", amount: "5" };

function setup() {
  const net = new MockLightningNetwork();
  const store = new MemoryStore();
  const payer = new MockLightningProvider({ mockNetwork: net, balanceMsat: 1_000_000 });
  const server = (serverId: string) => {
    const provider = new MockLightningProvider({ mockNetwork: net, balanceMsat: 0 });
    const session = lightningSessionServer({ provider, store });
    const charge = lightningChargeServer({ provider, store });
    const handler = createPaymentHandler({
      secretKey: SECRET,
      realm: REALM,
      serverId,
      methods: [session, charge],
    });
    const send = async (route: PaymentRoute, authorization?: string) => {
      const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
      const result = await handler.handle(new Request(URL_, { headers }), route);
      if (result.status === 402) return result.challenge;
      return result.management ?? result.withReceipt(new Response("content"));
    };
    const challenge = async (route: PaymentRoute) => {
      const res = await send(route);
      const [c] = Challenge.parseAll([res.headers.get("WWW-Authenticate") ?? ""]);
      if (!c) throw new Error("no challenge");
      return c;
    };
    return { provider, session, send, challenge };
  };
  return { payer, a: server("merchant-a"), b: server("merchant-b") };
}

async function problemType(res: Response) {
  expect(res.status).toBe(402);
  return ((await res.json()) as { type: string }).type;
}

describe("sessions and payments are bound to the server that issued them", () => {
  it("error: a session opened at B cannot be spent, topped up or closed at A", async () => {
    const { payer, a, b } = setup();
    const opening = await b.challenge(SESSION);
    const paid = await payer.payInvoice({ invoice: String(opening.request.depositInvoice) });
    const refund = await payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    const open = { action: "open", preimage: paid.preimage, returnInvoice: refund.invoice };
    expect(
      (await b.send(SESSION, Credential.serialize({ challenge: opening, payload: open }))).status,
    ).toBe(200);
    const sessionId = String(opening.request.paymentHash);
    const bearer = { action: "bearer", sessionId, preimage: paid.preimage };
    const close = { action: "close", sessionId, preimage: paid.preimage };

    // B's own challenge, replayed at A: A did not issue it.
    for (const payload of [bearer, close]) {
      const res = await a.send(SESSION, Credential.serialize({ challenge: opening, payload }));
      expect(await problemType(res)).toBe(`${P}invalid-challenge`);
    }
    // A's challenge with B's session: A has no such session.
    const atA = await a.challenge(SESSION);
    for (const payload of [bearer, close]) {
      const res = await a.send(SESSION, Credential.serialize({ challenge: atA, payload }));
      expect(await problemType(res)).toBe(`${P}lightning/session-not-found`);
    }
    const topUpPaid = await payer.payInvoice({ invoice: String(atA.request.depositInvoice) });
    const topUp = { action: "topUp", sessionId, topUpPreimage: topUpPaid.preimage };
    const res = await a.send(SESSION, Credential.serialize({ challenge: atA, payload: topUp }));
    expect(await problemType(res)).toBe(`${P}lightning/session-not-found`);

    expect(await b.session.sessions.get(sessionId)).toMatchObject({
      status: "open",
      balanceMsat: 10_000,
    });
    expect(await a.session.sessions.get(sessionId)).toBeNull();
    // A holds only the refused top-up invoice it was paid (its proof stays unconsumed), and refunded nothing.
    expect(a.provider.balanceMsat()).toBe(10_000);
  });

  it("error: a charge paid at B does not buy a request at A", async () => {
    const { payer, a, b } = setup();
    const atB = await b.challenge(CHARGE);
    const paid = await payer.payInvoice({
      invoice: String((atB.request.methodDetails as { invoice: string }).invoice),
    });
    const credential = Credential.serialize({
      challenge: atB,
      payload: { preimage: paid.preimage },
    });
    expect(await problemType(await a.send(CHARGE, credential))).toBe(`${P}invalid-challenge`);
    expect((await b.send(CHARGE, credential)).status).toBe(200);
  });
});
