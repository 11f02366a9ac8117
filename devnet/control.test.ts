import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetControl, startControl } from "./control.ts";
import { type Devnet, RECEIVE_METHODS, startDevnet } from "./index.ts";

/** The devnet control API over HTTP, as a script in any language would use it. */

let devnet: Devnet;
let control: DevnetControl;

beforeAll(async () => {
  devnet = await startDevnet({
    upstash: false,
    wallets: {
      merchant: { methods: RECEIVE_METHODS },
      payer: { balanceSats: 1_000 },
    },
  });
  control = await startControl(devnet);
});
afterAll(async () => {
  await control.stop();
  await devnet.stop();
});

const post = (path: string, body: unknown) =>
  fetch(`${control.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

describe("devnet control API", () => {
  it("behavior: POST /wallets/:name/pay pays from that wallet; both balances move by the amount", async () => {
    const invoice = devnet.wallet("merchant").makeInvoice({ amountMsat: 7_000 });
    const res = await post("/wallets/payer/pay", { invoice: invoice.invoice });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      preimage: string;
      paymentHash: string;
      balanceMsat: number;
    };
    expect(body.paymentHash).toBe(invoice.payment_hash);
    expect(body.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect(body.balanceMsat).toBe(993_000);
    expect(devnet.wallet("merchant").balanceMsat()).toBe(7_000);
  });

  it("error: a wallet without pay_invoice is refused with 422; an unknown wallet is 404; nothing moves", async () => {
    const invoice = devnet.wallet("payer").makeInvoice({ amountMsat: 1_000 });
    const before = devnet.wallet("payer").balanceMsat();
    const refused = await post("/wallets/merchant/pay", { invoice: invoice.invoice });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: string }).error).not.toBe("");
    const unknown = await post("/wallets/nobody/pay", { invoice: invoice.invoice });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "no devnet wallet named nobody" });
    const malformed = await post("/wallets/payer/pay", { invoice: "lnbc1nope" });
    expect(malformed.status).toBe(400);
    expect(devnet.wallet("payer").balanceMsat()).toBe(before);
  });

  it("behavior: latencyMs delays every relay frame both ways (connection set-up included)", async () => {
    expect((await post("/relay/faults", { latencyMs: 40 })).status).toBe(200);
    try {
      const started = performance.now();
      const socket = new WebSocket(devnet.relayUrl);
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      });
      // Three round trips before the upgrade completes (TCP, TLS, upgrade), as the relay models it.
      expect(performance.now() - started).toBeGreaterThanOrEqual(6 * 40 - 5);
      const asked = performance.now();
      const answered = new Promise((resolve) => {
        socket.onmessage = resolve;
      });
      socket.send(JSON.stringify(["REQ", "far", { kinds: [1], limit: 1 }]));
      await answered;
      // One frame in, one frame out.
      expect(performance.now() - asked).toBeGreaterThanOrEqual(2 * 40 - 5);
      socket.close();
    } finally {
      await post("/relay/faults", { latencyMs: 0 });
    }
  });
});
