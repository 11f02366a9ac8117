import { describe, expect, it } from "vitest";
import { walletNetwork } from "./Networks.ts";
import { ERROR_CODES, NWC_ERROR_KINDS, NwcWalletError } from "./NwcErrors.ts";

describe("walletNetwork: the one network-name table", () => {
  it("behavior: bitcoind and LND names map to BOLT11 networks", () => {
    expect(walletNetwork("bitcoin")).toBe("mainnet");
    expect(walletNetwork("mainnet")).toBe("mainnet");
    expect(walletNetwork("testnet3")).toBe("testnet");
    expect(walletNetwork("testnet4")).toBe("testnet");
    expect(walletNetwork("Signet")).toBe("signet");
    expect(walletNetwork("regtest")).toBe("regtest");
  });

  it("error: unknown, non-string and prototype names are not networks", () => {
    for (const name of ["liquidv1", "", "toString", "__proto__", 1, null, undefined]) {
      expect(walletNetwork(name), String(name)).toBeNull();
    }
  });
});

describe("NWC_ERROR_KINDS: the one NIP-47 error reading", () => {
  it("behavior: every NIP-47 code has a kind, and a quota is insufficient funds (not a busy wallet)", () => {
    for (const code of ERROR_CODES) expect(NWC_ERROR_KINDS[code]).toBeTypeOf("string");
    expect(new NwcWalletError("QUOTA_EXCEEDED", "over budget", "pay_invoice").kind).toBe(
      "insufficient_funds",
    );
    expect(new NwcWalletError("RATE_LIMITED", "", "make_invoice").status).toBe(503);
    expect(new NwcWalletError("NOT_FOUND", "", "lookup_invoice").status).toBe(404);
    expect(new NwcWalletError("WHATEVER", "", "get_info")).toMatchObject({
      code: "OTHER",
      kind: "wallet_error",
      status: 502,
    });
  });
});
