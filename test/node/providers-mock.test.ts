import { describe, expect, it } from "vitest";
import {
  MockLightningNetwork,
  MockLightningProvider,
  RouteNotFoundError,
} from "../../src/providers/index.ts";
import { failure, hashOf } from "./support/providers.ts";

/** Mock behavior beyond the provider contract: defaults, autoSettle and injected faults. */

describe("Mock specifics", () => {
  it("behavior: two mocks with default options pay each other (sharedMockNetwork)", async () => {
    const issued = await new MockLightningProvider({ autoSettle: false }).createInvoice({
      amountMsat: 1_000,
    });
    const paid = await new MockLightningProvider().payInvoice({ invoice: issued.invoice });
    expect(hashOf(paid.preimage)).toBe(issued.paymentHash);
  });

  it("behavior: autoSettle (the default) reports an unpaid invoice settled with its preimage", async () => {
    const mock = new MockLightningProvider();
    const issued = await mock.createInvoice({ amountMsat: 1_000 });
    const state = await mock.lookupInvoice(issued.paymentHash);
    expect(state.state).toBe("settled");
    expect(hashOf(state.preimage ?? "")).toBe(issued.paymentHash);
  });

  it("error: failOnPay throws its LightningError; paymentDelay delays the payment", async () => {
    const net = new MockLightningNetwork();
    const issued = await new MockLightningProvider({ mockNetwork: net }).createInvoice({
      amountMsat: 1,
    });
    const failing = new MockLightningProvider({
      mockNetwork: net,
      failOnPay: new RouteNotFoundError(),
    });
    expect(await failure(failing.payInvoice({ invoice: issued.invoice }))).toBeInstanceOf(
      RouteNotFoundError,
    );
    const slow = new MockLightningProvider({ mockNetwork: net, paymentDelay: 50 });
    const started = performance.now();
    await slow.payInvoice({ invoice: issued.invoice });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
});
