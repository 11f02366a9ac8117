import { describe, expect, it } from "vitest";
import { isNonPublicHost } from "./Hosts.ts";

const host = (url: string) => new URL(url).hostname;

describe("isNonPublicHost", () => {
  it("error: loopback, private, link-local, metadata, CGNAT and local names are non-public", () => {
    for (const url of [
      "wss://127.0.0.1",
      "wss://2130706433", // 127.0.0.1 as one number, normalized by the URL parser
      "wss://0x7f.1",
      "wss://10.1.2.3",
      "wss://172.20.0.1",
      "wss://192.168.1.1",
      "wss://169.254.169.254",
      "wss://100.64.0.1",
      "wss://0.0.0.0",
      "wss://[::1]",
      "wss://[::]",
      "wss://[fe80::1]",
      "wss://[fd00::1]",
      "wss://[::ffff:127.0.0.1]",
      "wss://[::ffff:a9fe:a9fe]",
      "wss://[64:ff9b::a00:1]",
      "wss://localhost",
      "wss://relay.localhost",
      "wss://printer.local",
      "wss://metadata.google.internal",
      "wss://intranet",
    ]) {
      expect(isNonPublicHost(host(url)), url).toBe(true);
    }
  });

  it("behavior: public names and addresses are allowed", () => {
    for (const url of [
      "wss://relay.getalby.com",
      "wss://relay.example.com:7000/path",
      "wss://1.1.1.1",
      "wss://172.32.0.1",
      "wss://[2606:4700::1111]",
      "wss://[::ffff:1.1.1.1]",
    ]) {
      expect(isNonPublicHost(host(url)), url).toBe(false);
    }
  });
});
