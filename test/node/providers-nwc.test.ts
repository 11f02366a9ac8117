import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Devnet } from "../../devnet/index.ts";
import {
  AuthenticationError,
  ConnectionError,
  NwcLightningProvider,
  PaymentTimeoutError,
  RouteNotFoundError,
} from "../../src/providers/index.ts";
import { failure, nwcProvider, startNwcDevnet } from "./support/providers.ts";

/** NWC behavior beyond the provider contract: connection reuse, restrictions, faults. */

describe("NWC specifics", () => {
  let devnet: Devnet;
  const nwc = (name: string, timeoutSecs?: number) =>
    nwcProvider(devnet, name, timeoutSecs ? { timeoutSecs } : {});
  beforeAll(async () => {
    devnet = await startNwcDevnet();
  });
  afterAll(() => devnet.stop());

  it("behavior: one connection is opened lazily, reused, and replaced after close()", async () => {
    const before = devnet.relay.connectionCount();
    const provider = nwc("merchant");
    expect(devnet.relay.connectionCount()).toBe(before);
    await Promise.all([provider.getNetwork(), provider.getNetwork()]);
    await provider.createInvoice({ amountMsat: 1_000 });
    expect(devnet.relay.connectionCount()).toBe(before + 1);
    provider.close();
    await expect.poll(() => devnet.relay.connectionCount()).toBe(before);
    expect(await provider.getNetwork()).toBe("regtest");
    expect(devnet.relay.connectionCount()).toBe(before + 1);
    provider.close();
  });

  it("error: paying through a receive-only connection is AuthenticationError (RESTRICTED)", async () => {
    const issued = await nwc("merchant").createInvoice({ amountMsat: 1_000 });
    const receiveOnly = nwc("receiveOnly");
    expect(await failure(receiveOnly.payInvoice({ invoice: issued.invoice }))).toBeInstanceOf(
      AuthenticationError,
    );
    receiveOnly.close();
  });

  it("error: PAYMENT_FAILED naming a route is RouteNotFoundError; a silent wallet is PaymentTimeoutError", async () => {
    const issued = await nwc("merchant").createInvoice({ amountMsat: 1_000 });
    const payer = nwc("payer", 1);
    devnet.wallet("payer").faults.setError("PAYMENT_FAILED", "no route found");
    try {
      const err = await failure(payer.payInvoice({ invoice: issued.invoice }));
      expect(err).toBeInstanceOf(RouteNotFoundError);
      devnet.wallet("payer").faults.setError(null);
      devnet.wallet("payer").faults.setNoReply(true);
      expect(await failure(payer.payInvoice({ invoice: issued.invoice }))).toBeInstanceOf(
        PaymentTimeoutError,
      );
    } finally {
      devnet.wallet("payer").faults.setError(null);
      devnet.wallet("payer").faults.setNoReply(false);
      payer.close();
    }
  });

  it("error: an unreachable relay is ConnectionError", async () => {
    const url = devnet
      .wallet("merchant")
      .connectionString.replace(/relay=[^&]+/, "relay=ws%3A%2F%2F127.0.0.1%3A9");
    const provider = new NwcLightningProvider({ connectionString: url, allowInsecureRelays: true });
    expect(await failure(provider.getNetwork())).toBeInstanceOf(ConnectionError);
  });
});
