import fc from "fast-check";
import { Challenge as MppxChallenge } from "mppx";
import { describe, expect, it } from "vitest";
import * as Challenge from "./Challenge.ts";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";
const REQUEST = {
  amount: "21",
  currency: "sat",
  methodDetails: { invoice: "lnbcrt210n1…", paymentHash: "cd".repeat(32), network: "regtest" },
};
const BASE = {
  realm: "api.example.com",
  method: "lightning",
  intent: "charge",
  request: REQUEST,
  expires: "2026-11-21T09:05:00.000Z",
};

describe("Challenge.from / verify", () => {
  it("interop: the id equals mppx's for the same inputs, with and without optional fields", () => {
    const variants = [
      BASE,
      { ...BASE, description: "A weather report — ☀️" },
      { ...BASE, digest: "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=" },
      { ...BASE, opaque: "eyJyb3V0ZSI6Ii93ZWF0aGVyIn0" },
      // draft-httpauth-payment-01: the conditional 8th slot, before opaque.
      { ...BASE, header: "Payment-Authorization" },
      { ...BASE, header: "Payment-Authorization", opaque: "eyJyb3V0ZSI6Ii93ZWF0aGVyIn0" },
    ];
    for (const v of variants) {
      const ours = Challenge.from({ ...v, secretKey: SECRET });
      const theirs = MppxChallenge.from({ ...v, secretKey: SECRET });
      expect(ours.id).toBe(theirs.id);
      expect(MppxChallenge.verify(theirs, { secretKey: SECRET })).toBe(true);
      expect(Challenge.verify(ours, SECRET)).toBe(true);
      expect(Challenge.serialize(ours)).toBe(MppxChallenge.serialize(theirs));
      expect(Challenge.parseAll([MppxChallenge.serialize(theirs)])).toEqual([ours]);
    }
  });

  it("behavior: the description is not bound; every other field is", () => {
    const c = Challenge.from({ ...BASE, secretKey: SECRET });
    expect(Challenge.verify({ ...c, description: "changed" }, SECRET)).toBe(true);
    expect(Challenge.verify({ ...c, realm: "evil.example" }, SECRET)).toBe(false);
    expect(Challenge.verify({ ...c, request: { ...REQUEST, amount: "1" } }, SECRET)).toBe(false);
    expect(Challenge.verify({ ...c, expires: "2030-01-01T00:00:00.000Z" }, SECRET)).toBe(false);
    expect(Challenge.verify({ ...c, opaque: "x" }, SECRET)).toBe(false);
    expect(Challenge.verify(c, `${SECRET}x`)).toBe(false);
    expect(Challenge.verify({ ...c, id: c.id.slice(1) }, SECRET)).toBe(false);
  });

  it("error: rejects an expires that is not RFC 3339", () => {
    expect(() => Challenge.from({ ...BASE, expires: "tomorrow", secretKey: SECRET })).toThrow(
      TypeError,
    );
  });
});

describe("Challenge.serialize / parseAll", () => {
  it("interop: mppx reads our header, and we read mppx's, field for field", () => {
    const input = { ...BASE, description: 'Grüße "quoted" \\ ☀️ 😀', opaque: "b3BhcXVl" };
    const ours = Challenge.from({ ...input, secretKey: SECRET });
    const theirs = MppxChallenge.from({ ...input, secretKey: SECRET });
    expect(Challenge.serialize(ours)).toBe(MppxChallenge.serialize(theirs));
    const read = MppxChallenge.deserialize(Challenge.serialize(ours));
    expect(read).toMatchObject(ours);
    expect(MppxChallenge.verify(read, { secretKey: SECRET })).toBe(true);
    expect(Challenge.parseAll([MppxChallenge.serialize(theirs)])).toEqual([ours]);
  });

  it("behavior: finds several Payment challenges among other schemes and header values", () => {
    const a = Challenge.from({ ...BASE, secretKey: SECRET });
    const b = Challenge.from({ ...BASE, method: "tempo", secretKey: SECRET });
    const header = `Bearer abc+/==, Basic realm="x, Payment y", ${Challenge.serialize(a)}, ${Challenge.serialize(b)}`;
    const parsed = Challenge.parseAll([header, `PAYMENT${Challenge.serialize(a).slice(7)}`]);
    expect(parsed.map((c) => c.method)).toEqual(["lightning", "tempo", "lightning"]);
    expect(parsed[0]).toEqual(a);
  });

  it("behavior: ignores unknown parameters and accepts unquoted tokens", () => {
    const c = Challenge.from({ ...BASE, secretKey: SECRET });
    const header = `Payment future="1", id=${c.id}, realm="${c.realm}", method=lightning, intent=charge, request="${Challenge.encodeRequest(REQUEST)}", expires="${BASE.expires}"`;
    expect(Challenge.parseAll([header])).toEqual([c]);
  });

  it("error: drops a challenge that repeats a parameter or lacks one, keeps the others", () => {
    const c = Challenge.from({ ...BASE, secretKey: SECRET });
    const dup = Challenge.serialize(c).replace("realm=", 'realm="a", realm=');
    const noId = Challenge.serialize(c).replace(/id="[^"]*", /, "");
    const badRequest = Challenge.serialize(c).replace(/request="[^"]*"/, 'request="!!"');
    const upperMethod = Challenge.serialize(c).replace('method="lightning"', 'method="Lightning"');
    expect(Challenge.parseAll([dup, noId, badRequest, upperMethod])).toEqual([]);
    expect(Challenge.parseAll([`${dup}, ${Challenge.serialize(c)}`])).toEqual([c]);
  });

  it("error: throws SyntaxError on an unterminated quoted-string", () => {
    expect(() => Challenge.parseAll(['Payment id="abc'])).toThrow(SyntaxError);
  });

  it("fuzz: any string either parses or throws SyntaxError; round trips hold", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          Challenge.parseAll([s]);
        } catch (err) {
          expect(err).toBeInstanceOf(SyntaxError);
        }
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 60 }),
        fc.string({ maxLength: 60 }),
        (realm, description) => {
          fc.pre(!/[\r\n\0]/.test(realm + description));
          const c = Challenge.from({
            ...BASE,
            realm,
            secretKey: SECRET,
            ...(description && { description }),
          });
          expect(Challenge.parseAll([Challenge.serialize(c)])).toEqual([c]);
        },
      ),
    );
  });
});
