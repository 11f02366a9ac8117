import { type Nip47Notification, Nip47WalletError, NWCClient } from "@getalby/sdk/nwc";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import bolt11 from "bolt11";
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  type MockInstance,
  vi,
} from "vitest";
import {
  type Devnet,
  type DevnetWallet,
  RECEIVE_METHODS,
  startDevnet,
} from "../../devnet/index.ts";
import { encodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";

/**
 * The devnet as seen by independent NWC software: every call here goes through
 * @getalby/sdk's NWCClient (not ln402 code), and invoices are checked with the
 * independent `bolt11` decoder, which verifies the node signature.
 */

const REGTEST = {
  bech32: "bcrt",
  pubKeyHash: 0x6f,
  scriptHash: 0xc4,
  validWitnessVersions: [0, 1],
};

let devnet: Devnet;
/** The devnet ledger's clock runs this far ahead of real time (tests move it to expire invoices). */
let clockOffsetMs = 0;
let merchant: DevnetWallet;
let payer: DevnetWallet;
const clients: NWCClient[] = [];
const unsubscribes: Array<() => void> = [];

function client(wallet: DevnetWallet): NWCClient {
  const nwc = new NWCClient({ nostrWalletConnectUrl: wallet.connectionString });
  clients.push(nwc);
  return nwc;
}

/** Subscribes to `wallet`'s notifications and waits until the relay has the subscription. */
async function listen(
  nwc: NWCClient,
  wallet: DevnetWallet,
  types: Array<"payment_received" | "payment_sent" | "hold_invoice_accepted">,
  onNotification: (n: Nip47Notification) => void,
): Promise<void> {
  const probe = { kind: 23197, pubkey: wallet.walletPubkey, tags: [["p", wallet.clientPubkey]] };
  const before = devnet.relay.subscribersFor(probe);
  unsubscribes.push(await nwc.subscribeNotifications(onNotification, types));
  await expect.poll(() => devnet.relay.subscribersFor(probe)).toBe(before + 1);
}

async function walletError(promise: Promise<unknown>): Promise<Nip47WalletError> {
  const err = await promise.then(
    () => new Error("expected the wallet to refuse"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Nip47WalletError);
  return err as Nip47WalletError;
}

beforeAll(async () => {
  devnet = await startDevnet({
    upstash: false,
    now: () => Date.now() + clockOffsetMs,
    wallets: { merchant: {}, payer: { balanceSats: 100_000 } },
  });
  merchant = devnet.wallet("merchant");
  payer = devnet.wallet("payer");
});

afterAll(async () => {
  // The SDK's close() does not end a notification subscription: unsubscribe first.
  for (const unsubscribe of unsubscribes) unsubscribe();
  for (const nwc of clients) nwc.close();
  await devnet.stop();
});

describe("devnet wallets through @getalby/sdk NWCClient", () => {
  it("behavior: get_info names the regtest network and the invoice-signing node key", async () => {
    const info = await client(merchant).getInfo();
    expect(info.network).toBe("regtest");
    expect(info.pubkey).toBe(merchant.nodePubkey);
    expect(info.methods).toEqual(
      expect.arrayContaining(["make_invoice", "lookup_invoice", "pay_invoice"]),
    );
    expect(info.notifications).toEqual(
      expect.arrayContaining(["payment_received", "payment_sent"]),
    );
  });

  it("behavior: make_invoice returns a signed regtest BOLT11 an independent decoder accepts", async () => {
    const tx = await client(merchant).makeInvoice({
      amount: 21_000,
      description: "devnet coffee",
      expiry: 600,
    });
    expect(tx.invoice.startsWith("lnbcrt210n1")).toBe(true);
    const decoded = bolt11.decode(tx.invoice, REGTEST);
    expect(decoded.complete).toBe(true);
    expect(decoded.payeeNodeKey).toBe(merchant.nodePubkey);
    expect(decoded.millisatoshis).toBe("21000");
    const tag = (name: string) => decoded.tags.find((t) => t.tagName === name)?.data;
    expect(tag("payment_hash")).toBe(tx.payment_hash);
    expect(tag("description")).toBe("devnet coffee");
    expect(tag("expire_time")).toBe(600);
    expect(tx.amount).toBe(21_000);
    expect(tx.expires_at - tx.created_at).toBe(600);
  });

  it("behavior: pay_invoice moves exactly the amount, reveals the preimage and settles the invoice", async () => {
    const nwcMerchant = client(merchant);
    const tx = await nwcMerchant.makeInvoice({ amount: 5_000_000 });
    const before = await nwcMerchant.lookupInvoice({ payment_hash: tx.payment_hash });
    expect(before.state).toBe("pending");
    expect(before.settled_at ?? null).toBeNull();

    const merchantBefore = merchant.balanceMsat();
    const payerBefore = payer.balanceMsat();
    const paid = await client(payer).payInvoice({ invoice: tx.invoice });

    expect(bytesToHex(sha256(hexToBytes(paid.preimage)))).toBe(tx.payment_hash);
    expect(merchant.balanceMsat() - merchantBefore).toBe(5_000_000);
    expect(payerBefore - payer.balanceMsat()).toBe(5_000_000);
    expect((await client(payer).getBalance()).balance).toBe(payer.balanceMsat());

    const after = await nwcMerchant.lookupInvoice({ payment_hash: tx.payment_hash });
    expect(after.state).toBe("settled");
    expect(after.preimage).toBe(paid.preimage);
    expect(after.settled_at).toBeGreaterThan(0);
    const outgoing = await client(payer).lookupInvoice({ invoice: tx.invoice });
    expect(outgoing.type).toBe("outgoing");
  });

  it("behavior: the payee receives a payment_received notification", async () => {
    const nwcMerchant = client(merchant);
    let resolve: (n: { type: string; hash: string; amount: number }) => void = () => {};
    const received = new Promise<{ type: string; hash: string; amount: number }>((r) => {
      resolve = r;
    });
    await listen(nwcMerchant, merchant, ["payment_received"], (n) =>
      resolve({
        type: n.notification_type,
        hash: n.notification.payment_hash,
        amount: n.notification.amount,
      }),
    );
    const tx = await nwcMerchant.makeInvoice({ amount: 3_000 });
    await client(payer).payInvoice({ invoice: tx.invoice });
    await expect(received).resolves.toEqual({
      type: "payment_received",
      hash: tx.payment_hash,
      amount: 3_000,
    });
  });

  it("behavior: a zero-amount invoice is paid with the amount parameter", async () => {
    // The SDK refuses to request amount 0, so the merchant issues it directly.
    const tx = merchant.makeInvoice({ amountMsat: 0, description: "refund address" });
    expect(bolt11.decode(tx.invoice, REGTEST).millisatoshis ?? null).toBeNull();
    const before = merchant.balanceMsat();
    await client(payer).payInvoice({ invoice: tx.invoice, amount: 7_000 });
    expect(merchant.balanceMsat() - before).toBe(7_000);
  });

  it("behavior: list_transactions shows settled payments newest first", async () => {
    const { transactions } = await client(payer).listTransactions({ limit: 2, type: "outgoing" });
    const [newest, older] = transactions;
    expect(transactions.length).toBe(2);
    expect(transactions.every((t) => t.type === "outgoing" && t.state === "settled")).toBe(true);
    expect(newest?.created_at).toBeGreaterThanOrEqual(
      older?.created_at ?? Number.POSITIVE_INFINITY,
    );
  });
});

/**
 * @getalby/sdk logs every wallet error with console.error ("Failed to request …").
 * Where the error is what a test provokes, that log is captured instead of printed, and
 * checked: it must have happened, and nothing else may have been logged.
 */
function captureSdkErrorLogs(): void {
  let spy: MockInstance<typeof console.error> | null = null;
  beforeEach(() => {
    spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
  });
  afterEach(() => {
    const messages = (spy?.mock.calls ?? []).map((args) => String(args[0]));
    spy?.mockRestore();
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) expect(message).toMatch(/^Failed to request [a-z_]+$/);
  });
}

describe("devnet wallet errors arrive as Nip47WalletError codes", () => {
  captureSdkErrorLogs();
  it("error: INSUFFICIENT_BALANCE when the payer cannot afford it", async () => {
    const poor = await devnet.createWallet("poor", { balanceSats: 1 });
    const tx = await client(merchant).makeInvoice({ amount: 2_000 });
    const err = await walletError(client(poor).payInvoice({ invoice: tx.invoice }));
    expect(err.code).toBe("INSUFFICIENT_BALANCE");
    expect(poor.balanceMsat()).toBe(1_000);
  });

  it("error: PAYMENT_FAILED for an already-paid invoice, and nothing moves twice", async () => {
    const tx = await client(merchant).makeInvoice({ amount: 1_000 });
    await client(payer).payInvoice({ invoice: tx.invoice });
    const balance = payer.balanceMsat();
    expect((await walletError(client(payer).payInvoice({ invoice: tx.invoice }))).code).toBe(
      "PAYMENT_FAILED",
    );
    expect(payer.balanceMsat()).toBe(balance);
  });

  it("error: PAYMENT_FAILED for an expired invoice", async () => {
    const tx = await client(merchant).makeInvoice({ amount: 1_000, expiry: 1 });
    clockOffsetMs = 1_000;
    expect((await walletError(client(payer).payInvoice({ invoice: tx.invoice }))).code).toBe(
      "PAYMENT_FAILED",
    );
    expect((await client(merchant).lookupInvoice({ payment_hash: tx.payment_hash })).state).toBe(
      "expired",
    );
    clockOffsetMs = 0;
  });

  it("error: PAYMENT_FAILED for an invoice no devnet node issued", async () => {
    // Well-formed and validly signed, but by a node that is not on the devnet.
    const signed = encodeInvoice(
      {
        network: "regtest",
        amountMsat: 1_000,
        timestamp: Math.floor(Date.now() / 1000),
        paymentHash: bytesToHex(randomBytes(32)),
        paymentSecret: bytesToHex(randomBytes(32)),
        description: "not from the devnet",
      },
      randomBytes(32),
    );
    expect((await walletError(client(payer).payInvoice({ invoice: signed }))).code).toBe(
      "PAYMENT_FAILED",
    );
  });

  it("error: RESTRICTED when a receive-only connection tries to pay", async () => {
    const receiveOnly = await devnet.createWallet("receive-only", {
      methods: RECEIVE_METHODS,
      balanceSats: 10,
    });
    const tx = await client(merchant).makeInvoice({ amount: 1_000 });
    expect((await walletError(client(receiveOnly).payInvoice({ invoice: tx.invoice }))).code).toBe(
      "RESTRICTED",
    );
    expect((await client(receiveOnly).getInfo()).methods).toEqual([...RECEIVE_METHODS]);
  });

  it("error: NOT_FOUND when looking up an unknown payment hash", async () => {
    const err = await walletError(
      client(merchant).lookupInvoice({ payment_hash: bytesToHex(randomBytes(32)) }),
    );
    expect(err.code).toBe("NOT_FOUND");
  });

  it("error: an injected error code reaches the client, and clearing it restores service", async () => {
    const flaky = await devnet.createWallet("flaky");
    flaky.faults.setError("INTERNAL", "devnet says no");
    const err = await walletError(client(flaky).getBalance());
    expect(err.code).toBe("INTERNAL");
    expect(err.message).toBe("devnet says no");
    flaky.faults.setError(null);
    expect((await client(flaky).getBalance()).balance).toBe(0);
  });
});

describe("devnet hold invoices", () => {
  it("behavior: accepted, then settled by the payee: the payer's call resolves with the preimage", async () => {
    const preimage = randomBytes(32);
    const paymentHash = bytesToHex(sha256(preimage));
    const nwcMerchant = client(merchant);
    let resolve: (hash: string) => void = () => {};
    const accepted = new Promise<string>((r) => {
      resolve = r;
    });
    await listen(nwcMerchant, merchant, ["hold_invoice_accepted"], (n) =>
      resolve(n.notification.payment_hash),
    );
    const hold = await nwcMerchant.makeHoldInvoice({ amount: 4_000, payment_hash: paymentHash });
    const merchantBefore = merchant.balanceMsat();
    const payerBefore = payer.balanceMsat();
    const paying = client(payer).payInvoice({ invoice: hold.invoice });

    expect(await accepted).toBe(paymentHash);
    expect(payerBefore - payer.balanceMsat()).toBe(4_000); // locked in the HTLC
    expect(merchant.balanceMsat()).toBe(merchantBefore); // not yet the merchant's
    expect((await nwcMerchant.lookupInvoice({ payment_hash: paymentHash })).state).toBe("accepted");

    await nwcMerchant.settleHoldInvoice({ preimage: bytesToHex(preimage) });
    expect((await paying).preimage).toBe(bytesToHex(preimage));
    expect(merchant.balanceMsat() - merchantBefore).toBe(4_000);
  });

  it("behavior: canceled by the payee: the payment fails and the payer is refunded", async () => {
    const paymentHash = bytesToHex(sha256(randomBytes(32)));
    const nwcMerchant = client(merchant);
    const hold = await nwcMerchant.makeHoldInvoice({ amount: 2_500, payment_hash: paymentHash });
    const payerBefore = payer.balanceMsat();
    const paying = client(payer).payInvoice({ invoice: hold.invoice });
    await expect.poll(() => payer.balanceMsat()).toBe(payerBefore - 2_500);
    await nwcMerchant.cancelHoldInvoice({ payment_hash: paymentHash });
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect((await walletError(paying)).code).toBe("PAYMENT_FAILED");
    expect(logged.mock.calls.map((args) => String(args[0]))).toEqual([
      "Failed to request pay_invoice",
    ]);
    logged.mockRestore();
    expect(payer.balanceMsat()).toBe(payerBefore);
  });
});

describe("NIP-04 fallback", () => {
  it("behavior: a wallet that offers only nip04 is used through NIP-04 by the SDK", async () => {
    const legacy = await devnet.createWallet("legacy", { encryptions: ["nip04"], balanceSats: 50 });
    const nwc = client(legacy);
    expect((await nwc.getWalletServiceInfo()).encryptions).toEqual(["nip04"]);
    const tx = await client(merchant).makeInvoice({ amount: 10_000 });
    // The SDK warns that NIP-04 is deprecated: expected here, where NIP-04 is the point.
    const warned = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    await nwc.payInvoice({ invoice: tx.invoice });
    expect(warned.mock.calls.map((args) => String(args[0]))).toEqual([
      expect.stringContaining("NIP-04 encryption is about to be deprecated"),
    ]);
    warned.mockRestore();
    expect(nwc.encryptionType).toBe("nip04");
    expect(legacy.balanceMsat()).toBe(40_000);
  });
});
