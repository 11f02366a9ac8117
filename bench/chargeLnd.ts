import { Ledger } from "../devnet/ledger.ts";
import { startLndStandIn } from "../devnet/lnd.ts";
import { startLndGrpcStandIn } from "../devnet/lndGrpc.ts";
import { LndLightningProvider } from "../src/providers/lnd.ts";
import { percentile, printTable, timed, writeResult } from "./harness.ts";
import { chargeOnce } from "./mpp.ts";

/**
 * `charge-lnd`: the `charge` round trip (402 → pay → 200) with LND providers on both
 * sides, over the REST stand-ins and over the gRPC stand-ins (one devnet Ledger),
 * alternating request by request in one run so both see the same machine. Each side
 * makes three calls to its node per request: AddInvoice, SendPaymentV2, LookupInvoice.
 * Reports p50/p95 per transport and the gRPC/REST ratio (below 1: gRPC is faster).
 * The REST stand-in speaks plain HTTP/1.1 and the gRPC one TLS over HTTP/2 (a real
 * LND's REST is TLS too), so the ratio flatters REST by its TLS cost.
 */
export async function chargeLndBench(options: { requests: number }) {
  const ledger = new Ledger();
  for (const name of ["rest-merchant", "grpc-merchant"]) ledger.openAccount(name);
  for (const name of ["rest-payer", "grpc-payer"]) ledger.openAccount(name, 1_000_000_000);
  const rest = await Promise.all(
    ["rest-merchant", "rest-payer"].map((wallet) => startLndStandIn({ ledger, wallet })),
  );
  const grpc = await Promise.all(
    ["grpc-merchant", "grpc-payer"].map((wallet) => startLndGrpcStandIn({ ledger, wallet })),
  );
  const providers = [
    ...rest.map(
      (node) =>
        new LndLightningProvider({ transport: "rest", url: node.url, macaroon: node.macaroonHex }),
    ),
    ...grpc.map(
      (node) =>
        new LndLightningProvider({
          transport: "grpc",
          host: node.host,
          tlsCert: node.tlsCertPem,
          macaroon: node.macaroonHex,
        }),
    ),
  ];
  const [restMerchant, restPayer, grpcMerchant, grpcPayer] = providers;
  if (!restMerchant || !restPayer || !grpcMerchant || !grpcPayer) throw new Error("no providers");
  try {
    const once = {
      rest: chargeOnce(restMerchant, restPayer),
      grpc: chargeOnce(grpcMerchant, grpcPayer),
    };
    for (let i = 0; i < 5; i++) {
      await once.rest(); // warm: connections open, TLS done, code compiled
      await once.grpc();
    }
    const samples = { rest: [] as number[], grpc: [] as number[] };
    for (let i = 0; i < options.requests; i++) {
      // Alternate which goes first, so neither always follows the other's garbage.
      const order = i % 2 === 0 ? (["rest", "grpc"] as const) : (["grpc", "rest"] as const);
      for (const transport of order) samples[transport].push(await timed(once[transport]));
    }
    const summary = (sample: number[]) => ({
      n: sample.length,
      p50: percentile(sample, 50),
      p95: percentile(sample, 95),
    });
    const result = {
      scenario: "charge-lnd",
      at: new Date().toISOString(),
      rest: summary(samples.rest),
      grpc: summary(samples.grpc),
      ratio: {
        p50: percentile(samples.grpc, 50) / percentile(samples.rest, 50),
        p95: percentile(samples.grpc, 95) / percentile(samples.rest, 95),
      },
    };
    printTable(
      (["rest", "grpc"] as const).map((transport) => ({
        scenario: `charge over LND ${transport === "rest" ? "REST" : "gRPC"} stand-ins`,
        requests: result[transport].n,
        "p50 ms": result[transport].p50,
        "p95 ms": result[transport].p95,
      })),
    );
    console.log(
      `gRPC / REST: p50 ${result.ratio.p50.toFixed(2)}, p95 ${result.ratio.p95.toFixed(2)}`,
    );
    console.log(`written ${writeResult("charge-lnd", result)}`);
    return result;
  } finally {
    for (const provider of providers) provider.close();
    for (const node of [...rest, ...grpc]) await node.stop();
  }
}
