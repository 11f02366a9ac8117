import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { fileURLToPath } from "node:url";
import {
  type ChannelCredentials,
  Client,
  connectivityState,
  credentials,
  Metadata,
  status,
} from "@grpc/grpc-js";
import { loadSync, type MethodDefinition, type PackageDefinition } from "@grpc/proto-loader";
import { hex } from "@scure/base";
import type { Bolt11Network } from "../protocol/bolt11/Bolt11.ts";
import { ConnectionError, LightningError, PaymentTimeoutError } from "./errors.ts";
import type { InvoiceState, PaymentResult, ProviderInvoice } from "./LightningProvider.ts";
import { type GrpcOp, payError, unaryError } from "./lndGrpcErrors.ts";
import {
  checkInvoice,
  failure,
  int,
  isExpired,
  type LndInvoiceArgs,
  type LndTransport,
  lookupState,
  networkOf,
  type PaymentPlan,
  succeeded,
} from "./lndShared.ts";

/** Settings of the gRPC transport (see `LndGrpcOptions` in `./lnd.ts`). */
export type LndGrpcSettings = {
  host: string;
  /** The node's certificate (PEM), trusted alone. */
  tlsCertPem: string;
  macaroon: string;
  timeoutSecs: number;
  now: () => number;
};

type Fields = Record<string, unknown>;
type Method = MethodDefinition<object, object>;

/** How LND's messages are read: field names as in the .proto, int64 and enums as strings. */
const LND_PROTO_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
} as const;

/** The project's minimal copies of LND's services (proto/lnd, shipped with the package). */
export function loadLndProto(): PackageDefinition {
  // Two levels up from src/providers and from dist/providers alike.
  const dir = fileURLToPath(new URL("../../proto/lnd/", import.meta.url));
  return loadSync(["lightning.proto", "router.proto", "invoices.proto"], {
    ...LND_PROTO_OPTIONS,
    includeDirs: [dir],
  });
}

let proto: PackageDefinition | null = null; // parsed once per process: it never changes

/**
 * LND's gRPC API over one HTTP/2 channel (Node only). TLS trusts the node's own
 * certificate and nothing else; every call carries the macaroon as `macaroon` metadata
 * and a deadline, so a wrong certificate, a wrong macaroon or a silent node is a typed
 * error, never a hang.
 */
export class LndGrpcTransport implements LndTransport {
  readonly #s: LndGrpcSettings;
  readonly #client: Client;
  readonly #proto: PackageDefinition;

  constructor(settings: LndGrpcSettings) {
    this.#s = settings;
    proto ??= loadLndProto();
    this.#proto = proto;
    let tls: ChannelCredentials;
    try {
      // Pinned twice over: the node's certificate is the only trusted root, and the
      // certificate presented must be that very one (by SHA-256 fingerprint). The
      // fingerprint, not the name, identifies the node, so it is reachable by any address
      // (LND's certificate lists few).
      const pinned = new X509Certificate(settings.tlsCertPem).fingerprint256;
      tls = credentials.createSsl(Buffer.from(settings.tlsCertPem), null, null, {
        checkServerIdentity: (_host, cert) =>
          cert.fingerprint256 === pinned
            ? undefined
            : new Error("the node's certificate is not tlsCert"),
      });
    } catch (cause) {
      throw new LightningError("invalid_request", "tlsCert is not a usable certificate.", {
        cause,
      });
    }
    // TLS SNI cannot carry an IP address (RFC 6066, and Node warns): name the server
    // "localhost" then, which LND's certificate lists; the fingerprint check above decides.
    const hostname = settings.host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
    const channelOptions = isIP(hostname) ? { "grpc.ssl_target_name_override": "localhost" } : {};
    this.#client = new Client(settings.host, tls, channelOptions);
  }

  /** Lightning/AddInvoice. */
  async createInvoice(args: LndInvoiceArgs): Promise<ProviderInvoice> {
    const body = await this.#unary("create", "lnrpc.Lightning", "AddInvoice", invoiceFields(args));
    return checkInvoice(body.payment_request, bytes32(body.r_hash, "r_hash"), args);
  }

  /** Lightning/LookupInvoice by `r_hash` (bytes). */
  async lookupInvoice(paymentHash: string): Promise<InvoiceState> {
    const request = { r_hash: Buffer.from(hex.decode(paymentHash)) };
    const body = await this.#unary("lookup", "lnrpc.Lightning", "LookupInvoice", request);
    if (bytes32(body.r_hash, "r_hash") !== paymentHash)
      throw new ConnectionError("LND answered with another invoice.");
    const state = lookupState(
      body.state,
      isExpired(body.creation_date, body.expiry, this.#s.now()),
    );
    const amountMsat = state === "settled" ? int(body.amt_paid_msat) : int(body.value_msat);
    return {
      paymentHash,
      state,
      ...(state === "settled"
        ? { preimage: bytes32(body.r_preimage, "r_preimage"), settledAt: int(body.settle_date) }
        : {}),
      ...(amountMsat > 0 ? { amountMsat } : {}),
    };
  }

  /** Router/SendPaymentV2: follows the stream; SUCCEEDED or FAILED decides. */
  async payInvoice(plan: PaymentPlan): Promise<PaymentResult> {
    // Connected first, so a failure to connect (nothing sent) is told from a stream that
    // broke while the payment was in flight (outcome unknown).
    await this.#ready();
    const method = this.#method("routerrpc.Router", "SendPaymentV2");
    const request = {
      payment_request: plan.invoice,
      timeout_seconds: plan.timeoutSecs,
      fee_limit_msat: String(plan.feeLimitMsat),
      ...(plan.amtMsat !== undefined ? { amt_msat: String(plan.amtMsat) } : {}),
    };
    // LND gives up after timeout_seconds; the extra seconds let its FAILED update arrive.
    const call = this.#client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      this.#metadata(),
      { deadline: Date.now() + (plan.timeoutSecs + 5) * 1000 },
    );
    return new Promise<PaymentResult>((resolve, reject) => {
      let updates = 0;
      let done = false;
      const finish = (outcome: () => PaymentResult) => {
        if (done) return;
        done = true;
        call.cancel(); // the outcome is known: stop following the payment
        try {
          resolve(outcome());
        } catch (err) {
          reject(err);
        }
      };
      call.on("data", (raw: unknown) => {
        updates++;
        const update = asFields(raw);
        if (update.status === "SUCCEEDED")
          finish(() => succeeded(update.payment_preimage, update.fee_msat, plan.paymentHash));
        else if (update.status === "FAILED")
          finish(() => {
            throw failure(String(update.failure_reason));
          });
      });
      call.on("error", (err: unknown) =>
        finish(() => {
          throw payError(err, updates);
        }),
      );
      call.on("status", (final: { code: number }) => {
        if (final.code === status.OK)
          finish(() => {
            throw new PaymentTimeoutError("LND's payment stream ended before a final status.");
          });
      });
    });
  }

  /** Lightning/GetInfo: the network of `chains[0]`. */
  async getNetwork(): Promise<Bolt11Network> {
    const body = await this.#unary("info", "lnrpc.Lightning", "GetInfo", {});
    const chains = Array.isArray(body.chains) ? body.chains : [];
    return networkOf(asFields(chains[0]).network);
  }

  /** Invoices/AddHoldInvoice with the caller's payment hash. */
  async createHoldInvoice(args: LndInvoiceArgs & { paymentHash: string }) {
    const request = { hash: Buffer.from(hex.decode(args.paymentHash)), ...invoiceFields(args) };
    const body = await this.#unary("hold", "invoicesrpc.Invoices", "AddHoldInvoice", request);
    return checkInvoice(body.payment_request, args.paymentHash, args);
  }

  /** Invoices/SettleInvoice. */
  async settleHoldInvoice(preimage: string): Promise<void> {
    const request = { preimage: Buffer.from(hex.decode(preimage)) };
    await this.#unary("hold", "invoicesrpc.Invoices", "SettleInvoice", request);
  }

  /** Invoices/CancelInvoice. */
  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    const request = { payment_hash: Buffer.from(hex.decode(paymentHash)) };
    await this.#unary("hold", "invoicesrpc.Invoices", "CancelInvoice", request);
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }

  #unary(op: GrpcOp, service: string, name: string, request: object): Promise<Fields> {
    const method = this.#method(service, name);
    const deadline = Date.now() + this.#s.timeoutSecs * 1000;
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        this.#metadata(),
        { deadline },
        (err, value) => (err ? reject(unaryError(op, err)) : resolve(asFields(value))),
      );
    });
  }

  #method(service: string, name: string): Method {
    const definition = this.#proto[service];
    const method: unknown = definition ? Reflect.get(definition, name) : undefined;
    if (!isMethod(method)) throw new Error(`no ${service}/${name} in proto/lnd`);
    return method;
  }

  #metadata(): Metadata {
    const metadata = new Metadata();
    metadata.set("macaroon", this.#s.macaroon);
    return metadata;
  }

  /** Waits for the channel to connect; a refused handshake fails at once, not at the deadline. */
  async #ready(): Promise<void> {
    const channel = this.#client.getChannel();
    const deadline = Date.now() + this.#s.timeoutSecs * 1000;
    for (;;) {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return;
      if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN)
        throw new ConnectionError(
          `LND's gRPC endpoint ${this.#s.host} did not accept the connection (address, or a TLS certificate other than tlsCert).`,
        );
      await new Promise<void>((resolve, reject) =>
        channel.watchConnectivityState(state, deadline, (err) =>
          err
            ? reject(new ConnectionError(`LND's gRPC endpoint ${this.#s.host} did not connect.`))
            : resolve(),
        ),
      );
    }
  }
}

/** lnrpc.Invoice / AddHoldInvoiceRequest fields ln402 sets (int64 as decimal strings). */
function invoiceFields(args: LndInvoiceArgs): Fields {
  return {
    value_msat: String(args.amountMsat),
    memo: args.description ?? "",
    expiry: String(args.expirySecs ?? 3600),
    ...(args.descriptionHash
      ? { description_hash: Buffer.from(hex.decode(args.descriptionHash)) }
      : {}),
  };
}

/** A 32-byte `bytes` field as lowercase hex. */
function bytes32(value: unknown, field: string): string {
  if (value instanceof Uint8Array && value.length === 32) return hex.encode(value);
  throw new ConnectionError(`LND sent an invalid ${field}.`);
}

function isMethod(value: unknown): value is Method {
  const fields = asFields(value);
  return typeof fields.path === "string" && typeof fields.requestSerialize === "function";
}

function asFields(value: unknown): Fields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return value as Fields;
}
