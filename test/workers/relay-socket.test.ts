import { env, runInDurableObject } from "cloudflare:test";
import { finalizeEvent, generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { describe, expect, inject, it } from "vitest";
import { type RelayEvent, RelaySocket } from "../../src/relay/RelaySocket.ts";
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

describe("RelaySocket subscriptions", () => {
  it("behavior: a subscription is live once subscribe resolves, and delivers nothing after unsubscribe", async () => {
    const relayUrl = inject("relayUrl");
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName("relay-socket-subscribe"));
    const received = await runInDurableObject(stub, async () => {
      const key = generateSecretKey();
      const note = (content: string): RelayEvent =>
        finalizeEvent(
          { kind: 20_001, created_at: Math.floor(Date.now() / 1000), tags: [], content },
          key,
        );
      const listener = await RelaySocket.open(relayUrl);
      const publisher = await RelaySocket.open(relayUrl);
      try {
        const seen: string[] = [];
        let first: () => void = () => {};
        const arrived = new Promise<void>((resolve) => {
          first = resolve;
        });
        const subId = await listener.subscribe(
          [{ kinds: [20_001], authors: [getPublicKey(key)] }],
          {
            onEvent: (event) => {
              seen.push(event.content);
              first();
            },
          },
        );
        // Ephemeral: delivered only because the subscription was already held.
        expect((await publisher.publish(note("while subscribed"))).accepted).toBe(true);
        await arrived;
        listener.unsubscribe(subId);
        await listener.probe(); // the relay has handled CLOSE: frames on one socket are in order
        expect((await publisher.publish(note("after unsubscribe"))).accepted).toBe(true);
        await listener.probe(); // anything fanned out before that OK has arrived by now
        return seen;
      } finally {
        listener.close();
        publisher.close();
      }
    });
    expect(received).toEqual(["while subscribed"]);
  });

  it("error: a subscription the relay refuses (CLOSED) rejects with 503 relay-unavailable", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName("relay-socket-closed"));
    const outcome = await runInDurableObject(stub, async () => {
      const socket = await RelaySocket.open(inject("relayUrl"));
      try {
        await socket.subscribe([], { onEvent: () => {} });
        return null;
      } catch (err) {
        return {
          type: (err as { type?: string }).type,
          detail: (err as Error).message,
          open: socket.isOpen,
        };
      } finally {
        socket.close();
      }
    });
    expect(outcome).toEqual({
      type: "urn:ln402:problem:relay-unavailable",
      detail: expect.stringContaining(
        "refused the subscription (invalid: REQ needs at least one filter",
      ),
      open: true,
    });
  });

  it("behavior: close() fails later calls at once and does not report itself through onClose", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName("relay-socket-close"));
    const outcome = await runInDurableObject(stub, async () => {
      const reasons: string[] = [];
      const socket = await RelaySocket.open(inject("relayUrl"), {
        onClose: (r) => reasons.push(r),
      });
      socket.close();
      const error = await socket.probe().then(
        () => null,
        (err: Error) => err.message,
      );
      return { isOpen: socket.isOpen, error, reasons };
    });
    expect(outcome).toEqual({
      isOpen: false,
      error: expect.stringContaining("socket closed by ln402"),
      reasons: [],
    });
  });
});
