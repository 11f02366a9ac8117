import { afterEach, describe, expect, it, vi } from "vitest";
import { LightningError } from "./errors.ts";
import { NwcLightningProvider } from "./nwc.ts";

/** A runtime without a global WebSocket (Node 20): the error names the cause, not the relay. */

const WALLET = "ab".repeat(32);
const SECRET = "cd".repeat(32);

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("NwcLightningProvider without a WebSocket", () => {
  it("error: says NWC needs a global WebSocket (Node 22 or newer) instead of blaming the relay", async () => {
    vi.stubGlobal("WebSocket", undefined);
    const provider = new NwcLightningProvider({
      connectionString: `nostr+walletconnect://${WALLET}?relay=wss://relay.example.com&secret=${SECRET}`,
      timeoutSecs: 2,
    });
    try {
      const failure = await provider.getNetwork().then(
        () => null,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(LightningError);
      expect((failure as LightningError).code).toBe("unsupported");
      expect((failure as Error).message).toMatch(
        /^No WebSocket implementation: NWC needs a global WebSocket \(Node 22 or newer/,
      );
    } finally {
      provider.close();
    }
  });
});
