import type { Bolt11Network } from "../../protocol/bolt11/Bolt11.ts";
import { decodeInvoice } from "../../protocol/bolt11/Bolt11.ts";
import { type NwcConnection, redactRelay } from "../../protocol/nip47/ConnectionString.ts";
import { WALLET_NETWORK_NAMES, walletNetwork } from "../../protocol/nip47/Networks.ts";
import type { NwcClient } from "../../relay/NwcClient.ts";
import { walletProblem, walletRejected } from "./walletErrors.ts";

/** What a merchant's wallet connection allows, as reported at registration. */
export type Capabilities = {
  /** make_invoice + lookup_invoice: required. */
  receive: boolean;
  /** pay_invoice: needed only for session refunds. */
  refunds: boolean;
  /** payment_received notifications: paid invoices are known without polling. */
  notifications: boolean;
  /** make/settle/cancel hold invoices. */
  holdInvoices: boolean;
};

/** The merchant's wallet as stored in its Durable Object. `sealedNwc` never leaves the DO. */
export type WalletRecord = {
  merchantId: string;
  walletPubkey: string;
  /** Scheme, host and path only: a relay URL's query (auth tokens) stays in the sealed string. */
  relays: string[];
  network: Bolt11Network;
  /**
   * The Lightning node key that signs the wallet's invoices, pinned at registration
   * (from get_info, or recovered from a probe invoice's signature). Null only in records
   * from before pinning; every invoice is checked against it.
   */
  nodePubkey: string | null;
  capabilities: Capabilities;
  methods: string[];
  registeredAt: number;
  sealedNwc: string;
};

const REQUIRED = ["make_invoice", "lookup_invoice"] as const;

/**
 * Registration's checks on an open connection: `get_info` answers within the client's
 * timeout, the network is one ln402 serves, and receiving is allowed. Each failure is a
 * 422 that says what the merchant must fix.
 */
export async function checkWallet(
  client: NwcClient,
  connection: NwcConnection,
  merchantId: string,
): Promise<Omit<WalletRecord, "sealedNwc">> {
  let info: Awaited<ReturnType<NwcClient["getInfo"]>>;
  try {
    info = await client.getInfo();
  } catch (err) {
    const problem = walletProblem(err, "answer get_info");
    throw walletRejected(
      "wallet-unusable",
      "Wallet did not answer get_info",
      `${problem.detail} Registration needs get_info to check the wallet's network; allow it on this connection.`,
    );
  }
  const network = walletNetwork(info.network);
  if (!network) {
    throw walletRejected(
      "wallet-wrong-network",
      "Unsupported wallet network",
      `The wallet reports network "${String(info.network ?? "")}"; ln402 serves ${WALLET_NETWORK_NAMES.join(", ")}.`,
    );
  }
  const methods = [...new Set([...(info.methods ?? []), ...client.info.methods])];
  const missing = REQUIRED.filter((m) => !methods.includes(m));
  if (missing.length > 0) {
    throw walletRejected(
      "wallet-missing-methods",
      "Wallet cannot receive",
      `This connection does not allow ${missing.join(" and ")}, which ln402 needs to issue and check invoices. Create a connection with at least make_invoice and lookup_invoice.`,
      { missing },
    );
  }
  const notifications = [...(info.notifications ?? []), ...client.info.notifications];
  const reported =
    typeof info.pubkey === "string" && /^0[23][0-9a-f]{64}$/.test(info.pubkey) ? info.pubkey : null;
  return {
    merchantId,
    walletPubkey: connection.walletPubkey,
    relays: connection.relays.map(redactRelay),
    network,
    nodePubkey: reported ?? (await probeNodeKey(client, network)),
    capabilities: {
      receive: true,
      refunds: methods.includes("pay_invoice"),
      notifications: notifications.includes("payment_received"),
      holdInvoices: ["make_hold_invoice", "settle_hold_invoice", "cancel_hold_invoice"].every((m) =>
        methods.includes(m),
      ),
    },
    methods,
    registeredAt: Math.floor(Date.now() / 1000),
  };
}

/**
 * The node key of a wallet whose get_info does not name it: recovered from the
 * signature of a small invoice it is asked to make (never paid, expires in a minute).
 * Without a pinned key, a wallet could hand out invoices signed by any node.
 */
async function probeNodeKey(client: NwcClient, network: Bolt11Network): Promise<string> {
  const unusable = (detail: string) =>
    walletRejected(
      "wallet-unusable",
      "Wallet node key unknown",
      `get_info did not name the wallet's node key, and ${detail} Registration needs the key that signs the wallet's invoices.`,
    );
  let invoice: string;
  try {
    ({ invoice } = await client.makeInvoice({
      amountMsat: 1000,
      description: "ln402 registration check (do not pay)",
      expirySecs: 60,
    }));
  } catch (err) {
    throw unusable(
      `a probe invoice could not be made (${walletProblem(err, "make an invoice").detail})`,
    );
  }
  try {
    const decoded = decodeInvoice(invoice);
    if (decoded.network !== network) throw new Error("network");
    return decoded.payeeNodeKey;
  } catch {
    throw unusable("the probe invoice was not a valid invoice on its network.");
  }
}
