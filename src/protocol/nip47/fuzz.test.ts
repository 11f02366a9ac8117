import { bytesToHex } from "@noble/hashes/utils.js";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { describe, expect, it } from "vitest";
import { mulberry32, SAMPLE_HASH, WIRE_TX } from "../../../test/support/fixtures.ts";
import {
  InvalidNwcUrlError,
  type NwcConnection,
  parseConnectionString,
} from "./ConnectionString.ts";
import {
  ERROR_CODES,
  METHODS,
  NwcResponseError,
  parseNotification,
  parseResponse,
  parseResult,
} from "./Messages.ts";

/**
 * Fuzz tests of the NIP-47 parsers, with a seeded PRNG so the inputs are the same on
 * every run: whatever a merchant pastes or a wallet sends, the only failures are the
 * typed problems, and no message repeats the secret.
 */

const SECRET = bytesToHex(generateSecretKey());
const WALLET = getPublicKey(generateSecretKey());
const HASH = SAMPLE_HASH;

describe("parseConnectionString (fuzz)", () => {
  it("behavior (fuzz): mutated strings either parse to lowercase keys and ws(s) relays or throw InvalidNwcUrlError without the secret", () => {
    const random = mulberry32(0x4e5743);
    const base = `nostr+walletconnect://${WALLET}?relay=wss%3A%2F%2Frelay.example.com&relay=ws%3A%2F%2F127.0.0.1%3A1&secret=${SECRET}&lud16=a%40b.c`;
    const alphabet = "0123456789abcdefABCDEF:/?&=%+@.# \u0000é⚡";
    let parsed = 0;
    for (let i = 0; i < 2_000; i++) {
      const chars = [...base];
      for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
        const at = Math.floor(random() * chars.length);
        const op = random();
        if (op < 0.4) chars[at] = alphabet[Math.floor(random() * alphabet.length)] ?? "";
        else if (op < 0.7) chars.splice(at, 1);
        else chars.splice(at, Math.floor(random() * 40));
      }
      const input = chars.join("");
      let outcome: NwcConnection | unknown;
      try {
        outcome = parseConnectionString(input, { allowInsecureRelays: random() < 0.5 });
      } catch (err) {
        outcome = err;
      }
      if (outcome instanceof Error) {
        expect(outcome).toBeInstanceOf(InvalidNwcUrlError);
        const message = outcome.message.toLowerCase();
        for (let at = 0; at + 16 <= SECRET.length; at++)
          expect(message).not.toContain(SECRET.slice(at, at + 16));
      } else {
        parsed++;
        const conn = outcome as NwcConnection;
        expect(conn.walletPubkey).toMatch(/^[0-9a-f]{64}$/);
        expect(conn.secret).toMatch(/^[0-9a-f]{64}$/);
        expect(conn.relays.length).toBeGreaterThan(0);
        for (const relay of conn.relays) expect(URL.parse(relay)?.protocol).toMatch(/^wss?:$/);
      }
    }
    // Some mutations (inside lud16 or the second relay) still parse: the fuzz reaches past the scheme.
    expect(parsed).toBeGreaterThan(0);
  });
});

describe("NIP-47 messages (fuzz)", () => {
  it("behavior (fuzz): random and garbled wallet output only ever yields values or the typed errors", () => {
    const random = mulberry32(0x2347);
    const leaves = [null, true, 0, -1, 1.5, 2 ** 60, "", "x", HASH, HASH.toUpperCase(), [], {}];
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.4) return leaves[Math.floor(random() * leaves.length)];
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      const keys = ["result_type", "error", "result", "code", "message", ...Object.keys(WIRE_TX)];
      return Object.fromEntries(
        keys.filter(() => random() < 0.3).map((k) => [k, value(depth + 1)]),
      );
    };
    const mutate = (base: Record<string, unknown>): Record<string, unknown> => {
      const copy: Record<string, unknown> = { ...base };
      const keys = Object.keys(copy);
      const key = keys[Math.floor(random() * keys.length)] ?? "x";
      if (random() < 0.5) delete copy[key];
      else copy[key] = value(2);
      return copy;
    };
    const plaintexts: string[] = [];
    for (let i = 0; i < 1_500; i++) {
      const good = { result_type: "lookup_invoice", error: null, result: mutate(WIRE_TX) };
      const candidates = [
        JSON.stringify(value(0)),
        JSON.stringify(mutate(good)),
        JSON.stringify({ notification_type: "payment_received", notification: mutate(WIRE_TX) }),
        JSON.stringify(mutate(good)).slice(0, Math.floor(random() * 200)),
      ];
      plaintexts.push(candidates[i % candidates.length] ?? "");
    }
    let parsedResults = 0;
    for (const plaintext of plaintexts) {
      for (const method of METHODS) {
        try {
          const parsed = parseResponse(plaintext, method);
          if (parsed.ok) {
            parseResult(method, parsed.result);
            parsedResults++;
          } else expect(ERROR_CODES).toContain(parsed.error.code);
        } catch (err) {
          expect(err).toBeInstanceOf(NwcResponseError);
        }
      }
      try {
        parseNotification(plaintext);
      } catch (err) {
        expect(err).toBeInstanceOf(NwcResponseError);
      }
    }
    // Mutations of optional fields still parse: the fuzz reaches the result schemas.
    expect(parsedResults).toBeGreaterThan(0);
  });
});
