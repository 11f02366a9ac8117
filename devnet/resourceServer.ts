import { x402ResourceServer } from "@x402/core/server";
import { paymentMiddleware } from "@x402/hono";
import { Hono } from "hono";
import { LNBTC_NETWORKS } from "../src/protocol/x402/lnbtc/Networks.ts";
import { X402_NETWORKS } from "../src/protocol/x402/Networks.ts";
import { ln402Invoices } from "../src/x402/invoices.ts";
import { ExactLnbtcServerScheme } from "../src/x402/lnbtc.ts";
import { ln402Receiver } from "../src/x402/receiver.ts";
import { ExactLightningServerScheme, ln402Facilitator } from "../src/x402/server.ts";

/**
 * An example x402 resource server, as an API owner would write it: @x402/hono's
 * paymentMiddleware with ln402 as the facilitator and ln402's Lightning scheme.
 * `GET /weather` costs `priceMsat` on regtest (the devnet). Used by the demo and tests.
 */
export function weatherServer(options: {
  ln402Url: string;
  merchantId: string;
  apiKey: string;
  priceMsat: number;
}): Hono {
  const network = X402_NETWORKS.regtest as `${string}:${string}`;
  const scheme = new ExactLightningServerScheme({
    invoices: ln402Invoices({
      url: options.ln402Url,
      merchantId: options.merchantId,
      apiKey: options.apiKey,
    }),
    merchantId: options.merchantId,
    description: "weather report",
  });
  const server = new x402ResourceServer(
    ln402Facilitator({ url: options.ln402Url, apiKey: options.apiKey }),
  ).register(network, scheme);
  const app = new Hono();
  app.use(
    paymentMiddleware(
      {
        "GET /weather": {
          accepts: {
            scheme: "exact",
            network,
            price: { asset: "BTC", amount: String(options.priceMsat) },
            payTo: options.merchantId,
          },
          description: "Today's weather",
          mimeType: "application/json",
        },
      },
      server,
    ),
  );
  app.get("/weather", (c) => c.json({ forecast: "sunny", temperatureC: 21 }));
  return app;
}

/**
 * The same API owner on the official scheme, x402 `exact` on lnbtc: `GET /article/:id`
 * costs `priceMsat` on the devnet's regtest id, each invoice bound to its one request
 * (`http:1`), made by ln402 (`POST /invoice` with a description hash) and settled
 * upfront by ln402 before the handler runs. `payTo` is the merchant wallet's node key.
 */
export function articleServer(options: {
  ln402Url: string;
  merchantId: string;
  apiKey: string;
  nodePubkey: string;
  priceMsat: number;
  publicOrigin: string;
}): Hono {
  const network = LNBTC_NETWORKS.regtest;
  const scheme = new ExactLnbtcServerScheme({
    receiver: ln402Receiver({
      url: options.ln402Url,
      merchantId: options.merchantId,
      apiKey: options.apiKey,
    }),
    payTo: options.nodePubkey,
    merchantId: options.merchantId,
    networks: ["regtest"],
    binding: { profile: "http:1", publicOrigin: options.publicOrigin, headers: [] },
  });
  const server = new x402ResourceServer(
    ln402Facilitator({ url: options.ln402Url, apiKey: options.apiKey }),
  ).register(network, scheme);
  const app = new Hono();
  app.use(
    paymentMiddleware(
      {
        "GET /article/:id": {
          accepts: {
            scheme: "exact",
            network,
            price: { asset: "BTC", amount: String(options.priceMsat) },
            payTo: options.nodePubkey,
            maxTimeoutSeconds: 600,
          },
          description: "One article",
          mimeType: "application/json",
        },
      },
      server,
    ),
  );
  app.get("/article/:id", (c) => c.json({ article: c.req.param("id"), text: "Paid, once." }));
  return app;
}
