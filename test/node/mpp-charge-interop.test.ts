import { Receipt as MppxReceipt } from "mppx";
import { Mppx as MppxClient } from "mppx/client";
import { Mppx as MppxServer } from "mppx/server";
import { describe, expect, it } from "vitest";
import { lightningChargeServer } from "../../src/mpp/charge.ts";
import { lightningChargeClient } from "../../src/mpp/chargeClient.ts";
import { createPaymentFetch } from "../../src/mpp/fetch.ts";
import { toMppxClientMethod, toMppxServerMethod } from "../../src/mpp/mppx.ts";
import * as Challenge from "../../src/protocol/mpp/Challenge.ts";
import * as Credential from "../../src/protocol/mpp/Credential.ts";
import * as Receipt from "../../src/protocol/mpp/Receipt.ts";
import { P, REALM, SECRET, setup } from "./support/mppCharge.ts";

/**
 * lightning/charge against mppx 0.11 as the independent peer: the mppx client paying
 * ln402's server, and ln402's client paying an mppx server that uses ln402's method.
 */

describe("lightning/charge interop with mppx 0.11", () => {
  it("interop: the mppx client pays ln402's server", async () => {
    const t = setup();
    const mppx = MppxClient.create({
      methods: [toMppxClientMethod(lightningChargeClient(t.payer))],
      polyfill: false,
      fetch: (input: Request | string | URL, init?: RequestInit) =>
        t.serve(new Request(input, init)),
    });
    const res = await mppx.fetch(`http://${REALM}/weather`);
    expect(res.status).toBe(200);
    const receipt = MppxReceipt.fromResponse(res);
    const paidChallenge = Credential.parse(t.sent[1]?.headers.get("Authorization") ?? "").challenge;
    expect(receipt.reference).toBe(t.payer.payments[0]);
    expect(Receipt.parse(res.headers.get("Payment-Receipt") ?? "").challengeId).toBe(
      paidChallenge.id,
    );
    expect(Challenge.verify(paidChallenge, SECRET)).toBe(true);
    expect(t.payer.payments).toHaveLength(1);
  });

  it("interop: ln402's client pays an mppx server using ln402's method", async () => {
    const t = setup();
    const method = lightningChargeServer({ provider: t.merchant, store: t.store });
    const mppx = MppxServer.create({
      methods: [toMppxServerMethod(method)],
      secretKey: SECRET,
      realm: REALM,
    });
    const sent: Request[] = [];
    const serve = async (req: Request) => {
      sent.push(req.clone());
      const result = await mppx.charge({ amount: "21", currency: "sat" })(req);
      return result.status === 402
        ? result.challenge
        : result.withReceipt(Response.json({ forecast: "sunny" }));
    };
    const pay = createPaymentFetch({ methods: [lightningChargeClient(t.payer)], fetch: serve });
    const res = await pay(`http://${REALM}/weather`);
    expect(res.status).toBe(200);
    const receipt = Receipt.parse(res.headers.get("Payment-Receipt") ?? "");
    const paidChallenge = Credential.parse(sent[1]?.headers.get("Authorization") ?? "").challenge;
    expect(receipt).toMatchObject({
      method: "lightning",
      reference: t.payer.payments[0],
      challengeId: paidChallenge.id,
    });
    expect(Challenge.verify(paidChallenge, SECRET)).toBe(true);

    // The same method's problems come out of mppx with their lightning types.
    const first = await serve(new Request(`http://${REALM}/weather`));
    const [challenge] = Challenge.parseAll([first.headers.get("WWW-Authenticate") ?? ""]);
    if (!challenge) throw new Error("no challenge");
    const wrong = Credential.serialize({ challenge, payload: { preimage: "00".repeat(32) } });
    const bad = await serve(
      new Request(`http://${REALM}/weather`, { headers: { Authorization: wrong } }),
    );
    expect(bad.status).toBe(402);
    expect(((await bad.json()) as { type: string }).type).toBe(`${P}lightning/invalid-preimage`);
    expect(t.payer.payments).toHaveLength(1);
  });
});
