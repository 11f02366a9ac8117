import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { wrapFetchWithPayment } from "@x402/fetch";
import { ExactLnbtcClientScheme } from "../src/client/lnbtc.ts";
import { wrapFetchWithLnbtc } from "../src/client/lnbtcFetch.ts";
import { nwcPayer } from "../src/client/wallet.ts";
import { createLightningX402Client } from "../src/client/x402.ts";
import { decodeInvoice } from "../src/protocol/bolt11/Bolt11.ts";
import { meteredStreamDemo } from "./demoStream.ts";
import { articleServer, weatherServer } from "./resourceServer.ts";
import { startStack } from "./stack.ts";

/**
 * `npm run demo`: paid x402 requests end to end, offline, printing each step: first on
 * the official scheme (`exact` on lnbtc: a request-bound invoice, settled upfront), then
 * on the legacy bip122 convention older clients use; then a metered SSE stream through
 * ln402's gateway, paid per event from an MPP session with a top-up and a refund (see
 * demoStream.ts). The devnet (relay + wallets) and ln402 (`wrangler dev`) run locally;
 * resource servers built with @x402/hono use ln402 as receiver and facilitator;
 * @x402/fetch pays from the devnet payer with ln402's clients.
 */

const PRICE_MSAT = 21_000;
const say = (step: string, detail = "") => console.log(`${step.padEnd(10)} ${detail}`);
const short = (s: string) => (s.length > 40 ? `${s.slice(0, 24)}…${s.slice(-12)}` : s);

// Interrupted: exit, which ends wrangler dev too (see devnet/wrangler.ts).
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => process.exit(signal === "SIGINT" ? 130 : 143));

say("start", "devnet relay and wallets, and ln402 under wrangler dev (offline)…");
// The gateway's demo upstream is plain http on loopback, allowed for development only.
const stack = await startStack({ vars: { ALLOW_INSECURE_UPSTREAMS: "true" } });
const payer = nwcPayer(stack.devnet.wallet("payer").connectionString, {
  allowInsecureRelays: true,
});
try {
  say("devnet", stack.devnet.relayUrl);
  say("ln402", stack.ln402.url);
  say("register", `merchant ${stack.merchant.merchantId} (its NWC wallet, checked with get_info)`);

  say("lnbtc", "x402 exact on lnbtc: GET /article/A, its invoice bound to this request");
  const articles = articleServer({
    ln402Url: stack.ln402.url,
    ...stack.merchant,
    nodePubkey: stack.devnet.wallet("merchant").nodePubkey,
    priceMsat: PRICE_MSAT,
    publicOrigin: "http://resource.example",
  });
  const lnbtcResource: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const response = await articles.fetch(request);
    const offer = response.headers.get("PAYMENT-REQUIRED");
    if (response.status === 402 && offer) {
      const accepts = decodePaymentRequiredHeader(offer).accepts[0];
      say(
        "402",
        `pay ${accepts?.amount} msat on ${accepts?.network} to node ${short(String(accepts?.payTo))}, requestHash ${short(String(accepts?.extra.requestHash))}`,
      );
    }
    return response;
  };
  const lnbtcClient = new ExactLnbtcClientScheme({
    payer: {
      async payInvoice(invoice) {
        const paid = await payer.payInvoice(invoice);
        say(
          "pay",
          `checked (payee, amount, expiry, request hash) and paid: ${short(paid.preimage)}`,
        );
        return { status: "paid", preimage: paid.preimage, invoice };
      },
    },
    maxAmountMsat: 100_000,
    networks: ["regtest"],
  });
  const lnbtcBefore = stack.devnet.wallet("merchant").balanceMsat();
  const article = await wrapFetchWithLnbtc(lnbtcResource, lnbtcClient, {
    maxAmountMsat: 100_000,
    wrapFetchWithPayment,
  })("http://resource.example/article/A");
  const lnbtcSettled = decodePaymentResponseHeader(article.headers.get("PAYMENT-RESPONSE") ?? "");
  say(
    String(article.status),
    `${await article.text()}  (settled upfront: ${lnbtcSettled.success}, transaction ${short(lnbtcSettled.transaction)})`,
  );
  const lnbtcGained = stack.devnet.wallet("merchant").balanceMsat() - lnbtcBefore;
  say("balance", `merchant wallet +${lnbtcGained} msat`);
  if (article.status !== 200 || lnbtcGained !== PRICE_MSAT) {
    console.error("demo failed: expected 200 and the price in the merchant's wallet (lnbtc)");
    process.exitCode = 1;
  }

  say("bip122", "the legacy convention (older clients): GET /weather");

  const app = weatherServer({
    ln402Url: stack.ln402.url,
    ...stack.merchant,
    priceMsat: PRICE_MSAT,
  });
  const resource: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const paid = request.headers.has("PAYMENT-SIGNATURE");
    say(
      "request",
      `${request.method} ${new URL(request.url).pathname}${paid ? " with PAYMENT-SIGNATURE" : ""}`,
    );
    const response = await app.fetch(request);
    const offer = response.headers.get("PAYMENT-REQUIRED");
    if (response.status === 402 && offer) {
      const accepts = decodePaymentRequiredHeader(offer).accepts[0];
      const invoice = String(accepts?.extra.invoice ?? "");
      say("402", `pay ${accepts?.amount} msat on ${accepts?.network}: ${short(invoice)}`);
    }
    return response;
  };
  const wallet = {
    async payInvoice(invoice: string) {
      const decoded = decodeInvoice(invoice);
      say(
        "check",
        `${decoded.amountMsat} msat, ${decoded.network}, expires in ${decoded.expiresAt - Math.floor(Date.now() / 1000)} s, payee ${short(decoded.payeeNodeKey)}`,
      );
      const paid = await payer.payInvoice(invoice);
      say(
        "pay",
        `preimage ${short(paid.preimage)} (sha256 = payment hash ${short(decoded.paymentHash)})`,
      );
      return paid;
    },
  };
  const merchantBefore = stack.devnet.wallet("merchant").balanceMsat();
  const response = await wrapFetchWithPayment(
    resource,
    createLightningX402Client({ wallet, maxAmountMsat: 100_000 }),
  )("http://resource.example/weather");
  const settlement = decodePaymentResponseHeader(response.headers.get("PAYMENT-RESPONSE") ?? "");
  say(
    String(response.status),
    `${await response.text()}  (settled: ${settlement.success}, transaction ${short(settlement.transaction)})`,
  );
  const gained = stack.devnet.wallet("merchant").balanceMsat() - merchantBefore;
  say("balance", `merchant wallet +${gained} msat`);
  if (response.status !== 200 || gained !== PRICE_MSAT) {
    console.error("demo failed: expected 200 and the price in the merchant's wallet");
    process.exitCode = 1;
  }

  if (!(await meteredStreamDemo(stack, say))) {
    console.error("demo failed: expected the refund to be exactly deposit + top-up − spent");
    process.exitCode = 1;
  }
} finally {
  payer.close();
  await stack.stop();
}
