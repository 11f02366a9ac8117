import { sha256 } from "@noble/hashes/sha2.js";
import { base64 } from "@scure/base";

/**
 * The paywall's inline style and script. Both are constants: the page's data travels in a
 * JSON data block (`<script type="application/json">`, never executed), so their CSP hashes
 * are fixed and no nonce has to be threaded through the gateway.
 */

/** The page's style: one column, system fonts, high contrast, visible focus, QR black on white. */
export const PAYWALL_STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#f4f4f5}
main{max-width:26rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.25rem;margin:0 0 .25rem}
h2{font-size:1.1rem;margin:1rem 0 .5rem}
.amount{font-size:2rem;font-weight:700;margin:0}
.desc{margin:.25rem 0 1rem;overflow-wrap:anywhere}
#qr{display:block;width:100%;max-width:20rem;margin:0 auto;border:1px solid #d4d4d8;background:#fff}
#qr svg{display:block;width:100%;height:auto}
.status{font-weight:600;margin:1rem 0 .25rem}
.muted{color:#3f3f46;margin:0 0 1rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem}
button,.button{flex:1 1 auto;min-height:2.75rem;padding:.5rem 1rem;border:2px solid #111;border-radius:.5rem;
background:#fff;color:#111;font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer}
.primary{background:#111;color:#fff}
button:disabled{opacity:.6;cursor:default}
:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
label{display:block;font-weight:600}
textarea{width:100%;font:13px/1.4 ui-monospace,Menlo,Consolas,monospace;padding:.5rem;border:1px solid #71717a;border-radius:.25rem;resize:vertical;word-break:break-all}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #d4d4d8;border-radius:.25rem;padding:.75rem;margin:0}
[hidden]{display:none!important}
`.trim();

/**
 * The page's behaviour, in plain ES2020 for any browser: count down to expiry, poll the
 * status URL every 1.5 s, pay through WebLN when a wallet is injected, and once paid
 * retry the original request with `Ln402-Paid` and show (or offer to download) the answer.
 */
export const PAYWALL_SCRIPT = `
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var cfg = JSON.parse($("ln402-paywall").textContent);
  var deadline = performance.now() + cfg.expiresInSecs * 1000;
  var done = false, polling = false, next = 0;
  function say(text) { $("status").textContent = text; }
  function note(text) { $("note").textContent = text; }

  function tick() {
    var left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
    $("countdown").textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    return left;
  }
  var timer = setInterval(function () { if (tick() === 0) clearInterval(timer); }, 1000);
  tick();

  function expired() {
    done = true;
    clearInterval(timer);
    $("pay").hidden = true;
    say("This invoice expired unpaid. Reload the page for a new one.");
    $("reload").hidden = false;
  }

  // One poll at a time; the last one starts after the deadline, so a payment made in the
  // final second is still seen.
  function poll() {
    if (done || polling) return;
    polling = true;
    clearTimeout(next);
    var late = performance.now() >= deadline;
    fetch(cfg.statusUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (res) { return res.ok ? res.json() : { paid: false }; })
      .catch(function () { return { paid: false }; })
      .then(function (body) {
        polling = false;
        if (done) return;
        if (body && body.paid === true) return paid();
        if (late) return expired();
        next = setTimeout(poll, 1500);
      });
  }

  function paid() {
    done = true;
    clearInterval(timer);
    $("pay").hidden = true;
    say("Paid. Loading what you bought…");
    retrieve();
  }

  function retrieve() {
    $("again").hidden = true;
    var headers = Object.assign({}, cfg.retry.headers, { "Ln402-Paid": cfg.paymentHash });
    fetch(cfg.retry.url, { method: cfg.retry.method, headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok) {
          return res.text().then(function (text) { failed(res.status + " " + detail(text)); });
        }
        return show(res).then(function () { say("Paid. Here is what you bought."); });
      })
      .catch(function () { failed("the network failed"); });
  }

  function detail(text) {
    try { var p = JSON.parse(text); return String(p.detail || p.title || ""); } catch (e) { return ""; }
  }

  function failed(why) {
    say("Paid, but loading what you bought failed (" + why.trim() + "). Your payment still counts: try again.");
    $("again").hidden = false;
  }

  function show(res) {
    var type = (res.headers.get("Content-Type") || "").toLowerCase();
    $("result").hidden = false;
    $("result-title").focus();
    if (/^text\\/(?!html)|[/+]json(;|$)/.test(type)) {
      return res.text().then(function (text) {
        if (/json/.test(type)) { try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {} }
        $("result-text").textContent = text;
        $("result-text").hidden = false;
      });
    }
    return res.blob().then(function (blob) {
      var a = $("download");
      a.href = URL.createObjectURL(blob);
      a.download = fileName(res);
      a.textContent = "Download " + a.download + " (" + Math.max(1, Math.round(blob.size / 1024)) + " kB)";
      a.hidden = false;
    });
  }

  function fileName(res) {
    var m = /filename="?([^";]+)"?/i.exec(res.headers.get("Content-Disposition") || "");
    var name = m ? m[1] : new URL(res.url || cfg.retry.url, location.href).pathname.split("/").pop();
    return (name || "").replace(/[\\\\/:*?"<>|\\u0000-\\u001f]/g, "_") || "download";
  }

  $("copy").addEventListener("click", function () {
    var area = $("invoice");
    var copied = navigator.clipboard ? navigator.clipboard.writeText(cfg.invoice) : Promise.reject();
    copied.catch(function () { area.select(); if (!document.execCommand("copy")) throw new Error(); })
      .then(function () { note("Invoice copied."); }, function () { area.select(); note("Press Ctrl+C (or ⌘C) to copy the selected invoice."); });
  });

  function offerWebln() {
    var webln = window.webln, button = $("webln");
    if (done || !webln || typeof webln.sendPayment !== "function" || !button.hidden) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      note("Waiting for your wallet…");
      Promise.resolve(webln.enable ? webln.enable() : undefined)
        .then(function () { return webln.sendPayment(cfg.invoice); })
        .then(function () { note("Your wallet sent the payment."); poll(); })
        .catch(function (e) { note("Your wallet did not pay" + (e && e.message ? ": " + e.message : ".")); button.disabled = false; });
    });
  }
  offerWebln();
  window.addEventListener("webln:ready", offerWebln);
  $("again").addEventListener("click", retrieve);
  $("reload").addEventListener("click", function () { location.reload(); });
  poll();
})();
`.trim();

function cspHash(source: string): string {
  return `'sha256-${base64.encode(sha256(new TextEncoder().encode(source)))}'`;
}

/** The CSP source expression (`'sha256-…'`) of `PAYWALL_SCRIPT`. */
export const PAYWALL_SCRIPT_HASH = cspHash(PAYWALL_SCRIPT);
/** The CSP source expression (`'sha256-…'`) of `PAYWALL_STYLE`. */
export const PAYWALL_STYLE_HASH = cspHash(PAYWALL_STYLE);
