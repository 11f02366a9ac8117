import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, startDevnet } from "../../devnet/index.ts";
import { Ledger, LedgerError } from "../../devnet/ledger.ts";
import { decodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import { tagCensus } from "../../src/protocol/bolt11/Census.ts";
import { parseConnectionString } from "../../src/protocol/nip47/ConnectionString.ts";
import { NwcClient } from "../../src/relay/NwcClient.ts";

/**
 * What x402 lnbtc needs from the devnet: `make_invoice` with `description_hash` signs
 * an `h` tag and no `d` (scheme_exact_lnbtc §Request Binding), and testnet wallets sign
 * `lntb` invoices and say `testnet` in get_info, so lnbtc testnet runs offline.
 */

const HASH = "0d6623f775e025501fa7f0a30b54da25aad62b6ccfe35c85da38016711e6c018";

describe("devnet ledger for lnbtc", () => {
  it("behavior: an invoice made with a description hash carries exactly that h and no d", () => {
    const ledger = new Ledger();
    ledger.openAccount("m");
    const tx = ledger.makeInvoice("m", {
      amountMsat: 25_000,
      descriptionHash: HASH,
      expirySecs: 300,
    });
    const decoded = decodeInvoice(tx.invoice);
    expect([decoded.descriptionHash, decoded.description, decoded.expirySecs]).toEqual([
      HASH,
      null,
      300,
    ]);
    expect(tagCensus(tx.invoice)).toEqual({
      descriptions: 0,
      descriptionHashes: 1,
      paddingClean: true,
    });
    expect(tx.description_hash).toBe(HASH);
  });

  it("error: a description hash that is not 64 lowercase hex is refused, nothing issued", () => {
    const ledger = new Ledger();
    ledger.openAccount("m");
    expect(() => ledger.makeInvoice("m", { amountMsat: 1000, descriptionHash: "ab" })).toThrow(
      LedgerError,
    );
    expect(ledger.listTransactions("m", { unpaid: true })).toEqual([]);
  });

  it("behavior: a testnet node signs lntb invoices that a testnet payer pays", async () => {
    const ledger = new Ledger();
    ledger.openAccount("m", 0, "testnet");
    ledger.openAccount("p", 100_000, "testnet");
    const tx = ledger.makeInvoice("m", { amountMsat: 21_000, descriptionHash: HASH });
    expect(tx.invoice.startsWith("lntb")).toBe(true);
    expect(decodeInvoice(tx.invoice).network).toBe("testnet");
    await ledger.payInvoice("p", tx.invoice);
    expect([ledger.balance("m"), ledger.balance("p")]).toEqual([21_000, 79_000]);
  });

  it("error: a regtest payer cannot pay a testnet invoice; no money moves", async () => {
    const ledger = new Ledger();
    ledger.openAccount("m", 0, "testnet");
    ledger.openAccount("p", 100_000);
    const tx = ledger.makeInvoice("m", { amountMsat: 21_000, descriptionHash: HASH });
    await expect(ledger.payInvoice("p", tx.invoice)).rejects.toMatchObject({
      code: "PAYMENT_FAILED",
    });
    expect([ledger.balance("m"), ledger.balance("p")]).toEqual([0, 100_000]);
  });
});

describe("devnet wallets on testnet, over NWC", () => {
  let devnet: Devnet;
  let client: NwcClient;
  beforeAll(async () => {
    devnet = await startDevnet({ upstash: false, network: "testnet", wallets: { merchant: {} } });
    const conn = parseConnectionString(devnet.wallet("merchant").connectionString, {
      allowInsecureRelays: true,
    });
    client = await NwcClient.connect(conn);
  });
  afterAll(async () => {
    client?.close();
    await devnet?.stop();
  });

  it("behavior: get_info reports testnet and make_invoice with description_hash signs an lntb h-invoice", async () => {
    const info = await client.getInfo();
    expect(info.network).toBe("testnet");
    const tx = await client.makeInvoice({
      amountMsat: 25_000,
      descriptionHash: HASH,
      expirySecs: 300,
    });
    const decoded = decodeInvoice(tx.invoice);
    expect(decoded).toMatchObject({ network: "testnet", descriptionHash: HASH, description: null });
    expect(decoded.payeeNodeKey).toBe(devnet.wallet("merchant").nodePubkey);
  });

  it("behavior: a wallet created with network regtest on a testnet devnet stays regtest", async () => {
    const wallet = await devnet.createWallet("legacy", { network: "regtest" });
    expect(wallet.makeInvoice({ amountMsat: 1000 }).invoice.startsWith("lnbcrt")).toBe(true);
  });
});
