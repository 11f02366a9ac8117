import { base64, hex } from "@scure/base";
import type { Bolt11Network } from "../protocol/bolt11/Bolt11.ts";
import { LightningError } from "./errors.ts";
import type {
  InvoiceState,
  LightningProvider,
  PayInvoiceArgs,
  PaymentResult,
  ProviderInvoice,
} from "./LightningProvider.ts";
import type { LndGrpcSettings } from "./lndGrpc.ts";
import { LndRestTransport } from "./lndRest.ts";
import { checkHex, type LndInvoiceArgs, type LndTransport, planPayment } from "./lndShared.ts";

export type { LndInvoiceArgs } from "./lndShared.ts";

/** Options of `LndLightningProvider` over REST (Node and Workers). */
export type LndRestOptions = {
  transport: "rest";
  /** LND's REST listener, e.g. `https://node.example:8080`. Its TLS certificate must be trusted by `fetch`. */
  url: string;
  /** A macaroon with invoice (and, to pay, offchain) permissions, as hex. */
  macaroon: string;
  fetch?: typeof fetch;
  /** Time a request may take, and the default payment timeout (default 30 s). */
  timeoutSecs?: number;
  /** Clock in ms, to tell an expired invoice from a canceled one. */
  now?: () => number;
};

/** Options of `LndLightningProvider` over gRPC (Node only: it needs HTTP/2 sockets). */
export type LndGrpcOptions = {
  transport: "grpc";
  /** LND's gRPC listener as `host:port`, e.g. `127.0.0.1:10009`. */
  host: string;
  /**
   * The node's `tls.cert`, the only certificate trusted for this connection (pinned): a
   * PEM string or its bytes, DER bytes, or the file as base64 or hex (`base64 -w0 tls.cert`).
   */
  tlsCert: string | Uint8Array;
  /** A macaroon with invoice (and, to pay, offchain) permissions, as hex. */
  macaroon: string;
  /** Time a call may take, and the default payment timeout (default 30 s). */
  timeoutSecs?: number;
  /** Clock in ms, to tell an expired invoice from a canceled one. */
  now?: () => number;
};

/** Options of `LndLightningProvider`: the transport decides how LND is reached. */
export type LndProviderOptions = LndRestOptions | LndGrpcOptions;

// Named through a variable so that bundlers (wrangler's esbuild among them) do not follow
// it: a Workers bundle that imports ln402/providers must not pull in the HTTP/2 stack.
const GRPC_TRANSPORT_MODULE = "./lndGrpc.ts";

/**
 * A LightningProvider over LND, by REST (`transport: "rest"`, fetch only: Node and
 * Workers) or gRPC (`transport: "grpc"`, Node only: needs `@grpc/grpc-js` and
 * `@grpc/proto-loader` installed, and throws `LightningError` `unsupported` elsewhere).
 * Payments use the router's SendPaymentV2 stream, never the deprecated synchronous call;
 * an invoice is settled only when LND's invoice state says so.
 */
export class LndLightningProvider implements LightningProvider {
  readonly #timeoutSecs: number;
  #transport: Promise<LndTransport> | null;
  readonly #connect: () => Promise<LndTransport>;

  constructor(options: LndProviderOptions) {
    if (!/^([0-9a-f]{2})+$/i.test(options.macaroon))
      throw new LightningError("invalid_request", "macaroon must be hex (xxd -p -c0 …).");
    this.#timeoutSecs = options.timeoutSecs ?? 30;
    const now = options.now ?? Date.now;
    if (options.transport === "grpc") {
      assertHttp2Runtime();
      const settings: LndGrpcSettings = {
        host: checkHost(options.host),
        tlsCertPem: pemOf(options.tlsCert),
        macaroon: options.macaroon,
        timeoutSecs: this.#timeoutSecs,
        now,
      };
      this.#connect = () => loadGrpcTransport(settings);
    } else {
      if (!/^https?:\/\//.test(options.url))
        throw new LightningError("invalid_request", "url must be LND's http(s) REST address.");
      const rest = new LndRestTransport({
        url: options.url.replace(/\/+$/, ""),
        macaroon: options.macaroon,
        // Workers reject a detached global fetch (illegal invocation): call it, don't hold it.
        fetch: options.fetch ?? ((input, init) => fetch(input, init)),
        timeoutSecs: this.#timeoutSecs,
        now,
      });
      this.#connect = async () => rest;
    }
    this.#transport = null;
  }

  /** AddInvoice; `amountMsat` 0 makes a no-amount invoice. */
  async createInvoice(args: LndInvoiceArgs): Promise<ProviderInvoice> {
    return (await this.#use()).createInvoice(checkDescriptionHash(args));
  }

  /** LookupInvoice by payment hash. */
  async lookupInvoice(paymentHash: string): Promise<InvoiceState> {
    const hash = checkHex("paymentHash", paymentHash);
    return (await this.#use()).lookupInvoice(hash);
  }

  /** SendPaymentV2: follows the router's status stream until SUCCEEDED or FAILED. */
  async payInvoice(args: PayInvoiceArgs): Promise<PaymentResult> {
    const plan = planPayment(args, this.#timeoutSecs);
    return (await this.#use()).payInvoice(plan);
  }

  /** GetInfo: the network of `chains[0]`. */
  async getNetwork(): Promise<Bolt11Network> {
    return (await this.#use()).getNetwork();
  }

  /** AddHoldInvoice with the caller's payment hash. */
  async createHoldInvoice(args: LndInvoiceArgs & { paymentHash: string }) {
    const paymentHash = checkHex("paymentHash", args.paymentHash);
    return (await this.#use()).createHoldInvoice({ ...checkDescriptionHash(args), paymentHash });
  }

  /** SettleInvoice: releases a held payment with its preimage. */
  async settleHoldInvoice(preimage: string): Promise<void> {
    await (await this.#use()).settleHoldInvoice(checkHex("preimage", preimage));
  }

  /** CancelInvoice: fails a held payment back to its payer. */
  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    await (await this.#use()).cancelHoldInvoice(checkHex("paymentHash", paymentHash));
  }

  /** Closes the gRPC channel (REST holds none); the next call opens a new one. */
  close(): void {
    const transport = this.#transport;
    this.#transport = null;
    void transport?.then((t) => t.close()).catch(() => {});
  }

  #use(): Promise<LndTransport> {
    if (!this.#transport) {
      const loading = this.#connect();
      // A failed load is not kept: the next call tries again.
      loading.catch(() => {
        if (this.#transport === loading) this.#transport = null;
      });
      this.#transport = loading;
    }
    return this.#transport;
  }
}

async function loadGrpcTransport(settings: LndGrpcSettings): Promise<LndTransport> {
  let module: typeof import("./lndGrpc.ts");
  try {
    module = (await import(GRPC_TRANSPORT_MODULE)) as typeof import("./lndGrpc.ts");
  } catch (cause) {
    throw new LightningError(
      "unsupported",
      'LND over gRPC needs Node.js with @grpc/grpc-js and @grpc/proto-loader installed (npm i @grpc/grpc-js @grpc/proto-loader); elsewhere use transport: "rest".',
      { cause },
    );
  }
  return new module.LndGrpcTransport(settings);
}

/** Workers (and browsers) have no HTTP/2 client sockets: say so at construction. */
function assertHttp2Runtime(): void {
  const runtime = globalThis as { navigator?: { userAgent?: unknown }; process?: unknown };
  const versions = (runtime.process as { versions?: { node?: unknown } } | undefined)?.versions;
  // Workers with nodejs_compat report a Node version too, so the user agent goes first.
  const workers = runtime.navigator?.userAgent === "Cloudflare-Workers";
  if (workers || typeof versions?.node !== "string")
    throw new LightningError(
      "unsupported",
      'LND over gRPC runs on Node.js only (it needs HTTP/2 sockets); on Workers use transport: "rest".',
    );
}

function checkHost(host: string): string {
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}$/i.test(host))
    throw new LightningError("invalid_request", "host must be LND's gRPC host:port.");
  return host;
}

function checkDescriptionHash<T extends LndInvoiceArgs>(args: T): T {
  if (args.descriptionHash === undefined) return args;
  return { ...args, descriptionHash: checkHex("descriptionHash", args.descriptionHash) };
}

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** The certificate as PEM text, from any of the forms `tlsCert` accepts. */
function pemOf(tlsCert: string | Uint8Array): string {
  const text = typeof tlsCert === "string" ? tlsCert.trim() : new TextDecoder().decode(tlsCert);
  const pem = PEM.exec(text)?.[0];
  if (pem) return `${pem}\n`;
  let der: Uint8Array | null = typeof tlsCert === "string" ? null : tlsCert;
  if (typeof tlsCert === "string") {
    const compact = text.replace(/\s+/g, "");
    der = attempt(() => (/^([0-9a-f]{2})+$/i.test(compact) ? hex : base64).decode(compact));
    const decoded = der ? PEM.exec(new TextDecoder().decode(der))?.[0] : undefined;
    if (decoded) return `${decoded}\n`;
  }
  // DER starts with an ASN.1 SEQUENCE (0x30); anything else is not a certificate.
  if (der === null || der[0] !== 0x30)
    throw new LightningError("invalid_request", "tlsCert must be LND's tls.cert (PEM or DER).");
  const lines = base64.encode(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

function attempt<T>(run: () => T): T | null {
  try {
    return run();
  } catch {
    return null;
  }
}
