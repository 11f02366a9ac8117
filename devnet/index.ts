import { type DevnetNetwork, Ledger } from "./ledger.ts";
import { type RedisServer, startRedis } from "./redis.ts";
import { type DevnetRelay, startRelay } from "./relay.ts";
import { startUpstash, type UpstashServer } from "./upstash.ts";
import { type DevnetWallet, startWalletService, type WalletOptions } from "./wallet.ts";

export type { DevnetNetwork } from "./ledger.ts";
export type { DevnetWallet, Encryption, WalletFaults } from "./wallet.ts";
export { ALL_METHODS, RECEIVE_METHODS } from "./wallet.ts";

/** Options of `startDevnet`. */
export type DevnetOptions = {
  /** Relay port on 127.0.0.1; 0 (default) picks a free one. */
  relayPort?: number;
  /**
   * The Upstash REST stand-in: `false` for none, `true` (default) to start one when
   * Redis is available (`REDIS_URL` or a `redis-server` on PATH), or a fixed port.
   */
  upstash?: boolean | { port?: number; token?: string; redisUrl?: string };
  /** Wallets to create at start, by name; each may be funded and restricted. */
  wallets?: Record<string, Omit<WalletOptions, "name"> & { balanceSats?: number }>;
  /** Clock in ms for invoice timestamps and expiry (tests can move time). */
  now?: () => number;
  /** The network of wallets that do not name one (default regtest): testnet signs `lntb`. */
  network?: DevnetNetwork;
};

/** Options of `Devnet.createWallet`. */
export type CreateWalletOptions = Omit<WalletOptions, "name"> & { balanceSats?: number };

/** A running devnet. */
export type Devnet = {
  relayUrl: string;
  relay: Pick<DevnetRelay, "faults" | "connectionCount" | "subscribersFor">;
  /** The Upstash REST stand-in, or null when no Redis is available or it was turned off. */
  upstash: { url: string; token: string } | null;
  /** Creates a wallet service with its own keys and connection string, on the shared ledger. */
  createWallet(name: string, options?: CreateWalletOptions): Promise<DevnetWallet>;
  /** A wallet created earlier, by name. */
  wallet(name: string): DevnetWallet;
  wallets(): DevnetWallet[];
  /** Stops every wallet, the relay, the Upstash stand-in and any Redis it started. */
  stop(): Promise<void>;
};

/**
 * Starts an offline Lightning-over-NWC network: a Nostr relay, NWC wallet services on
 * one simulated ledger, and (when Redis is available) an Upstash REST stand-in.
 * A development and test tool: never used by ln402's production code.
 */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const ledger = new Ledger(options.now);
  const relay: DevnetRelay = await startRelay({ port: options.relayPort ?? 0 });
  const wallets = new Map<string, DevnetWallet>();
  let redis: RedisServer | null = null;
  let upstash: UpstashServer | null = null;

  const stop = async () => {
    for (const wallet of wallets.values()) wallet.stop();
    await upstash?.stop();
    await redis?.stop();
    await relay.stop();
  };

  try {
    const upstashOption = options.upstash ?? true;
    if (upstashOption !== false) {
      const settings = upstashOption === true ? {} : upstashOption;
      redis = await startRedis(settings.redisUrl ? { url: settings.redisUrl } : {});
      if (redis) {
        upstash = await startUpstash({
          redisUrl: redis.url,
          ...(settings.port !== undefined ? { port: settings.port } : {}),
          ...(settings.token !== undefined ? { token: settings.token } : {}),
        });
      }
    }

    const createWallet = async (name: string, walletOptions: CreateWalletOptions = {}) => {
      if (!/^[a-z0-9_-]{1,32}$/i.test(name)) throw new Error(`bad devnet wallet name: ${name}`);
      const { balanceSats = 0, ...serviceOptions } = walletOptions;
      const network = serviceOptions.network ?? options.network ?? "regtest";
      // Only regtest and testnet are signed; another name is a get_info fault (regtest invoices).
      ledger.openAccount(name, balanceSats * 1000, network === "testnet" ? "testnet" : "regtest");
      const wallet = startWalletService(relay.url, ledger, { ...serviceOptions, network, name });
      wallets.set(name, wallet);
      await wallet.ready();
      return wallet;
    };

    for (const [name, walletOptions] of Object.entries(options.wallets ?? {})) {
      await createWallet(name, walletOptions);
    }

    return {
      relayUrl: relay.url,
      relay: {
        faults: relay.faults,
        connectionCount: relay.connectionCount,
        subscribersFor: relay.subscribersFor,
      },
      upstash: upstash ? { url: upstash.url, token: upstash.token } : null,
      createWallet,
      wallet(name) {
        const wallet = wallets.get(name);
        if (!wallet) throw new Error(`no devnet wallet named ${name}`);
        return wallet;
      },
      wallets: () => [...wallets.values()],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
