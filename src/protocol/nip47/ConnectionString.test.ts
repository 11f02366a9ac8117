import { bytesToHex } from "@noble/hashes/utils.js";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { describe, expect, it } from "vitest";
import {
  InvalidNwcUrlError,
  MAX_RELAYS,
  type NwcConnection,
  parseConnectionString,
} from "./ConnectionString.ts";

const SECRET = bytesToHex(generateSecretKey());
const WALLET = getPublicKey(generateSecretKey());
const RELAY = "wss://relay.example.com";
const SECURE = { allowInsecureRelays: false };
const INSECURE = { allowInsecureRelays: true };

function nwcUrl(
  query = `relay=${encodeURIComponent(RELAY)}&secret=${SECRET}`,
  pubkey = WALLET,
): string {
  return `nostr+walletconnect://${pubkey}?${query}`;
}

/** The problem a bad string raises; fails the test if it parses. */
function rejection(input: string, options = SECURE): InvalidNwcUrlError {
  try {
    parseConnectionString(input, options);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidNwcUrlError);
    return err as InvalidNwcUrlError;
  }
  throw new Error(`expected ${input} to be rejected`);
}

describe("parseConnectionString", () => {
  it("behavior: reads the wallet pubkey, relays, secret and lud16 of a canonical string", () => {
    const input = nwcUrl(
      `relay=${encodeURIComponent(RELAY)}&relay=wss%3A%2F%2Fnos.lol&secret=${SECRET}&lud16=shop%40example.com`,
    );
    expect(parseConnectionString(input, SECURE)).toEqual<NwcConnection>({
      walletPubkey: WALLET,
      relays: [RELAY, "wss://nos.lol"],
      secret: SECRET,
      lud16: "shop@example.com",
    });
  });

  it("behavior: accepts the legacy nostrwalletconnect scheme, forms without //, and surrounding whitespace", () => {
    const query = `relay=${encodeURIComponent(RELAY)}&secret=${SECRET}`;
    for (const input of [
      `nostrwalletconnect://${WALLET}?${query}`,
      `nostr+walletconnect:${WALLET}?${query}`,
      `NOSTR+WALLETCONNECT://${WALLET}/?${query}`,
      `  ${nwcUrl()}\n`,
    ]) {
      expect(parseConnectionString(input, SECURE)).toEqual({
        walletPubkey: WALLET,
        relays: [RELAY],
        secret: SECRET,
      });
    }
  });

  it("behavior: drops repeated relays (also when they differ only by a trailing slash), keeping order", () => {
    const query = ["wss://b.example", "wss://a.example", "wss://b.example/", "wss://a.example"]
      .map((r) => `relay=${encodeURIComponent(r)}`)
      .join("&");
    const { relays } = parseConnectionString(nwcUrl(`${query}&secret=${SECRET}`), SECURE);
    expect(relays).toEqual(["wss://b.example", "wss://a.example"]);
  });

  it("behavior: ws:// relays are accepted only when insecure relays are allowed", () => {
    const input = nwcUrl(`relay=ws%3A%2F%2F127.0.0.1%3A7777&secret=${SECRET}`);
    expect(parseConnectionString(input, INSECURE).relays).toEqual(["ws://127.0.0.1:7777"]);
    expect(rejection(input).detail).toContain("uses ws://, which is unencrypted; use wss://");
  });

  it("error: the problem is a 400 invalid-nwc-url that shows an example of a good string", () => {
    const err = rejection("https://example.com");
    expect(err.toJSON()).toMatchObject({
      type: "urn:ln402:problem:invalid-nwc-url",
      title: "Invalid NWC connection string",
      status: 400,
    });
    expect(err.detail).toMatch(/must start with nostr\+walletconnect:\/\/\. Send .*nostr\+wallet/);
  });

  it.each([
    ["an uppercase wallet pubkey", nwcUrl(undefined, WALLET.toUpperCase()), "lowercase"],
    ["an odd-length wallet pubkey", nwcUrl(undefined, WALLET.slice(1)), "63, an odd length"],
    ["a short wallet pubkey", nwcUrl(undefined, WALLET.slice(2)), "it has 62"],
    ["a non-hex wallet pubkey", nwcUrl(undefined, `npub${WALLET.slice(4)}`), "must be hex"],
    ["no wallet pubkey", nwcUrl(undefined, ""), "pubkey after the scheme is missing"],
    ["a pubkey that is not a curve point", nwcUrl(undefined, "5".padStart(64, "0")), "not a valid"],
    ["an uppercase secret", nwcUrl(`relay=${RELAY}&secret=${SECRET.toUpperCase()}`), "lowercase"],
    ["an odd-length secret", nwcUrl(`relay=${RELAY}&secret=${SECRET.slice(1)}`), "odd length"],
    ["a zero secret", nwcUrl(`relay=${RELAY}&secret=${"0".repeat(64)}`), "not a valid secp256k1"],
    ["no secret", nwcUrl(`relay=${RELAY}`), "exactly one secret parameter; found 0"],
    ["two secrets", nwcUrl(`relay=${RELAY}&secret=${SECRET}&secret=${SECRET}`), "found 2"],
    ["no relay", nwcUrl(`secret=${SECRET}`), "at least one relay"],
    ["an https relay", nwcUrl(`relay=https://r.example&secret=${SECRET}`), "must be a wss:// URL"],
    ["a relay that is not a URL", nwcUrl(`relay=relay.example&secret=${SECRET}`), "is not a URL"],
    ["relay credentials", nwcUrl(`relay=wss://u:p@r.example&secret=${SECRET}`), "credentials"],
    ["a bad lud16", nwcUrl(`relay=${RELAY}&secret=${SECRET}&lud16=shop`), "lightning address"],
    ["another scheme", `lightning:${WALLET}`, "must start with nostr+walletconnect://"],
    ["an empty string", "", "must start with"],
  ])("error: %s is refused, saying what is wrong", (_name, input, expected) => {
    expect(rejection(input).detail).toContain(expected);
  });

  it(`error: more than ${MAX_RELAYS} distinct relays are refused`, () => {
    const relays = Array.from({ length: MAX_RELAYS + 1 }, (_, i) => `relay=wss://r${i}.example`);
    expect(rejection(nwcUrl(`${relays.join("&")}&secret=${SECRET}`)).detail).toContain(
      `names ${MAX_RELAYS + 1} relays; at most ${MAX_RELAYS}`,
    );
  });

  it("security: no message repeats the secret, even when it sits where a relay or pubkey should", () => {
    const inputs = [
      nwcUrl(`relay=ws://${SECRET}.example&secret=${SECRET}`),
      nwcUrl(`relay=${SECRET}&secret=${SECRET}`),
      nwcUrl(`relay=ws://r.example/?k=${SECRET}&secret=${SECRET}`),
      nwcUrl(`relay=${RELAY}&secret=${SECRET}x`),
      nwcUrl(`relay=${RELAY}&secret=${SECRET.toUpperCase()}`),
      nwcUrl(`relay=${RELAY}&secret=${SECRET}`, `${SECRET}0`),
      nwcUrl(`relay=${RELAY}&secret=${SECRET}&lud16=${SECRET}`),
    ];
    for (const input of inputs) {
      const err = rejection(input);
      const shown = JSON.stringify([err.message, err.toJSON()]).toLowerCase();
      for (let at = 0; at + 16 <= SECRET.length; at++)
        expect(shown).not.toContain(SECRET.slice(at, at + 16));
    }
  });
});
