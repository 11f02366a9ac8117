import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { NWCClient } from "@getalby/sdk/nwc";
import type { Devnet } from "../../../devnet/index.ts";
import { paywallHeaders, renderPaywall } from "../../../src/worker/paywall/index.ts";

/**
 * A tiny shop on node:http that plays the gateway's part of the paywall contract
 * (src/worker/paywall): an unpaid GET gets the paywall page for a fresh devnet invoice,
 * `/status/:hash` asks the merchant's wallet over NWC whether it was received, and a retry
 * with `Ln402-Paid` gets the resource once, only when that invoice was paid.
 *
 * Resources: `/article` (JSON), `/report.pdf` (a download), `/flaky` (its first paid
 * retry is a 502, as an upstream failure). `?expiry=<secs>` and `?description=` shape the
 * invoice; `?token=1` issues a page token the retry must carry.
 */

export type Shop = { url: string; stop(): Promise<void> };

const PRICE_MSAT = 21_000;

type Issued = { path: string; token: string | null };

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Uint8Array,
) {
  res.writeHead(status, headers);
  res.end(body);
}

function problem(res: ServerResponse, status: number, detail: string) {
  send(
    res,
    status,
    { "Content-Type": "application/problem+json" },
    JSON.stringify({ title: "Refused", status, detail }),
  );
}

/** Starts the shop on 127.0.0.1 (a free port), paid to the devnet's `merchant` wallet. */
export async function startShop(devnet: Devnet): Promise<Shop> {
  const merchant = devnet.wallet("merchant");
  const wallet = new NWCClient({ nostrWalletConnectUrl: merchant.connectionString });
  const issued = new Map<string, Issued>();
  const redeemed = new Set<string>();
  let flakyFailed = false;

  /** Paid = the merchant's wallet says it received the payment (DESIGN §3). */
  async function received(paymentHash: string): Promise<boolean> {
    const tx = await wallet.lookupInvoice({ payment_hash: paymentHash });
    return tx.state === "settled";
  }

  function resource(path: string): {
    type: string;
    body: string | Uint8Array;
    extra?: Record<string, string>;
  } {
    if (path === "/report.pdf")
      return {
        type: "application/pdf",
        body: new TextEncoder().encode("%PDF-1.4\n% ln402 test report\n"),
        extra: { "Content-Disposition": 'attachment; filename="report.pdf"' },
      };
    return {
      type: "application/json",
      body: JSON.stringify({ article: "A", text: "Paid, once." }),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, origin: string) {
    const url = new URL(req.url ?? "/", origin);
    const status = /^\/status\/([0-9a-f]{64})$/.exec(url.pathname);
    if (status?.[1]) {
      const paid = issued.has(status[1]) && (await received(status[1]));
      return send(res, 200, { "Content-Type": "application/json" }, JSON.stringify({ paid }));
    }
    if (!["/article", "/report.pdf", "/flaky"].includes(url.pathname))
      return problem(res, 404, "No such resource.");

    const proof = req.headers["ln402-paid"];
    if (typeof proof === "string") {
      const invoice = issued.get(proof);
      if (!invoice || invoice.path !== `${url.pathname}${url.search}`)
        return problem(res, 402, "That payment is not for this request.");
      if (invoice.token !== null && req.headers["ln402-paywall-token"] !== invoice.token)
        return problem(res, 402, "That payment belongs to another page.");
      if (!(await received(proof))) return problem(res, 402, "Not paid yet.");
      if (redeemed.has(proof)) return problem(res, 402, "Already redeemed.");
      if (url.pathname === "/flaky" && !flakyFailed) {
        flakyFailed = true;
        return problem(res, 502, "The upstream failed; the payment was received.");
      }
      redeemed.add(proof);
      const { type, body, extra } = resource(url.pathname);
      return send(res, 200, { "Content-Type": type, ...extra }, body);
    }

    const expirySecs = Number(url.searchParams.get("expiry") ?? 600);
    const description = url.searchParams.get("description") ?? "An article about Lightning";
    const tx = merchant.makeInvoice({ amountMsat: PRICE_MSAT, description, expirySecs });
    const token = url.searchParams.get("token") ? crypto.randomUUID() : null;
    issued.set(tx.payment_hash, { path: `${url.pathname}${url.search}`, token });
    const input = {
      invoice: tx.invoice,
      paymentHash: tx.payment_hash,
      amountSats: PRICE_MSAT / 1000,
      description,
      statusUrl: `/status/${tx.payment_hash}`,
      retry: {
        url: `${url.pathname}${url.search}`,
        method: "GET",
        ...(token ? { headers: { "Ln402-Paywall-Token": token } } : {}),
      },
      expiresAt: tx.expires_at,
      now: tx.created_at,
    };
    send(res, 402, paywallHeaders(input), renderPaywall(input));
  }

  let origin = "";
  const server = createServer((req, res) => {
    handle(req, res, origin).catch((err: unknown) => problem(res, 500, String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    stop: () =>
      new Promise<void>((resolve) => {
        wallet.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
