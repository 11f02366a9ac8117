import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** A line of the Worker's request log (src/worker/middleware/requestLog). */
const REQUEST_LOG_LINE = /^\{"level":"(info|warn|error)","msg":"request",/;

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
    // The Worker's request log (one JSON line per request) is for operators, not test output.
    onConsoleLog: (log) => !REQUEST_LOG_LINE.test(log),
    projects: [
      {
        test: {
          name: "node",
          environment: "node",
          // Every test file runs wherever it sits: beside its code anywhere in src/
          // (the Worker's own are the workers project's), in devnet/, or in test/node/.
          // test/node/layout.test.ts fails for a test file that no project includes.
          include: ["src/**/*.test.ts", "devnet/**/*.test.ts", "test/node/**/*.test.ts"],
          exclude: ["src/worker/**", "**/node_modules/**"],
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
                // A test-only key; real deployments set SECRETS_KEY as a Worker secret.
                SECRETS_KEY: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                WALLET_TIMEOUT_MS: "1500",
                DEVNET_RELAY_URL: inject("relayUrl"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["src/worker/**/*.test.ts", "test/workers/**/*.test.ts"],
          // These suites share the global devnet, and some inject relay faults:
          // run their files one at a time so a fault never reaches another suite.
          fileParallelism: false,
          testTimeout: 20_000,
        },
      },
    ],
  },
});
