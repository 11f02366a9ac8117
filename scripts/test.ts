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

const child = spawn(
  process.execPath,
  [join(ROOT, "node_modules/vitest/vitest.mjs"), "run", ...process.argv.slice(2)],
  {
    cwd: ROOT,
    stdio: ["inherit", "pipe", "pipe"],
    env: { ...process.env, ...(process.stdout.isTTY ? { FORCE_COLOR: "1" } : {}) },
  },
);

/** Copies `input` to `output` line by line, without the expected runtime reports. */
function filter(input: NodeJS.ReadableStream, output: NodeJS.WriteStream): Promise<void> {
  let droppingStack = false;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => {
    if (line.includes("uncaught exception;") && EXPECTED.some((re) => re.test(line))) {
      droppingStack = true;
      return;
    }
    if (droppingStack && line.startsWith("stack: ")) return;
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
