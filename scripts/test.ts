import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/**
 * `npm test`: `vitest run` with the given arguments, and with workerd's reports of
 * failures it has already delivered to the code that caused them dropped from stderr:
 * connections refused on purpose by the relay and store suites ("Network connection
 * lost") and objects reset on purpose by the eviction tests ("test: simulated
 * eviction"). The runtime prints those as "uncaught exception" blocks, outside any
 * vitest option's reach. Everything else, every test failure included, passes through
 * unchanged (colours kept when the terminal has them), and the exit code is vitest's.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const EXPECTED = [/Network connection lost\./, /jsg\.Error: test: simulated eviction/];
/** The same refusals as workerd's native layer reports them (a line and its stack). */
const NATIVE_REFUSED = /^exception = .*disconnected: Connection refused \(os error 111\)$/;
/**
 * `@x402/core` tries to load its optional browser paywall package, which ln402 does not
 * use (it renders its own page); the runtime's module loader reports the miss.
 */
const OPTIONAL_PAYWALL =
  /(Failed to require|Fallback service failed to fetch module).*(@x402\/paywall|%40x402%2Fpaywall)/;

const child = spawn(
  process.execPath,
  [join(ROOT, "node_modules/vitest/vitest.mjs"), "run", ...process.argv.slice(2)],
  {
    cwd: ROOT,
    stdio: ["inherit", "pipe", "pipe"],
    env: { ...process.env, ...(process.stdout.isTTY ? { FORCE_COLOR: "1" } : {}) },
  },
);

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes are what it strips.
const ANSI = /\x1b\[[0-9;]*m/g;

/** Copies `input` to `output` line by line, without the expected runtime reports. */
function filter(input: NodeJS.ReadableStream, output: NodeJS.WriteStream): Promise<void> {
  let droppingStack = false;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => {
    const plain = line.replace(ANSI, "");
    if (
      (plain.includes("uncaught exception;") && EXPECTED.some((re) => re.test(plain))) ||
      NATIVE_REFUSED.test(plain)
    ) {
      droppingStack = true;
      return;
    }
    if (OPTIONAL_PAYWALL.test(plain)) return;
    if (droppingStack && plain.startsWith("stack: ")) return;
    droppingStack = false;
    output.write(`${line}\n`);
  });
  return new Promise((resolve) => lines.once("close", () => resolve()));
}

const copied = Promise.all([
  filter(child.stdout, process.stdout),
  filter(child.stderr, process.stderr),
]);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
  child.once("exit", (c, s) => resolve([c, s])),
);
await copied;
process.exit(code ?? (signal ? 1 : 0));
