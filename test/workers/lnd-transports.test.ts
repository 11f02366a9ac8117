import { describe, expect, it } from "vitest";
import { LndLightningProvider } from "../../src/providers/index.ts";

/** The LND provider inside workerd: REST is the transport that runs there, gRPC says so. */

const TLS_CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";

describe("LND provider in the Workers runtime", () => {
  it("error: the gRPC transport is refused as unsupported (Workers have no HTTP/2 sockets)", () => {
    const build = () =>
      new LndLightningProvider({
        transport: "grpc",
        host: "127.0.0.1:10009",
        tlsCert: TLS_CERT,
        macaroon: "0201",
      });
    expect(build).toThrow(expect.objectContaining({ code: "unsupported" }));
    expect(build).toThrow(/Node\.js only/);
  });

  it("behavior: the REST transport is built there", () => {
    const rest = new LndLightningProvider({
      transport: "rest",
      url: "https://127.0.0.1:8080",
      macaroon: "0201",
    });
    expect(rest).toBeInstanceOf(LndLightningProvider);
  });
});
