import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { expect } from "vitest";
import { type Devnet, RECEIVE_METHODS, startDevnet } from "../../../devnet/index.ts";
import { Ledger } from "../../../devnet/ledger.ts";
import { type LndStandIn, startLndStandIn } from "../../../devnet/lnd.ts";
import { type LndGrpcStandIn, startLndGrpcStandIn } from "../../../devnet/lndGrpc.ts";
import type { Bolt11Network } from "../../../src/protocol/bolt11/Bolt11.ts";
import {
  LightningError,
  type LightningProvider,
  LndLightningProvider,
  MockLightningNetwork,
  MockLightningProvider,
  NwcLightningProvider,
} from "../../../src/providers/index.ts";

/**
 * Shared set-up for the provider suites: the contract harnesses (NWC on a devnet, LND
 * REST and LND gRPC stand-ins on one Ledger, mocks on one network) and the fixtures the
 * provider-specific suites start. Nothing here holds state between files: every
 * factory returns what it started, and the caller stops it.
 */

/** What the provider contract runs against: a merchant, a payer and a payer with 1 sat. */
export type Harness = {
  network: Bolt11Network;
  merchant: LightningProvider;
  payer: LightningProvider;
  /** A payer with 1 sat. */
  poor: LightningProvider;
  payerBalanceMsat(): number;
  stop(): Promise<void>;
};

/** A clock that runs `offsetMs` ahead of real time, so expiry is tested without waiting. */
export type TestClock = { offsetMs: number; now(): number };

export function makeClock(): TestClock {
  const clock: TestClock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  return clock;
}

export const hashOf = (preimage: string) => bytesToHex(sha256(hexToBytes(preimage)));

/** The LightningError a promise rejects with (failing the test if it resolves). */
export async function failure(promise: Promise<unknown>): Promise<LightningError> {
  const err = await promise.then(
    () => new Error("expected a LightningError"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LightningError);
  return err as LightningError;
}

/** An NWC provider for one devnet wallet. */
export const nwcProvider = (
  devnet: Devnet,
  name: string,
  options: { now?: () => number; timeoutSecs?: number } = {},
) =>
  new NwcLightningProvider({
    connectionString: devnet.wallet(name).connectionString,
    allowInsecureRelays: true,
    ...(options.now ? { now: options.now } : {}),
    ...(options.timeoutSecs ? { timeoutSecs: options.timeoutSecs } : {}),
  });

/** An LND REST provider for one stand-in node. */
export const lndProvider = (node: LndStandIn, now: () => number, macaroon = node.macaroonHex) =>
  new LndLightningProvider({ transport: "rest", url: node.url, macaroon, now });

/** An LND gRPC provider for one gRPC stand-in node (its certificate pinned). */
export const lndGrpcProvider = (
  node: LndGrpcStandIn,
  now: () => number = Date.now,
  overrides: { macaroon?: string; tlsCert?: string | Uint8Array; timeoutSecs?: number } = {},
) =>
  new LndLightningProvider({
    transport: "grpc",
    host: node.host,
    tlsCert: overrides.tlsCert ?? node.tlsCertPem,
    macaroon: overrides.macaroon ?? node.macaroonHex,
    now,
    ...(overrides.timeoutSecs ? { timeoutSecs: overrides.timeoutSecs } : {}),
  });

/** Contract harness: NWC providers on devnet wallets over a relay. */
export async function startNwcHarness(clock: TestClock): Promise<Harness> {
  const devnet = await startDevnet({
    upstash: false,
    now: clock.now,
    wallets: {
      merchant: {},
      payer: { balanceSats: 100_000 },
      poor: { balanceSats: 1 },
    },
  });
  const nwc = (name: string) => nwcProvider(devnet, name, { now: clock.now });
  return {
    network: "regtest",
    merchant: nwc("merchant"),
    payer: nwc("payer"),
    poor: nwc("poor"),
    payerBalanceMsat: () => devnet.wallet("payer").balanceMsat(),
    stop: () => devnet.stop(),
  };
}

/** Contract harness: LND REST providers on stand-ins sharing one devnet Ledger. */
export async function startLndHarness(clock: TestClock): Promise<Harness> {
  const ledger = new Ledger(clock.now);
  const node = async (name: string, sats: number) => {
    ledger.openAccount(name, sats * 1000);
    return startLndStandIn({ ledger, wallet: name });
  };
  const nodes = [await node("merchant", 0), await node("payer", 100_000), await node("poor", 1)];
  const [merchant, payer, poor] = nodes;
  if (!merchant || !payer || !poor) throw new Error("stand-ins did not start");
  return {
    network: "regtest",
    merchant: lndProvider(merchant, clock.now),
    payer: lndProvider(payer, clock.now),
    poor: lndProvider(poor, clock.now),
    payerBalanceMsat: () => ledger.balance("payer"),
    stop: async () => {
      for (const n of nodes) await n.stop();
    },
  };
}

/** Contract harness: LND gRPC providers on gRPC stand-ins sharing one devnet Ledger. */
export async function startLndGrpcHarness(clock: TestClock): Promise<Harness> {
  const ledger = new Ledger(clock.now);
  const node = async (name: string, sats: number) => {
    ledger.openAccount(name, sats * 1000);
    return startLndGrpcStandIn({ ledger, wallet: name });
  };
  const nodes = [await node("merchant", 0), await node("payer", 100_000), await node("poor", 1)];
  const [merchant, payer, poor] = nodes;
  if (!merchant || !payer || !poor) throw new Error("stand-ins did not start");
  return {
    network: "regtest",
    merchant: lndGrpcProvider(merchant, clock.now),
    payer: lndGrpcProvider(payer, clock.now),
    poor: lndGrpcProvider(poor, clock.now),
    payerBalanceMsat: () => ledger.balance("payer"),
    stop: async () => {
      for (const n of nodes) await n.stop();
    },
  };
}

/** Contract harness: mock providers on one MockLightningNetwork. */
export async function startMockHarness(clock: TestClock): Promise<Harness> {
  const mockNet = new MockLightningNetwork({ now: clock.now });
  const payer = new MockLightningProvider({ mockNetwork: mockNet, balanceMsat: 100_000_000 });
  return {
    network: "regtest",
    merchant: new MockLightningProvider({ mockNetwork: mockNet, autoSettle: false }),
    payer,
    poor: new MockLightningProvider({ mockNetwork: mockNet, balanceMsat: 1_000 }),
    payerBalanceMsat: () => payer.balanceMsat() ?? 0,
    stop: async () => {},
  };
}

/**
 * Two LND stand-ins on one Ledger: `merchant` (empty) and `payer` (100,000 sat), plus an
 * empty plain-ledger wallet `shop` with no node.
 */
export async function startLndPair() {
  const ledger = new Ledger();
  ledger.openAccount("merchant");
  ledger.openAccount("payer", 100_000_000);
  ledger.openAccount("shop");
  const merchant = await startLndStandIn({ ledger, wallet: "merchant" });
  const payer = await startLndStandIn({ ledger, wallet: "payer" });
  return {
    ledger,
    merchant,
    payer,
    stop: async () => {
      await merchant.stop();
      await payer.stop();
    },
  };
}

/** A devnet for the NWC specifics: merchant, payer (1,000 sat) and a receive-only wallet. */
export function startNwcDevnet(): Promise<Devnet> {
  return startDevnet({
    upstash: false,
    wallets: {
      merchant: {},
      payer: { balanceSats: 1_000 },
      receiveOnly: { methods: RECEIVE_METHODS },
    },
  });
}
