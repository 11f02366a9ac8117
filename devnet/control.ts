import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { nwcPayer } from "../src/client/wallet.ts";
import { readInvoice } from "../src/protocol/bolt11/Bolt11.ts";
import type { CreateWalletOptions, Devnet } from "./index.ts";
import type { DevnetWallet, Encryption } from "./wallet.ts";

/**
 * An HTTP control API for a running devnet, on 127.0.0.1, so code that cannot call
 * `startDevnet`'s functions (suites inside workerd, `wrangler dev`, other processes)
 * can create wallets, read balances and inject faults:
 *
 *   GET  /                         relay URL and every wallet
 *   POST /wallets                  { name, balanceSats?, methods?, encryptions?, network?, notifications?, reportsNodePubkey? } → wallet
 *                                  (network "testnet": the wallet signs lntb invoices)
 *   GET  /wallets/:name            wallet with balance, request counts, and whether it is listening
 *   POST /wallets/:name/faults     { delayMs?, error?: { code, message? } | null, noReply?, invoiceHash?: string | null }
 *   POST /wallets/:name/invoices   { amountMsat, description?, descriptionHash?, expirySecs? } → NIP-47 transaction
 *   POST /wallets/:name/pay        { invoice } → { preimage, paymentHash, balanceMsat } (over its NWC connection)
 *   POST /relay/faults             { dropAll?, halfOpen?, delayMs?, latencyMs?, refusePublishes?: string | null }
 *
 * `delayMs` delays the relay's handling of each incoming frame; `latencyMs` simulates
 * distance: every frame is delayed that long each way, and opening a connection takes
 * three round trips more. Errors are `{ error }` with 400 (bad request), 404 (no such
 * wallet or route) or 422 (the wallet refused the payment).
 */

/** A running control server. */
export type DevnetControl = { url: string; stop(): Promise<void> };

/** Starts the control API for `devnet` on 127.0.0.1 (port 0 = a free port). */
export async function startControl(devnet: Devnet, port = 0): Promise<DevnetControl> {
  const server = createServer((req, res) => {
    handle(devnet, req, res).catch((err: unknown) => {
      send(res, 400, { error: err instanceof Error ? err.message : "bad request" });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function describeWallet(devnet: Devnet, wallet: DevnetWallet) {
  const requestProbe = {
    kind: 23194,
    pubkey: wallet.clientPubkey,
    tags: [["p", wallet.walletPubkey]],
  };
  return {
    name: wallet.name,
    connectionString: wallet.connectionString,
    walletPubkey: wallet.walletPubkey,
    clientPubkey: wallet.clientPubkey,
    nodePubkey: wallet.nodePubkey,
    methods: wallet.methods,
    balanceMsat: wallet.balanceMsat(),
    requests: wallet.requestCounts(),
    /** The wallet service is subscribed on the relay (false briefly after a relay drop). */
    listening: devnet.relay.subscribersFor(requestProbe) > 0,
  };
}

async function handle(devnet: Devnet, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://control").pathname.split("/").filter(Boolean);
  const body = req.method === "POST" ? await readJson(req) : {};
  const [first, name, action] = path;

  if (req.method === "GET" && path.length === 0) {
    return send(res, 200, {
      relayUrl: devnet.relayUrl,
      upstash: devnet.upstash,
      wallets: devnet.wallets().map((w) => describeWallet(devnet, w)),
    });
  }
  if (first === "relay" && name === "faults" && req.method === "POST") {
    const faults = devnet.relay.faults;
    if (body.dropAll === true) faults.dropAll();
    if (typeof body.halfOpen === "boolean") faults.setHalfOpen(body.halfOpen);
    if (typeof body.delayMs === "number") faults.setDelay(body.delayMs);
    if (typeof body.latencyMs === "number") faults.setLatency(body.latencyMs);
    if (typeof body.refusePublishes === "string" || body.refusePublishes === null)
      faults.refusePublishes(body.refusePublishes);
    return send(res, 200, { ok: true });
  }
  if (first === "wallets" && name === undefined && req.method === "POST") {
    if (typeof body.name !== "string") throw new Error("name is required");
    const options: CreateWalletOptions = {};
    if (typeof body.balanceSats === "number") options.balanceSats = body.balanceSats;
    if (Array.isArray(body.methods)) options.methods = body.methods.map(String);
    if (Array.isArray(body.encryptions))
      options.encryptions = body.encryptions.map(String) as Encryption[];
    if (typeof body.network === "string") options.network = body.network;
    if (typeof body.notifications === "boolean") options.notifications = body.notifications;
    if (typeof body.reportsNodePubkey === "boolean")
      options.reportsNodePubkey = body.reportsNodePubkey;
    return send(res, 201, describeWallet(devnet, await devnet.createWallet(body.name, options)));
  }
  if (first === "wallets" && name !== undefined) {
    const walletName = decodeURIComponent(name);
    if (!devnet.wallets().some((w) => w.name === walletName))
      return send(res, 404, { error: `no devnet wallet named ${walletName}` });
    const wallet = devnet.wallet(walletName);
    if (action === undefined && req.method === "GET")
      return send(res, 200, describeWallet(devnet, wallet));
    if (action === "faults" && req.method === "POST") {
      if (typeof body.delayMs === "number") wallet.faults.setDelay(body.delayMs);
      if (typeof body.noReply === "boolean") wallet.faults.setNoReply(body.noReply);
      if (typeof body.invoiceHash === "string" || body.invoiceHash === null)
        wallet.faults.setInvoiceHash(body.invoiceHash);
      if (body.error === null) wallet.faults.setError(null);
      else if (isRecord(body.error) && typeof body.error.code === "string") {
        wallet.faults.setError(
          body.error.code,
          typeof body.error.message === "string" ? body.error.message : undefined,
        );
      }
      return send(res, 200, describeWallet(devnet, wallet));
    }
    if (action === "invoices" && req.method === "POST") {
      if (typeof body.amountMsat !== "number") throw new Error("amountMsat is required");
      return send(
        res,
        201,
        wallet.makeInvoice({
          amountMsat: body.amountMsat,
          ...(typeof body.description === "string" ? { description: body.description } : {}),
          ...(typeof body.descriptionHash === "string"
            ? { descriptionHash: body.descriptionHash }
            : {}),
          ...(typeof body.expirySecs === "number" ? { expirySecs: body.expirySecs } : {}),
        }),
      );
    }
    if (action === "pay" && req.method === "POST") return payFrom(wallet, body, res);
  }
  send(res, 404, { error: `no control route ${req.method} /${path.join("/")}` });
}

/**
 * Pays an invoice from `wallet` over its own NWC connection, as any NWC client would:
 * the relay, the wallet service, the ledger and the payee's notification all take part.
 */
async function payFrom(
  wallet: DevnetWallet,
  body: Record<string, unknown>,
  res: ServerResponse,
): Promise<void> {
  if (typeof body.invoice !== "string") throw new Error("invoice (a BOLT11 string) is required");
  const { paymentHash } = readInvoice(body.invoice);
  const payer = nwcPayer(wallet.connectionString, { allowInsecureRelays: true, timeoutMs: 10_000 });
  try {
    const { preimage } = await payer.payInvoice(body.invoice);
    send(res, 200, { preimage, paymentHash, balanceMsat: wallet.balanceMsat() });
  } catch (err) {
    send(res, 422, { error: err instanceof Error ? err.message : "the wallet refused" });
  } finally {
    payer.close();
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let raw = "";
  for await (const chunk of req) {
    raw += String(chunk);
    if (raw.length > 64 * 1024) throw new Error("body too large");
  }
  if (raw === "") return {};
  const value: unknown = JSON.parse(raw);
  if (!isRecord(value)) throw new Error("body must be a JSON object");
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
