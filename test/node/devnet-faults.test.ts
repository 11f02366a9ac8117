import { createConnection } from "node:net";
import { NWCClient, NWCWalletService, NWCWalletServiceKeyPair } from "@getalby/sdk/nwc";
import { bytesToHex } from "@noble/hashes/utils.js";
import * as nip44 from "nostr-tools/nip44";
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from "nostr-tools/pure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, startDevnet } from "../../devnet/index.ts";
import { openRelayLink } from "../../devnet/relayClient.ts";

/**
 * The devnet under faults, and its relay carrying traffic of software other than its
 * own wallets: @getalby/sdk's NWCWalletService answering @getalby/sdk's NWCClient.
 */

let devnet: Devnet;
const closers: Array<() => void> = [];

beforeAll(async () => {
  devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: {}, payer: { balanceSats: 1_000 } },
  });
});
afterAll(async () => {
  for (const close of closers) close();
  await devnet.stop();
});

function client(connectionString: string): NWCClient {
  const nwc = new NWCClient({ nostrWalletConnectUrl: connectionString });
  closers.push(() => nwc.close());
  return nwc;
}

/** Sends one raw NIP-44 request and resolves with the reply, or null if none came in `waitMs`. */
async function rawRequest(
  connectionString: string,
  method: string,
  waitMs: number,
): Promise<unknown> {
  const url = new URL(connectionString);
  const walletPubkey = url.host;
  const secret = Uint8Array.from(Buffer.from(url.searchParams.get("secret") ?? "", "hex"));
  const conversationKey = nip44.v2.utils.getConversationKey(secret, walletPubkey);
  const request = finalizeEvent(
    {
      kind: 23194,
      created_at: Math.floor(Date.now() / 1000),
      tags: [
        ["p", walletPubkey],
        ["encryption", "nip44_v2"],
      ],
      content: nip44.v2.encrypt(JSON.stringify({ method, params: {} }), conversationKey),
    },
    secret,
  );
  const replies: NostrEvent[] = [];
  const link = openRelayLink(devnet.relayUrl, [{ kinds: [23195], "#e": [request.id] }], (e) => {
    replies.push(e);
  });
  try {
    await link.ready();
    expect(await link.publish(request)).toBe(true);
    const deadline = Date.now() + waitMs;
    while (replies.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const [answer] = replies;
    return answer === undefined
      ? null
      : JSON.parse(nip44.v2.decrypt(answer.content, conversationKey));
  } finally {
    link.close();
  }
}

function portRefuses(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

describe("relay faults seen by NWC peers", () => {
  it("behavior: after the relay drops every connection, wallets and SDK clients reconnect and work", async () => {
    const merchant = client(devnet.wallet("merchant").connectionString);
    expect((await merchant.getInfo()).network).toBe("regtest");
    devnet.relay.faults.dropAll();
    expect(devnet.relay.connectionCount()).toBe(0);
    // Both sides reconnect on their own; the next call succeeds without a new client.
    await expect
      .poll(() => devnet.relay.connectionCount(), { timeout: 5_000 })
      .toBeGreaterThanOrEqual(2);
    const tx = await merchant.makeInvoice({ amount: 1_000 });
    expect(tx.invoice.startsWith("lnbcrt")).toBe(true);
  });
});

describe("wallet faults", () => {
  it("behavior: an injected delay postpones the reply by at least that long", async () => {
    const slow = await devnet.createWallet("slow");
    const nwc = client(slow.connectionString);
    await nwc.getBalance(); // warm: encryption negotiated, sockets open
    slow.faults.setDelay(400);
    const started = performance.now();
    await nwc.getBalance();
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
  });

  it("behavior: a no-reply wallet answers nothing, then answers again once cleared", async () => {
    const mute = await devnet.createWallet("mute");
    mute.faults.setNoReply(true);
    expect(await rawRequest(mute.connectionString, "get_balance", 500)).toBeNull();
    mute.faults.setNoReply(false);
    expect(await rawRequest(mute.connectionString, "get_balance", 2_000)).toMatchObject({
      result_type: "get_balance",
      error: null,
      result: { balance: 0 },
    });
  });
});

describe("the relay carries other NWC software", () => {
  it("behavior: @getalby/sdk NWCWalletService answers @getalby/sdk NWCClient through the devnet relay", async () => {
    const walletSecret = bytesToHex(generateSecretKey());
    const clientSecret = generateSecretKey();
    const keypair = new NWCWalletServiceKeyPair(walletSecret, getPublicKey(clientSecret));
    const service = new NWCWalletService({ relayUrls: [devnet.relayUrl] });
    closers.push(() => service.close());
    await service.publishWalletServiceInfoEvent(walletSecret, ["get_info", "make_invoice"], []);
    const unsubscribe = await service.subscribe(keypair, {
      getInfo: async () => ({
        result: {
          alias: "alby-service",
          color: "#000000",
          pubkey: "02".padEnd(66, "a"),
          network: "regtest",
          block_height: 1,
          block_hash: "0".repeat(64),
          methods: ["get_info", "make_invoice"],
        },
        error: undefined,
      }),
      makeInvoice: async (request) => ({
        result: {
          type: "incoming",
          state: "pending",
          invoice: "lnbcrt-from-alby",
          description: request.description ?? "",
          description_hash: "",
          preimage: "",
          payment_hash: "ab".repeat(32),
          amount: request.amount,
          fees_paid: 0,
          settled_at: 0,
          created_at: 1,
          expires_at: 2,
          metadata: {},
        },
        error: undefined,
      }),
    });
    closers.push(unsubscribe);

    const url = `nostr+walletconnect://${keypair.walletPubkey}?relay=${encodeURIComponent(devnet.relayUrl)}&secret=${bytesToHex(clientSecret)}`;
    const nwc = client(url);
    await expect
      .poll(() =>
        devnet.relay.subscribersFor({
          kind: 23194,
          pubkey: keypair.clientPubkey,
          tags: [["p", keypair.walletPubkey]],
        }),
      )
      .toBe(1);
    expect((await nwc.getInfo()).alias).toBe("alby-service");
    expect(await nwc.makeInvoice({ amount: 5_000, description: "via alby" })).toMatchObject({
      invoice: "lnbcrt-from-alby",
      amount: 5_000,
      description: "via alby",
    });
  });
});

describe("stop()", () => {
  it("behavior: leaves no relay, Upstash or Redis listening", async () => {
    const scratch = await startDevnet({ wallets: { one: {} } });
    const urls = [scratch.relayUrl, ...(scratch.upstash ? [scratch.upstash.url] : [])];
    for (const url of urls) expect(await portRefuses(url)).toBe(false);
    await scratch.stop();
    for (const url of urls) expect(await portRefuses(url)).toBe(true);
  });
});
