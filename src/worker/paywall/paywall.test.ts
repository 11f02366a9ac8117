import { sha256 } from "@noble/hashes/sha2.js";
import { base64 } from "@scure/base";
import decodeQR from "qr/decode.js";
import { describe, expect, it } from "vitest";
import {
  type PaywallInput,
  paywallCsp,
  paywallHeaders,
  renderPaywall,
  wantsPaywall,
} from "./index.ts";

/** A devnet invoice (regtest, 21 sats). */
const INVOICE =
  "lnbcrt210n1p4scezupp5x9d737klygvrstyexf59vr7d3kqvuzkv7tg3fqapuua8ll52y3gssp56nndfpyssg0pqdyk02vcwwdxt49766dd9a3frs3ma84apf6xthrsdpdgys9xct5daeks6fqw96k7ar99ssxvmmjyqerzgrnv968xcqpj9qrsgqa99gsgylrduxru9u7dzfftt6jndmfpwjs5klaaqme8udy3nls3kjdjnahk9rnw802fz9ktq5j0w5sf5vjeudwraml5qfs4wkzcr25lcqqkgsgs";
const HASH = "31".repeat(32);

function input(overrides: Partial<PaywallInput> = {}): PaywallInput {
  return {
    invoice: INVOICE,
    paymentHash: HASH,
    amountSats: 21,
    description: "A Satoshi quote",
    statusUrl: `/invoice/status/${HASH}`,
    retry: { url: "/gw/m_1/quote", method: "GET" },
    expiresAt: 1_700_000_600,
    now: 1_700_000_000,
    ...overrides,
  };
}

/** The inline elements of a page: the bodies of `<tag ...>…</tag>`. */
function inline(html: string, tag: "script" | "style"): string[] {
  return [...html.matchAll(new RegExp(`<${tag}([^>]*)>([\\s\\S]*?)</${tag}>`, "g"))].map(
    (m) => `${m[1]}\u0000${m[2]}`,
  );
}

/** Draws the QR code's SVG path back into pixels (4 per module) and decodes it with `qr`'s reader. */
function decodeSvgQr(html: string): string {
  const svg = /<svg[^>]*viewBox="0 0 (\d+) \1"[\s\S]*?<path d="([^"]+)"/.exec(html);
  if (!svg?.[1] || !svg[2]) throw new Error("no QR code in the page");
  const size = Number(svg[1]);
  const dark = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  let pen = 0;
  let y = 0;
  for (const [, op, a, b, n] of svg[2].matchAll(/([Mm])(\d+) (\d+)h(\d+)v1h-\4z/g)) {
    if (op === "M") [pen, y] = [Number(a), Number(b)];
    else pen += Number(a);
    (dark[y] as boolean[]).fill(true, pen, pen + Number(n));
  }
  const scale = 4;
  const width = size * scale;
  const data = new Uint8Array(width * width * 4).fill(255);
  for (let py = 0; py < width; py++)
    for (let px = 0; px < width; px++)
      if (dark[Math.floor(py / scale)]?.[Math.floor(px / scale)])
        data.fill(0, (py * width + px) * 4, (py * width + px) * 4 + 3);
  return decodeQR({ width, height: width, data });
}

describe("renderPaywall", () => {
  it("behavior: shows the amount, the description, the invoice and a QR code that reads LIGHTNING:<INVOICE>", () => {
    const html = renderPaywall(input());
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<p class="amount">21 sats</p>');
    expect(html).toContain(">A Satoshi quote</p>");
    expect(html).toContain(
      `<textarea id="invoice" rows="4" readonly spellcheck="false">${INVOICE}</textarea>`,
    );
    expect(html).toContain(`data-invoice="${INVOICE}"`);
    expect(decodeSvgQr(html)).toBe(`LIGHTNING:${INVOICE.toUpperCase()}`);
  });

  it("behavior: the page stays small: under 24 kB for a typical invoice, with no external asset", () => {
    const html = renderPaywall(input());
    expect(new TextEncoder().encode(html).length).toBeLessThan(24_000);
    expect(html).not.toMatch(/\b(src|srcset)=|<link|@import|url\(|https?:\/\//);
  });

  it("behavior: the countdown starts from the server's clock, not the browser's", () => {
    const html = renderPaywall(input({ now: 1_700_000_450 }));
    expect(html).toContain('"expiresInSecs":150');
    expect(renderPaywall(input({ now: 1_800_000_000 }))).toContain('"expiresInSecs":0');
  });

  it("error: a description cannot break out of its text, an attribute or the data block", () => {
    const description = `</script><script>alert(1)</script>"<img src=x onerror=alert(2)>'&`;
    const html = renderPaywall(input({ description }));
    expect(html).not.toContain("<img");
    expect(html).not.toContain("alert(1)</script>");
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).toContain(
      "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&lt;img src=x onerror=alert(2)&gt;&#39;&amp;",
    );
  });

  it("error: a URL cannot close the data block it travels in", () => {
    const url = "/gw/m_1/q?</script><img src=x onerror=alert(1)>";
    const html = renderPaywall(input({ retry: { url, method: "GET" } }));
    const block = /<script type="application\/json" id="ln402-paywall">([\s\S]*?)<\/script>/.exec(
      html,
    );
    expect(block?.[1]).not.toMatch(/[<>]/);
    expect(JSON.parse(block?.[1] ?? "{}").retry.url).toBe(url);
    expect(html).not.toContain("<img");
  });

  it("error: refuses input it cannot render safely", () => {
    expect(() => renderPaywall(input({ paymentHash: "zz" }))).toThrow(/paymentHash/);
    expect(() => renderPaywall(input({ invoice: "lnbc1<b>" }))).toThrow(/BOLT11/);
    expect(() => renderPaywall(input({ statusUrl: "javascript:alert(1)" }))).toThrow(/http/);
    expect(() => renderPaywall(input({ retry: { url: "/x", method: "GET\r\nX" } }))).toThrow(
      /method/,
    );
    expect(() => renderPaywall(input({ amountSats: 1.5 }))).toThrow(/amountSats/);
  });
});

describe("paywallCsp", () => {
  it("behavior: allows exactly the page's inline script and style, by hash, and nothing external", () => {
    const html = renderPaywall(input());
    const csp = paywallCsp(input());
    const hash = (text: string) =>
      `'sha256-${base64.encode(sha256(new TextEncoder().encode(text)))}'`;
    const scripts = inline(html, "script").filter((s) => !s.includes('type="application/json"'));
    const styles = inline(html, "style");
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    expect(csp).toContain(`script-src ${hash(scripts[0]?.split("\u0000")[1] ?? "")};`);
    expect(csp).toContain(`style-src ${hash(styles[0]?.split("\u0000")[1] ?? "")};`);
    expect(csp).toMatch(/^default-src 'none';/);
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it("behavior: lets the page reach an absolute status or retry URL's origin", () => {
    const csp = paywallCsp({
      statusUrl: "https://ln402.example/invoice/status/ab",
      retry: { url: "https://ln402.example/gw/m_1/x", method: "GET" },
    });
    expect(csp).toContain("connect-src 'self' https://ln402.example;");
  });

  it("behavior: the page's headers forbid caching and sniffing and carry the CSP", () => {
    expect(paywallHeaders(input())).toEqual({
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": paywallCsp(input()),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    });
  });
});

describe("wantsPaywall", () => {
  const CHROME =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

  it("behavior: a browser navigation gets the page", () => {
    expect(wantsPaywall({ method: "GET", accept: CHROME })).toBe(true);
    expect(wantsPaywall({ method: "HEAD", accept: "text/html" })).toBe(true);
  });

  it("behavior: agents, JSON clients and requests with a body get the bare 402", () => {
    expect(wantsPaywall({ method: "GET", accept: null })).toBe(false);
    expect(wantsPaywall({ method: "GET", accept: "*/*" })).toBe(false);
    expect(wantsPaywall({ method: "GET", accept: "application/json" })).toBe(false);
    expect(wantsPaywall({ method: "GET", accept: "application/json, text/html;q=0.5" })).toBe(
      false,
    );
    expect(wantsPaywall({ method: "GET", accept: "text/html;q=0" })).toBe(false);
    expect(wantsPaywall({ method: "POST", accept: CHROME })).toBe(false);
  });
});
