import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../devnet/stack.ts";
import { decodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import {
  AuthenticationError,
  ConnectionError,
  HostedLightningProvider,
  LightningError,
  NwcLightningProvider,
} from "../../src/providers/index.ts";

/**
 * The hosted provider against ln402 itself: the Worker under `wrangler dev`, the
 * devnet merchant registered with it, and the devnet payer paying over NWC.
 */

let stack: Stack;
let hosted: HostedLightningProvider;
let payer: NwcLightningProvider;

async function failure(promise: Promise<unknown>): Promise<LightningError> {
  const err = await promise.then(
    () => new Error("expected a LightningError"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LightningError);
  return err as LightningError;
}

beforeAll(async () => {
  stack = await startStack();
  hosted = new HostedLightningProvider({ url: stack.ln402.url, ...stack.merchant });
  payer = new NwcLightningProvider({
    connectionString: stack.devnet.wallet("payer").connectionString,
    allowInsecureRelays: true,
  });
}, 90_000);

afterAll(async () => {
  payer?.close();
  await stack?.stop();
});

describe("HostedLightningProvider against ln402 (wrangler dev)", () => {
  it("behavior: createInvoice issues the merchant's invoice; lookup goes pending → settled once paid", async () => {
    const issued = await hosted.createInvoice({ amountMsat: 21_000, description: "hosted" });
    const decoded = decodeInvoice(issued.invoice);
    expect(decoded).toMatchObject({ amountMsat: 21_000, paymentHash: issued.paymentHash });
    expect(decoded.payeeNodeKey).toBe(stack.devnet.wallet("merchant").nodePubkey);
    expect(await hosted.lookupInvoice(issued.paymentHash)).toMatchObject({
      state: "pending",
      amountMsat: 21_000,
    });

    await payer.payInvoice({ invoice: issued.invoice });
    const settled = await hosted.lookupInvoice(issued.paymentHash);
    expect(settled).toMatchObject({ state: "settled", amountMsat: 21_000 });
    // ln402 never hands out the preimage: it is the payer's proof of payment.
    expect(settled.preimage).toBeUndefined();
    expect(settled.settledAt).toEqual(expect.any(Number));
  });

  it("behavior: learns the merchant's network from ln402 (a regtest merchant needs no option)", async () => {
    expect(await hosted.getNetwork()).toBe("regtest");
  });

  it("error: another merchant's invoice is not_found, even with a valid key of this one", async () => {
    const res = await fetch(`${stack.ln402.url}/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ nwcUrl: stack.devnet.wallet("merchant").connectionString }),
    });
    const other = new HostedLightningProvider({
      url: stack.ln402.url,
      ...((await res.json()) as { merchantId: string; apiKey: string }),
    });
    const theirs = await other.createInvoice({ amountMsat: 1_000 });
    expect((await failure(hosted.lookupInvoice(theirs.paymentHash))).code).toBe("not_found");
    expect((await other.lookupInvoice(theirs.paymentHash)).state).toBe("pending");
  });

  it("error: payInvoice is unsupported (a hosted ln402 holds no spending rights)", async () => {
    const issued = await hosted.createInvoice({ amountMsat: 1_000 });
    const err = await failure(hosted.payInvoice());
    expect(err.code).toBe("unsupported");
    expect((await hosted.lookupInvoice(issued.paymentHash)).state).toBe("pending");
  });

  it("error: an unknown payment hash is not_found; an unknown merchant is refused like a wrong key", async () => {
    expect((await failure(hosted.lookupInvoice(bytesToHex(randomBytes(32))))).code).toBe(
      "not_found",
    );
    const stranger = new HostedLightningProvider({
      url: stack.ln402.url,
      merchantId: "no-such-merchant",
      apiKey: "x",
    });
    // An unknown merchant and a wrong key look the same: nothing tells which ids exist.
    expect((await failure(stranger.createInvoice({ amountMsat: 1_000 }))).code).toBe(
      "authentication_error",
    );
  });

  it("error: a no-amount invoice is unsupported; a bad request is invalid_request", async () => {
    expect((await failure(hosted.createInvoice({ amountMsat: 0 }))).code).toBe("unsupported");
    const tooShort = hosted.createInvoice({ amountMsat: 1_000, expirySecs: 1 });
    expect((await failure(tooShort)).code).toBe("invalid_request");
  });

  it("error: problems map to typed errors; an unreachable facilitator is ConnectionError", async () => {
    const refused = new HostedLightningProvider({
      ...stack.merchant,
      url: "http://ln402.invalid",
      fetch: async () =>
        Response.json(
          { type: "urn:ln402:problem:wallet-refused", status: 502, detail: "RESTRICTED" },
          { status: 502 },
        ),
    });
    expect(await failure(refused.createInvoice({ amountMsat: 1_000 }))).toBeInstanceOf(
      AuthenticationError,
    );
    const gone = new HostedLightningProvider({ ...stack.merchant, url: "http://127.0.0.1:9" });
    expect(await failure(gone.lookupInvoice("ab".repeat(32)))).toBeInstanceOf(ConnectionError);
  });
});
