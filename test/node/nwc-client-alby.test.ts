import {
  type Nip47SingleMethod,
  type Nip47Transaction,
  NWCWalletService,
  NWCWalletServiceKeyPair,
} from "@getalby/sdk/nwc";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { generateSecretKey, getPublicKey, type NostrEvent } from "nostr-tools/pure";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Devnet, startDevnet } from "../../devnet/index.ts";
import { openRelayLink } from "../../devnet/relayClient.ts";
import { decodeInvoice, encodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import { NwcWalletError } from "../../src/protocol/nip47/Messages.ts";
import { NwcClient } from "../../src/relay/NwcClient.ts";

/**
 * Interop: ln402's NwcClient against a wallet service it did not write, @getalby/sdk's
 * NWCWalletService, over a devnet relay of this suite's own. The service's handler
 * issues real signed regtest invoices and keeps them in memory.
 */

const NODE_KEY = randomBytes(32);
const NODE_PUBKEY = bytesToHex(secp256k1.getPublicKey(NODE_KEY, true));
/** Above this, the handler refuses with a code of its choosing (QUOTA_EXCEEDED). */
const QUOTA_MSAT = 1_000_000;

let devnet: Devnet;
const closers: Array<() => void> = [];
const invoices = new Map<string, Nip47Transaction>();
/** Every request event the relay carried to the wallet, as seen by a bystander. */
const requests: NostrEvent[] = [];
const walletSecret = bytesToHex(generateSecretKey());
const clientSecret = generateSecretKey();
const keypair = new NWCWalletServiceKeyPair(walletSecret, getPublicKey(clientSecret));

function makeTransaction(amount: number, description: string, expiry: number): Nip47Transaction {
  const now = Math.floor(Date.now() / 1000);
  const paymentHash = bytesToHex(sha256(randomBytes(32)));
  const invoice = encodeInvoice(
    {
      network: "regtest",
      amountMsat: amount,
      timestamp: now,
      paymentHash,
      paymentSecret: bytesToHex(randomBytes(32)),
      description,
      expirySecs: expiry,
    },
    NODE_KEY,
  );
  return {
    type: "incoming",
    state: "pending",
    invoice,
    description,
    description_hash: "",
    preimage: "",
    payment_hash: paymentHash,
    amount,
    fees_paid: 0,
    settled_at: 0,
    created_at: now,
    expires_at: now + expiry,
  };
}

beforeAll(async () => {
  devnet = await startDevnet({ upstash: false });
  const service = new NWCWalletService({ relayUrls: [devnet.relayUrl] });
  closers.push(() => service.close());
  const methods: Nip47SingleMethod[] = ["get_info", "make_invoice", "lookup_invoice"];
  await service.publishWalletServiceInfoEvent(walletSecret, methods, []);
  const unsubscribe = await service.subscribe(keypair, {
    getInfo: async () => ({
      result: {
        alias: "alby-service",
        color: "#000000",
        pubkey: NODE_PUBKEY,
        network: "regtest",
        block_height: 1,
        block_hash: "0".repeat(64),
        methods,
      },
      error: undefined,
    }),
    makeInvoice: async ({ amount, description, expiry }) => {
      if (amount > QUOTA_MSAT)
        return { result: undefined, error: { code: "QUOTA_EXCEEDED", message: "over quota" } };
      const tx = makeTransaction(amount, description ?? "", expiry ?? 3600);
      invoices.set(tx.payment_hash, tx);
      return { result: tx, error: undefined };
    },
    lookupInvoice: async ({ payment_hash }) => {
      const tx = invoices.get(payment_hash ?? "");
      return tx
        ? { result: tx, error: undefined }
        : { result: undefined, error: { code: "NOT_FOUND", message: "no such invoice" } };
    },
  });
  closers.push(unsubscribe);
  const bystander = openRelayLink(
    devnet.relayUrl,
    [{ kinds: [23194], authors: [keypair.clientPubkey] }],
    (e) => requests.push(e),
  );
  closers.push(() => bystander.close());
  await bystander.ready();
  // Requests are ephemeral: wait until the service's subscription is on the relay.
  const probe = { kind: 23194, pubkey: keypair.clientPubkey, tags: [["p", keypair.walletPubkey]] };
  await vi.waitFor(() => expect(devnet.relay.subscribersFor(probe)).toBe(2));
});

afterAll(async () => {
  for (const close of closers.reverse()) close();
  await devnet?.stop();
});

async function client(): Promise<NwcClient> {
  const nwc = await NwcClient.connect(
    {
      walletPubkey: keypair.walletPubkey,
      relays: [devnet.relayUrl],
      secret: bytesToHex(clientSecret),
    },
    { requestTimeoutMs: 3_000 },
  );
  closers.push(() => nwc.close());
  return nwc;
}

describe("NwcClient ↔ @getalby/sdk NWCWalletService", () => {
  it("behavior: reads Alby's info event (nip04 nip44_v2) and speaks NIP-44 v2 with an expiration tag", async () => {
    const nwc = await client();
    expect(nwc.info).toEqual({
      methods: ["get_info", "make_invoice", "lookup_invoice"],
      encryptions: ["nip04", "nip44_v2"],
      notifications: [],
      encryption: "nip44_v2",
    });
    const info = await nwc.getInfo();
    expect(info).toMatchObject({ alias: "alby-service", network: "regtest", pubkey: NODE_PUBKEY });
    const sent = requests.at(-1);
    expect(sent?.tags).toContainEqual(["encryption", "nip44_v2"]);
    const expiration = Number(sent?.tags.find((t) => t[0] === "expiration")?.[1]);
    expect(expiration).toBeGreaterThan(Date.now() / 1000);
    expect(expiration).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3);
  });

  it("behavior: make_invoice then lookup_invoice return the same signed regtest invoice", async () => {
    const nwc = await client();
    const made = await nwc.makeInvoice({
      amountMsat: 42_000,
      description: "alby",
      expirySecs: 120,
    });
    expect(decodeInvoice(made.invoice)).toMatchObject({
      network: "regtest",
      amountMsat: 42_000,
      paymentHash: made.paymentHash,
      description: "alby",
      payeeNodeKey: NODE_PUBKEY,
    });
    const found = await nwc.lookupInvoice({ paymentHash: made.paymentHash });
    expect(found).toMatchObject({ invoice: made.invoice, state: "pending", amountMsat: 42_000 });
    // Alby sends "" for an unknown preimage: read as absent, not as a bad hex string.
    expect(found.preimage).toBeUndefined();
  });

  it.each([
    [
      "NOT_FOUND",
      "no such invoice",
      (nwc: NwcClient) => nwc.lookupInvoice({ paymentHash: "ab".repeat(32) }),
    ],
    [
      "QUOTA_EXCEEDED",
      "over quota",
      (nwc: NwcClient) => nwc.makeInvoice({ amountMsat: QUOTA_MSAT + 1 }),
    ],
    ["NOT_IMPLEMENTED", "not supported", (nwc: NwcClient) => nwc.getBalance()],
  ] as const)(
    "error: the handler's %s arrives as NwcWalletError with its message",
    async (code, message, call) => {
      // @getalby/sdk's wallet service warns about the methods it has no handler for.
      const logged = vi.spyOn(console, "warn").mockImplementation(() => undefined);
      const err = await call(await client()).then(
        () => null,
        (e: unknown) => e,
      );
      const logs = logged.mock.calls.map((args) => args.map(String).join(" "));
      logged.mockRestore();
      expect(logs).toEqual(
        code === "NOT_IMPLEMENTED"
          ? [expect.stringContaining("unsupported method get_balance")]
          : [],
      );
      expect(err).toBeInstanceOf(NwcWalletError);
      expect(err).toMatchObject({ code, walletMessage: expect.stringContaining(message) });
    },
  );
});
