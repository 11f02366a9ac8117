import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { RelaySocket } from "../../src/relay/RelaySocket.ts";
import type { MerchantDO } from "../../src/worker/merchant/MerchantDO.ts";

describe("MerchantDO ↔ devnet relay", () => {
  it("behavior: a Durable Object opens a socket to the relay, probes it and reads the wallet's info event", async () => {
    const nwc = new URL(inject("nwc").merchant);
    const walletPubkey = nwc.host;
    const relayUrl = nwc.searchParams.get("relay") ?? "";
    expect(relayUrl).toBe(inject("relayUrl"));

    const stub = env.MERCHANT.get(env.MERCHANT.idFromName("relay-socket-test"));
    const result = await runInDurableObject(stub, async (_instance: MerchantDO) => {
      const socket = await RelaySocket.open(relayUrl);
      try {
        const rttMs = await socket.probe();
        const info = await socket.query([{ kinds: [13194], authors: [walletPubkey], limit: 1 }]);
        return {
          rttMs,
          info: info.map((e) => ({ kind: e.kind, pubkey: e.pubkey, content: e.content })),
        };
      } finally {
        socket.close();
      }
    });

    expect(result.rttMs).toBeGreaterThanOrEqual(0);
    expect(result.info).toHaveLength(1);
    expect(result.info[0]).toMatchObject({ kind: 13194, pubkey: walletPubkey });
    expect(result.info[0]?.content.split(" ")).toContain("make_invoice");
  });

  it("error: a relay that refuses the connection is a 503 relay-unavailable problem", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName("relay-socket-refused"));
    const error = await runInDurableObject(stub, async () => {
      try {
        await RelaySocket.open("ws://127.0.0.1:1", { openTimeoutMs: 2000 });
        return null;
      } catch (err) {
        return {
          status: (err as { status?: number }).status,
          type: (err as { type?: string }).type,
        };
      }
    });
    expect(error).toEqual({ status: 503, type: "urn:ln402:problem:relay-unavailable" });
  });
});

describe("MerchantDO storage", () => {
  it("behavior: is SQLite-backed with its schema created on start-up", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName("schema-test"));
    expect(await stub.describe()).toEqual({ storage: "sqlite", schema: ["meta"] });
  });
});
