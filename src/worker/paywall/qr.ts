import { encodeQR } from "qr";

/**
 * The invoice as a QR code in inline SVG, drawn by ln402 (no image service, no external
 * asset, nothing for the CSP to allow).
 *
 * The matrix comes from `qr` (Paul Miller's zero-dependency encoder, the author of the
 * `@noble/*` libraries ln402 already trusts). Its own SVG output draws one square per dark
 * module (~12 bytes each, 12 kB and more for an invoice); one rectangle per horizontal run of
 * dark modules takes about half that.
 */

/** BIP-21 style payload: uppercase so the whole text fits QR's alphanumeric mode (BOLT11 is case-insensitive). */
export function qrPayload(invoice: string): string {
  return `LIGHTNING:${invoice.toUpperCase()}`;
}

/** The dark/light module matrix of `text`, quiet zone included (ISO/IEC 18004 §6.3.8: 4 modules). */
export function qrMatrix(text: string): boolean[][] {
  // Medium error correction: survives a scuffed screen or glare; low would save one version.
  return encodeQR(text, "raw", { ecc: "medium", border: 4 });
}

/**
 * Every horizontal run of dark modules as a rectangle of one filled path: `M<x> <y>h<n>v1h-<n>z`
 * for a row's first run, then `m<gap> 0h<n>v1h-<n>z` (after `z` the pen is back at the
 * previous run's start). One fill, not strokes: abutting rows leave no seam when the code
 * is scaled by a fraction, as strokes did in Chromium.
 */
export function runsPath(matrix: boolean[][]): string {
  let d = "";
  matrix.forEach((row, y) => {
    let pen = -1; // the previous run's start, where `z` leaves the pen; -1 before a row's first run
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (row[x]) x++;
      const n = x - start;
      d += `${pen < 0 ? `M${start} ${y}` : `m${start - pen} 0`}h${n}v1h-${n}z`;
      pen = start;
    }
  });
  return d;
}

/**
 * The QR code of `lightning:<invoice>` as an `<svg>` element. It scales to its box
 * (`viewBox`, no fixed size) and is named for screen readers.
 */
export function invoiceQrSvg(invoice: string): string {
  const matrix = qrMatrix(qrPayload(invoice));
  const size = matrix.length;
  // Inline in HTML: the parser puts <svg> in the SVG namespace, no xmlns needed.
  return (
    `<svg viewBox="0 0 ${size} ${size}" role="img" ` +
    `aria-label="QR code of the Lightning invoice">` +
    `<rect width="${size}" height="${size}" fill="#fff"/>` +
    `<path d="${runsPath(matrix)}"/></svg>`
  );
}
