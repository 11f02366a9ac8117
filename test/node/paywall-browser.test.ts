import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { NWCClient } from "@getalby/sdk/nwc";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import decodeQR from "qr/decode.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Devnet, startDevnet } from "../../devnet/index.ts";
import { skipWithoutChromium, systemChromium } from "./support/chromium.ts";
import { type Shop, startShop } from "./support/paywallShop.ts";

/**
 * The paywall page (src/worker/paywall) in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core; no browser is downloaded), against a shop that keeps the
 * gateway's side of the contract and a devnet whose payer really pays the invoice shown.
 *
 * `PAYWALL_SCREENSHOT=docs/paywall.png` also saves the unpaid page for the README.
 */

/**
 * The few browser globals the page-side callbacks below use, typed here because this
 * Node-side project has no DOM lib (adding it would retype Node's fetch for every suite).
 */
type InBrowser = {
  window: Record<string, unknown>;
  navigator: { clipboard: { readText(): Promise<string> } };
  getComputedStyle(element: unknown): { maxWidth: string };
  Image: new () => { src: string; width: number; height: number; decode(): Promise<void> };
  document: {
    createElement(tag: "canvas"): {
      width: number;
      height: number;
      getContext(kind: "2d"): {
        drawImage(image: unknown, x: number, y: number): void;
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      } | null;
    };
  };
};
const executablePath = systemChromium();
const skip = skipWithoutChromium("Paywall browser tests");

describe.skipIf(skip)("paywall in Chromium", () => {
  let devnet: Devnet;
  let shop: Shop;
  let payer: NWCClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** What the CSP refused and what the page's script threw. */
  let problems: string[];

  beforeAll(async () => {
    if (executablePath === null)
      throw new Error(
        "CI needs Chromium for the paywall tests: apt-get install -y chromium, or set CHROMIUM_PATH",
      );
    devnet = await startDevnet({
      upstash: false,
      wallets: { merchant: {}, payer: { balanceSats: 10_000 } },
    });
    shop = await startShop(devnet);
    payer = new NWCClient({ nostrWalletConnectUrl: devnet.wallet("payer").connectionString });
    // --no-sandbox: CI and containers run as root, where Chromium's sandbox cannot start.
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    payer?.close();
    await shop?.stop();
    await devnet?.stop();
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 420, height: 760 } });
    page = await context.newPage();
    problems = [];
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/.test(message.text())) problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
  });

  afterEach(async () => {
    await context.close();
    expect(problems).toEqual([]);
  });

  /** Opens a resource as a browser does (Accept: text/html) and answers the invoice the page shows. */
  async function open(path: string): Promise<string> {
    const response = await page.goto(`${shop.url}${path}`);
    expect(response?.status()).toBe(402);
    const invoice = await page.locator("#qr").getAttribute("data-invoice");
    expect(invoice).toMatch(/^lnbcrt210n1/);
    return invoice ?? "";
  }

  it("behavior: shows the invoice unpaid, then once the devnet payer pays it, the bought JSON", async () => {
    const invoice = await open("/article");
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Waiting for payment…");
    expect(await page.getByText("21 sats").isVisible()).toBe(true);
    expect(await page.getByRole("textbox", { name: "Lightning invoice" }).inputValue()).toBe(
      invoice,
    );
    expect(
      await page.getByRole("img", { name: "QR code of the Lightning invoice" }).isVisible(),
    ).toBe(true);
    await expect.poll(() => page.locator("#countdown").textContent()).toMatch(/^(10:00|9:5\d)$/);
    // The style ran (allowed by its CSP hash): the primary look, not the browser default.
    expect(
      await page
        .locator("main")
        .evaluate((m) => (globalThis as unknown as InBrowser).getComputedStyle(m).maxWidth),
    ).toBe("416px");
    if (process.env.PAYWALL_SCREENSHOT) {
      mkdirSync(dirname(process.env.PAYWALL_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: process.env.PAYWALL_SCREENSHOT, fullPage: true });
    }

    await payer.payInvoice({ invoice });
    await page.getByText("Paid. Here is what you bought.").waitFor();
    expect(JSON.parse((await page.locator("#result-text").textContent()) ?? "")).toEqual({
      article: "A",
      text: "Paid, once.",
    });
    expect(await page.locator("#pay").isHidden()).toBe(true);
  });

  it("behavior: the QR code as Chromium draws it scans as LIGHTNING:<INVOICE>", async () => {
    const invoice = await open("/article");
    const png = await page.locator("#qr svg").screenshot();
    // Chromium decodes its own PNG into pixels (on a blank page, outside the paywall's CSP);
    // qr's reader, independent of the encoder's matrix, reads them.
    const blank = await context.newPage();
    const image = await blank.evaluate(async (base64) => {
      const { Image, document } = globalThis as unknown as InBrowser;
      const img = new Image();
      img.src = `data:image/png;base64,${base64}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      [canvas.width, canvas.height] = [img.width, img.height];
      const draw = canvas.getContext("2d");
      draw?.drawImage(img, 0, 0);
      const data = draw?.getImageData(0, 0, img.width, img.height).data ?? [];
      return { width: img.width, height: img.height, data: Array.from(data) };
    }, png.toString("base64"));
    expect(decodeQR({ ...image, data: Uint8Array.from(image.data) })).toBe(
      `LIGHTNING:${invoice.toUpperCase()}`,
    );
  });

  it("behavior: a page token in retry.headers travels with Ln402-Paid", async () => {
    const invoice = await open("/article?token=1");
    await payer.payInvoice({ invoice });
    await page.getByText("Paid. Here is what you bought.").waitFor();
    expect(await page.locator("#result-text").textContent()).toContain("Paid, once.");
  });

  it("behavior: anything but text or JSON is offered as a download, named as the server names it", async () => {
    const invoice = await open("/report.pdf");
    await payer.payInvoice({ invoice });
    const link = page.getByRole("link", { name: /^Download report\.pdf/ });
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    expect(download.suggestedFilename()).toBe("report.pdf");
  });

  it("error: when loading what was bought fails, the page says the payment counts and Try again loads it", async () => {
    const invoice = await open("/flaky");
    await payer.payInvoice({ invoice });
    await page
      .getByText(/Paid, but loading what you bought failed \(502 The upstream failed/)
      .waitFor();
    await page.getByRole("button", { name: "Try again" }).click();
    await page.getByText("Paid. Here is what you bought.").waitFor();
  });

  it("behavior: an unpaid invoice expires: the countdown ends and the page offers a reload", async () => {
    await open("/article?expiry=2");
    await page.getByText("This invoice expired unpaid. Reload the page for a new one.").waitFor();
    expect(await page.getByRole("button", { name: "Reload" }).isVisible()).toBe(true);
    expect(await page.locator("#pay").isHidden()).toBe(true);
  });

  it("behavior: Copy invoice puts the invoice on the clipboard", async () => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: shop.url });
    const invoice = await open("/article");
    await page.getByRole("button", { name: "Copy invoice" }).click();
    await page.getByText("Invoice copied.").waitFor();
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as InBrowser).navigator.clipboard.readText(),
      ),
    ).toBe(invoice);
  });

  it("behavior: no Pay with wallet button without window.webln", async () => {
    await open("/article");
    await page.getByRole("button", { name: "Copy invoice" }).waitFor();
    expect(await page.getByRole("button", { name: "Pay with wallet" }).count()).toBe(0);
  });

  it("behavior: with a WebLN wallet, Pay with wallet pays and the bought JSON appears", async () => {
    // A test double of a browser wallet (a WebLN provider such as Alby's extension): it pays
    // through the devnet payer, over NWC, outside the page.
    const paid: string[] = [];
    await page.exposeFunction("devnetPay", async (invoice: string) => {
      paid.push(invoice);
      return { preimage: (await payer.payInvoice({ invoice })).preimage };
    });
    await page.addInitScript(() => {
      const { window } = globalThis as unknown as InBrowser;
      const pay = window.devnetPay as (invoice: string) => Promise<{ preimage: string }>;
      Object.assign(window, {
        webln: { enable: async () => undefined, sendPayment: (invoice: string) => pay(invoice) },
      });
    });
    const invoice = await open("/article");
    await page.getByRole("button", { name: "Pay with wallet" }).click();
    await page.getByText("Paid. Here is what you bought.").waitFor();
    expect(paid).toEqual([invoice]);
    expect(await page.locator("#result-text").textContent()).toContain("Paid, once.");
  });

  it('error: a merchant description with </script> and "<img onerror> shows as text and runs nothing', async () => {
    const description = `Quote </script><script>window.pwned=1</script> "<img src=x onerror="window.pwned=2">`;
    await open(`/article?description=${encodeURIComponent(description)}`);
    expect(await page.locator("#description").textContent()).toBe(description);
    expect(await page.title()).toBe(`Pay 21 sats: ${description}`);
    expect(await page.locator("img").count()).toBe(0);
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Waiting for payment…");
    expect(
      await page.evaluate(() => (globalThis as unknown as InBrowser).window.pwned),
    ).toBeUndefined();
  });
});
