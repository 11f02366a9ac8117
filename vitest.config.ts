import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * One `npm test` runs three kinds of suites:
 * - `unit`: pure modules and the devnet, on Node.
 * - `node`: Node-side integration suites (devnet interop with @getalby/sdk, Upstash stand-in).
 * - `workers`: the Worker and its Durable Objects inside workerd, talking over real
 *   sockets to the devnet that the global setup starts once for the whole run.
 */
export default defineConfig({
  test: {
    globalSetup: ["./test/setup/devnet.ts"],
    projects: [
      {
        test: {
          name: "node",
          environment: "node",
          include: [
            "src/protocol/**/*.test.ts",
            "src/relay/**/*.test.ts",
            "devnet/**/*.test.ts",
            "test/node/**/*.test.ts",
          ],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ALLOW_INSECURE_RELAYS: "true",
                DEVNET_RELAY_URL: inject("relayUrl"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["src/worker/**/*.test.ts", "test/workers/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
    ],
  },
});
