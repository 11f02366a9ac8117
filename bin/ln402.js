#!/usr/bin/env node
// The `ln402` command. In a clone of the repository it runs the TypeScript source (Node
// strips the types); in the installed package, the build under dist/.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
const entry = existsSync(source) ? source : new URL("../dist/cli/main.js", import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
