import { NWCClient } from "@getalby/sdk/nwc";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../devnet/stack.ts";
import { skipWithoutChromium, systemChromium } from "./support/chromium.ts";
import { gw, putRoutes } from "./support/gateway.ts";
import { startUpstream, type Upstream } from "./support/upstream.ts";

/**
 * A person in a browser in front of the gateway: headless Chromium opens a paid route of
 * ln402 under `wrangler dev`, gets the payment page, the devnet payer pays the invoice the
 * page shows, and the page fetches and shows what was bought, once.
 */

const executablePath = systemChromium();
const skip = skipWithoutChromium("Gateway browser tests");

describe.skipIf(skip)("the gateway's payment page in Chromium", () => {
  let stack: Stack;
  let upstream: Upstream;
  let payer: NWCClient;
  let browser: Browser;

  beforeAll(async () => {
    if (executablePath === null)
      throw new Error("CI needs Chromium: apt-get install -y chromium, or set CHROMIUM_PATH");
    upstream = await startUpstream();
    stack = await startStack({ vars: { ALLOW_INSECURE_UPSTREAMS: "true" } });
    const res = await putRoutes(stack, stack.merchant, {
      routes: [
        {
          method: "GET",
          path: "/v1/*",
          upstream: upstream.url,
          description: "A weather report",
          protocols: ["x402", "mpp"],
          price: { type: "charge", sats: 21 },
        },
      ],
    });
    expect(res.status).toBe(200);
    payer = new NWCClient({ nostrWalletConnectUrl: stack.devnet.wallet("payer").connectionString });
    browser = await chromium.launch({
      executablePath: executablePath ?? "",
      args: ["--no-sandbox"],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    payer?.close();
    await stack?.stop();
    await upstream?.stop();
  });

  it("behavior: the page shows the invoice; once the payer pays it, the resource appears, and the upstream was called once", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    const response = await page.goto(gw(stack, stack.merchant, "/v1/weather"));
    expect(response?.status()).toBe(402);
    expect(await page.getByText("A weather report").isVisible()).toBe(true);
    expect(await page.getByText("21 sats").isVisible()).toBe(true);
    const invoice = (await page.locator("#qr").getAttribute("data-invoice")) ?? "";
    expect(invoice).toMatch(/^lnbcrt210n1/);
    const merchantBefore = stack.devnet.wallet("merchant").balanceMsat();
    const callsBefore = upstream.calls.get("/v1/weather") ?? 0;

    await payer.payInvoice({ invoice });
    await page.getByText("Paid. Here is what you bought.").waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator("main").textContent()).toContain("/v1/weather");
    expect(stack.devnet.wallet("merchant").balanceMsat() - merchantBefore).toBe(21_000);
    expect((upstream.calls.get("/v1/weather") ?? 0) - callsBefore).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });
});
