import { parseConnectionString } from "../protocol/nip47/ConnectionString.ts";
import { NwcClient } from "../relay/NwcClient.ts";
import { NwcLink } from "../relay/NwcLink.ts";

/** Something that pays a BOLT11 invoice and returns its preimage (hex). */
export type LightningPayer = { payInvoice(invoice: string): Promise<{ preimage: string }> };

/** A `LightningPayer` that holds a connection until `close()`. */
export type NwcPayer = LightningPayer & { close(): void };

/** Options of `nwcPayer`. */
export type NwcPayerOptions = {
  /** Accept `ws://` relays (development and tests only). */
  allowInsecureRelays?: boolean;
  /**
   * How long one `pay_invoice` may take, in ms. Default 60 000: a Lightning payment
   * routes through several hops. A timeout does not mean unpaid; the caller must not
   * assume the money stayed.
   */
  timeoutMs?: number;
};

/** Opening the relay and reading the wallet's info event; separate from paying. */
const CONNECT_TIMEOUT_MS = 8000;

/**
 * Pays through a Nostr Wallet Connect (NIP-47) wallet. The connection string is parsed
 * at once (a bad one throws here, not at the first payment); the relay is connected on
 * the first payment, reused after, and reconnected when it has died. Concurrent first
 * payments share one connection attempt.
 */
export function nwcPayer(connectionString: string, options: NwcPayerOptions = {}): NwcPayer {
  const conn = parseConnectionString(connectionString, {
    allowInsecureRelays: options.allowInsecureRelays ?? false,
  });
  const payTimeoutMs = options.timeoutMs ?? 60_000;
  let closed = false;
  const link = new NwcLink({
    now: Date.now,
    backoff: false,
    open: (onClose) => NwcClient.connect(conn, { requestTimeoutMs: CONNECT_TIMEOUT_MS, onClose }),
  });
  const connected = (): Promise<NwcClient> =>
    closed ? Promise.reject(new Error("This NWC payer was closed.")) : link.client();

  return {
    async payInvoice(invoice) {
      const nwc = await connected();
      const { preimage } = await nwc.payInvoice({ invoice }, { timeoutMs: payTimeoutMs });
      return { preimage };
    },
    close() {
      closed = true;
      link.close("closed by its owner");
    },
  };
}
