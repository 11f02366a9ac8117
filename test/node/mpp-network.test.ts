import { describe, expect, it } from "vitest";
import { networkOf } from "../../src/mpp/network.ts";
import { ConnectionError } from "../../src/providers/errors.ts";
import type { LightningProvider } from "../../src/providers/LightningProvider.ts";

/** A provider double that only answers getNetwork, from a scripted list. */
function providerAnswering(
  answers: Array<"regtest" | Error>,
): LightningProvider & { asked: number } {
  const double = {
    asked: 0,
    createInvoice: () => Promise.reject(new Error("unused")),
    payInvoice: () => Promise.reject(new Error("unused")),
    lookupInvoice: () => Promise.reject(new Error("unused")),
    async getNetwork() {
      const answer = answers[double.asked++];
      if (answer === undefined || answer instanceof Error)
        throw answer ?? new Error("no more answers");
      return answer;
    },
  };
  return double;
}

describe("networkOf", () => {
  it("behavior: a configured network wins without asking the provider", async () => {
    const provider = providerAnswering([]);
    expect(await networkOf(provider, "signet")()).toBe("signet");
    expect(provider.asked).toBe(0);
  });

  it("behavior: the provider is asked once and its answer reused", async () => {
    const provider = providerAnswering(["regtest"]);
    const network = networkOf(provider);
    expect(await Promise.all([network(), network(), network()])).toEqual([
      "regtest",
      "regtest",
      "regtest",
    ]);
    expect(provider.asked).toBe(1);
  });

  it("error: a failed ask is not remembered; the next request asks again", async () => {
    const provider = providerAnswering([new ConnectionError(), "regtest"]);
    const network = networkOf(provider);
    await expect(network()).rejects.toBeInstanceOf(ConnectionError);
    expect(await network()).toBe("regtest");
    expect(provider.asked).toBe(2);
  });
});
