import { x402ResourceServer } from "@x402/core/server";
import { paymentMiddleware } from "@x402/hono";
import { Hono } from "hono";
import { X402_NETWORKS } from "../src/protocol/x402/Networks.ts";
import { ln402Invoices } from "../src/x402/invoices.ts";
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
