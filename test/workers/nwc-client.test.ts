import { env, runInDurableObject } from "cloudflare:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { afterEach, describe, expect, inject, it } from "vitest";
import { decodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import type { ProblemError } from "../../src/protocol/Errors.ts";
import { parseConnectionString } from "../../src/protocol/nip47/ConnectionString.ts";
import { type NwcNotification, NwcWalletError } from "../../src/protocol/nip47/Messages.ts";
import { NwcClient, type NwcClientOptions } from "../../src/relay/NwcClient.ts";
import { devnet, uniqueName } from "./devnet.ts";

/**
 * ln402's NIP-47 client inside workerd, against the devnet's relay and wallet services
 * over real sockets. Fault tests use wallets of their own (control API); the two relay
 * faults (half-open, drop) are healed in afterEach, and the workers project runs its
 * files one at a time, so they never reach another suite.
 */

const createWallet = (label: string, options: Parameters<typeof devnet.createWallet>[1] = {}) =>
  devnet.createWallet(uniqueName(`nwc-${label}`), options);
const walletFaults = devnet.walletFaults;
const relayFaults = devnet.relayFaults;

const clients: NwcClient[] = [];

/** Connects with the devnet's ws:// relay allowed; the client is closed after the test. */
async function connect(nwcUrl: string, options: NwcClientOptions = {}): Promise<NwcClient> {
  const client = await NwcClient.connect(
    parseConnectionString(nwcUrl, { allowInsecureRelays: true }),
    options,
  );
  clients.push(client);
  return client;
}

/** The error a promise rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<ProblemError> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: ProblemError) => err,
  );
}

/** A promise for the first notification about `paymentHash`, and the option that feeds it. */
function notificationFor(paymentHash: () => string) {
  let resolve: (n: NwcNotification) => void = () => {};
  const received = new Promise<NwcNotification>((r) => {
    resolve = r;
  });
  const onNotification = (n: NwcNotification) => {
    if (n.transaction.paymentHash === paymentHash()) resolve(n);
  };
  return { received, onNotification };
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await relayFaults({ halfOpen: false, delayMs: 0, refusePublishes: null });
});

describe("NwcClient against devnet wallets", () => {
  it("behavior: connects, reads the info event (NIP-44 v2 chosen) and get_info reports regtest", async () => {
    const merchant = await connect(inject("nwc").merchant);
    expect(merchant.isOpen).toBe(true);
    expect(merchant.info.encryption).toBe("nip44_v2");
    expect(merchant.info.methods).toEqual(expect.arrayContaining(["make_invoice", "pay_invoice"]));
    expect(merchant.info.notifications).toContain("payment_received");
    const info = await merchant.getInfo();
    expect(info.network).toBe("regtest");
    expect(info.pubkey).toBe((await devnet.wallet("merchant")).nodePubkey);
  });

  it("behavior: make_invoice returns a BOLT11 whose decoded fields match the request", async () => {
    const merchant = await connect(inject("nwc").merchant);
    const tx = await merchant.makeInvoice({
      amountMsat: 21_000,
      description: "nwc coffee",
      expirySecs: 600,
    });
    const decoded = decodeInvoice(tx.invoice);
    expect(decoded).toMatchObject({
      network: "regtest",
      amountMsat: 21_000,
      paymentHash: tx.paymentHash,
      description: "nwc coffee",
      expirySecs: 600,
      payeeNodeKey: (await merchant.getInfo()).pubkey,
    });
    expect(tx).toMatchObject({ amountMsat: 21_000, state: "pending" });
  });

  it("behavior: concurrent requests on one socket are each answered by their own response", async () => {
    const merchant = await connect(inject("nwc").merchant);
    const amounts = [1_000, 2_000, 3_000, 4_000, 5_000];
    const txs = await Promise.all(
      amounts.map((amountMsat) => merchant.makeInvoice({ amountMsat })),
    );
    expect(txs.map((tx) => decodeInvoice(tx.invoice).amountMsat)).toEqual(amounts);
  });

  it("behavior: the payer pays, the merchant's lookup shows it settled with a preimage of the hash, and payment_received arrives", async () => {
    let hash = "";
    const { received, onNotification } = notificationFor(() => hash);
    const merchant = await connect(inject("nwc").merchant, { onNotification });
    const payer = await connect(inject("nwc").payer);
    const tx = await merchant.makeInvoice({ amountMsat: 50_000 });
    hash = tx.paymentHash;
    const started = Date.now();
    const paid = await payer.payInvoice({ invoice: tx.invoice });
    const payMs = Date.now() - started;
    expect(bytesToHex(sha256(hexToBytes(paid.preimage)))).toBe(tx.paymentHash);

    const after = await merchant.lookupInvoice({ paymentHash: tx.paymentHash });
    expect(after).toMatchObject({ state: "settled", preimage: paid.preimage });
    expect(after.settledAt).toBeGreaterThan(0);
    const note = await received;
    expect(note).toMatchObject({ type: "payment_received", transaction: { amountMsat: 50_000 } });
    expect(note.transaction.preimage).toBe(paid.preimage);
    expect(payMs).toBeLessThan(1_000);
  });

  it("behavior: a client opened in one Durable Object call serves a later call to the same object", async () => {
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName(`nwc-${crypto.randomUUID()}`));
    const held = new WeakMap<object, NwcClient>();
    const conn = parseConnectionString(inject("nwc").merchant, { allowInsecureRelays: true });
    await runInDurableObject(stub, async (instance: object) => {
      held.set(instance, await NwcClient.connect(conn));
    });
    const amount = await runInDurableObject(stub, async (instance: object) => {
      const client = held.get(instance);
      try {
        return client ? (await client.makeInvoice({ amountMsat: 7_000 })).amountMsat : null;
      } finally {
        client?.close();
      }
    });
    expect(amount).toBe(7_000);
  });

  it("behavior: with a nip04-only wallet the client speaks NIP-04, notifications included", async () => {
    const legacy = await createWallet("legacy", { encryptions: ["nip04"] });
    let hash = "";
    const { received, onNotification } = notificationFor(() => hash);
    const client = await connect(legacy.connectionString, { onNotification });
    expect(client.info).toMatchObject({ encryption: "nip04", encryptions: ["nip04"] });
    expect((await client.getBalance()).balanceMsat).toBe(0);
    const tx = await client.makeInvoice({ amountMsat: 9_000 });
    hash = tx.paymentHash;
    await (await connect(inject("nwc").payer)).payInvoice({ invoice: tx.invoice });
    expect((await received).type).toBe("payment_received");
    expect((await devnet.wallet(legacy.name)).balanceMsat).toBe(9_000);
  });

  it("behavior: connect skips a relay that refuses and uses the next one", async () => {
    const relay = encodeURIComponent(inject("relayUrl"));
    const [, query] = inject("nwc").merchant.split("?");
    const url = inject("nwc").merchant.replace(
      query ?? "",
      `relay=ws%3A%2F%2F127.0.0.1%3A1&${query}`,
    );
    expect(url).toContain(`relay=${relay}`);
    const client = await connect(url, { openTimeoutMs: 2_000 });
    expect(client.relayUrl).toBe(inject("relayUrl"));
  });
});

describe("NwcClient errors", () => {
  it.each([
    ["RESTRICTED", "a receive-only connection pays"],
    ["NOT_FOUND", "a lookup of an unknown payment hash"],
    ["INSUFFICIENT_BALANCE", "an unfunded wallet pays"],
  ])("error: %s arrives as NwcWalletError when %s", async (code) => {
    const merchant = await connect(inject("nwc").merchant);
    const { invoice } = await merchant.makeInvoice({ amountMsat: 2_000 });
    const attempt =
      code === "RESTRICTED"
        ? (await connect(inject("nwc").receiveOnly)).payInvoice({ invoice })
        : code === "NOT_FOUND"
          ? merchant.lookupInvoice({ paymentHash: bytesToHex(randomBytes(32)) })
          : (await connect((await createWallet("poor")).connectionString)).payInvoice({ invoice });
    const err = await rejection(attempt);
    expect(err).toBeInstanceOf(NwcWalletError);
    expect((err as NwcWalletError).code).toBe(code);
  });

  it("error: a wallet that never answers fails with 503 wallet-timeout after the request timeout, and the client stays usable", async () => {
    const mute = await createWallet("mute");
    const client = await connect(mute.connectionString, { requestTimeoutMs: 500 });
    await walletFaults(mute.name, { noReply: true });
    const started = Date.now();
    const err = await rejection(client.getBalance());
    const elapsedMs = Date.now() - started;
    expect(err).toMatchObject({ status: 503, type: "urn:ln402:problem:wallet-timeout" });
    expect(err.detail).toContain("did not answer get_balance within 0.5 s");
    expect(elapsedMs).toBeGreaterThanOrEqual(490);
    expect(elapsedMs).toBeLessThan(2_000);
    await walletFaults(mute.name, { noReply: false });
    expect((await client.getBalance({ timeoutMs: 2_000 })).balanceMsat).toBe(0);
  });

  it("error: connecting to a wallet with no info event on the relay is a 422 that says what to check", async () => {
    const stranger = getPublicKey(generateSecretKey());
    const url = `nostr+walletconnect://${stranger}?relay=${encodeURIComponent(inject("relayUrl"))}&secret=${bytesToHex(generateSecretKey())}`;
    const err = await rejection(connect(url));
    expect(err).toMatchObject({ status: 422, type: "urn:ln402:problem:wallet-info-missing" });
    expect(err.detail).toContain("check the connection string's pubkey and relay");
  });
});

describe("NwcClient under relay faults", () => {
  it("error: on a half-open relay a request fails as unacknowledged and the probe rejects; the owner then closes", async () => {
    const reasons: string[] = [];
    const client = await connect((await createWallet("halfopen")).connectionString, {
      onClose: (reason) => reasons.push(reason),
    });
    expect(await client.probe(1_000)).toBeGreaterThanOrEqual(0);
    await relayFaults({ halfOpen: true });
    const request = await rejection(client.getBalance({ timeoutMs: 300 }));
    expect(request).toMatchObject({ status: 503, type: "urn:ln402:problem:relay-unavailable" });
    expect(request.detail).toContain("did not acknowledge the request");
    const started = Date.now();
    const probe = await rejection(client.probe(300));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(probe).toMatchObject({ status: 503, type: "urn:ln402:problem:relay-unavailable" });
    expect(probe.detail).toContain("did not answer within 300 ms");
    // The TCP socket looks fine: only the probe can tell. Closing is the owner's call.
    expect(client.isOpen).toBe(true);
    client.close();
    expect(client.isOpen).toBe(false);
    expect(reasons).toEqual([]);
  });

  it("error: when the relay drops the socket, pending and later calls fail at once and onClose fires", async () => {
    const mute = await createWallet("dropped");
    const reasons: string[] = [];
    const client = await connect(mute.connectionString, {
      requestTimeoutMs: 10_000,
      onClose: (reason) => reasons.push(reason),
    });
    await walletFaults(mute.name, { noReply: true });
    const pending = rejection(client.getBalance());
    await relayFaults({ dropAll: true });
    await expect.poll(() => client.isOpen).toBe(false);
    expect(reasons).toHaveLength(1);
    expect(await pending).toMatchObject({ type: "urn:ln402:problem:relay-unavailable" });
    const started = Date.now();
    const err = await rejection(client.makeInvoice({ amountMsat: 1_000 }));
    expect(Date.now() - started).toBeLessThan(100);
    expect(err).toMatchObject({ status: 503, type: "urn:ln402:problem:relay-unavailable" });
    expect(err.detail).toContain("Reconnect");
    // Reconnecting is the owner's job: a new client works once the wallets are back.
    await expect
      .poll(() => connect(inject("nwc").merchant).then((c) => c.getInfo({ timeoutMs: 500 })), {
        timeout: 5_000,
      })
      .toMatchObject({ network: "regtest" });
  });
});
