import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { NWCClient } from "@getalby/sdk/nwc";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload } from "@x402/core/types";
import { startDevnet } from "../devnet/index.ts";
import {
  percentile,
  printTable,
  putRoutes,
  registerMerchant,
  startWrangler,
  timed,
  writeResult,
} from "./harness.ts";

/**
 * `gateway-charge`: a paid request through the gateway with the credential in hand (an
 * x402 lnbtc proof paid beforehand) vs the same request straight to the upstream, in
 * the same run, interleaved. The difference is the gateway's overhead: binding the
 * request, the merchant's object's checks and the atomic redemption, and the proxy hop
 * (target ≤ 3 ms p50 on loopback). The merchant's wallet sends notifications, so the
 * receipt check needs no wallet round trip, as in steady state.
 */
export async function gatewayChargeBench(options: { requests: number }) {
  const devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: {}, payer: { balanceSats: 10_000_000 } },
  });
  const upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const ln402 = await startWrangler(
    { ALLOW_INSECURE_UPSTREAMS: "true" },
    { raiseRateLimits: true },
  );
  const paying = new NWCClient({ nostrWalletConnectUrl: devnet.wallet("payer").connectionString });
  try {
    const merchant = await registerMerchant(ln402.url, devnet.wallet("merchant").connectionString);
    await putRoutes(ln402.url, merchant, [
      {
        method: "GET",
        path: "/bench",
        upstream: upstreamUrl,
        protocols: ["x402"],
        price: { type: "charge", sats: 1 },
      },
    ]);

    /** A paid proof for `/bench?i=<i>`: the 402, the payment, the PAYMENT-SIGNATURE. */
    const proof = async (i: number) => {
      const url = `${ln402.url}/gw/${merchant.merchantId}/bench?i=${i}`;
      const res = await fetch(url);
      const required = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "");
      await res.body?.cancel();
      const accepted = required.accepts[0];
      if (!accepted) throw new Error(`no offer: ${res.status}`);
      const { preimage } = await paying.payInvoice({ invoice: String(accepted.extra.invoice) });
      const payload = { x402Version: 2, accepted, payload: { preimage } } as PaymentPayload;
      return {
        url,
        signature: encodePaymentSignatureHeader(payload),
        direct: `${upstreamUrl}/bench?i=${i}`,
      };
    };
    const total = options.requests + 10;
    const proofs = [];
    for (let i = 0; i < total; i++) proofs.push(await proof(i));

    const lookupsBefore = devnet.wallet("merchant").requestCounts().lookup_invoice ?? 0;
    const direct: number[] = [];
    const gateway: number[] = [];
    const health: number[] = [];
    for (const [i, p] of proofs.entries()) {
      const d = await timed(async () => {
        const res = await fetch(p.direct);
        await res.arrayBuffer();
      });
      const g = await timed(async () => {
        const res = await fetch(p.url, { headers: { "PAYMENT-SIGNATURE": p.signature } });
        if (res.status !== 200) throw new Error(`paid request answered ${res.status}`);
        await res.arrayBuffer();
      });
      const h = await timed(async () => {
        await (await fetch(`${ln402.url}/health`)).arrayBuffer();
      });
      // The first ten warm both paths up.
      if (i >= 10) {
        direct.push(d);
        gateway.push(g);
        health.push(h);
      }
    }
    const row = (name: string, sample: number[]) => ({
      path: name,
      p50_ms: percentile(sample, 50),
      p95_ms: percentile(sample, 95),
    });
    const rows = [
      row("upstream directly", direct),
      row("through the gateway (paid)", gateway),
      row("wrangler dev /health (no gateway)", health),
      {
        path: "gateway overhead",
        p50_ms: percentile(gateway, 50) - percentile(direct, 50),
        p95_ms: percentile(gateway, 95) - percentile(direct, 95),
      },
    ];
    printTable(rows);
    const lookups = (devnet.wallet("merchant").requestCounts().lookup_invoice ?? 0) - lookupsBefore;
    console.log(`wallet lookup_invoice calls during the paid requests: ${lookups}`);
    const result = { requests: options.requests, rows, walletLookups: lookups };
    console.log(`results: ${writeResult("gateway-charge", result)}`);
    return rows;
  } finally {
    paying.close();
    await ln402.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await devnet.stop();
  }
}
