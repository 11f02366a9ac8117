import { canonicalize } from "../../Jcs.ts";
import { isRecord } from "../../Schema.ts";
import {
  type BindingResult,
  digest,
  domainOf,
  type McpBindingParams,
  parseProfileParams,
  refuse,
  valueHash,
} from "./Binding.ts";

/**
 * The `mcp:1` request binding (scheme_exact_lnbtc §MCP Profile) of one MCP `tools/call`:
 * server identity, tool name, arguments and the configured `_meta` members. The JSON-RPC
 * id, progress token and payment metadata are not inputs, so a paid retry may change them.
 */

/**
 * Numbers outside ±(2^53 − 1) that are integers may stand for a literal the JSON parser
 * already rounded, so two different calls could share a hash. The vectors leave this open
 * (`mcp-integer-range`); ln402 refuses them rather than bind a rounded value.
 */
function jcsProblem(value: unknown): string | null {
  if (typeof value === "number") {
    return Number.isInteger(value) && !Number.isSafeInteger(value)
      ? "an integer outside the IEEE-754 exact range"
      : null;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jcsProblem(item);
      if (problem !== null) return problem;
    }
    return null;
  }
  if (isRecord(value)) {
    for (const item of Object.values(value)) {
      const problem = jcsProblem(item);
      if (problem !== null) return problem;
    }
  }
  return null;
}

/**
 * Builds and hashes the `mcp:1` binding of a `tools/call` whose `params` (name,
 * arguments, `_meta`) are given as the client sent them, before defaults apply.
 */
export function mcpBinding(params: McpBindingParams, callParams: unknown): BindingResult {
  const checked = parseProfileParams("mcp:1", params);
  if (!checked.ok) return refuse(checked.detail);
  if (checked.value.profile !== "mcp:1") return refuse("not mcp:1 parameters.");
  const bound = checked.value;
  if (!isRecord(callParams)) return refuse("params of tools/call must be an object.");
  const { name } = callParams;
  if (typeof name !== "string" || name === "")
    return refuse("params.name must be a non-empty string.");
  // §MCP Profile: omitted arguments bind as {}; null and non-objects are refused.
  const args = "arguments" in callParams ? callParams.arguments : {};
  if (!isRecord(args)) return refuse("params.arguments must be an object.");
  // An absent _meta is an empty object; a present non-object is refused.
  const meta = "_meta" in callParams ? callParams._meta : {};
  if (!isRecord(meta)) return refuse("params._meta must be an object.");
  const argsProblem = jcsProblem(args);
  if (argsProblem !== null) return refuse(`params.arguments holds ${argsProblem}.`);
  const metadata: Array<{ name: string; valueHash: string }> = [];
  for (const member of bound.params.metadata) {
    // Null is a present value; only a missing member hashes as absent.
    const present = Object.hasOwn(meta, member) && meta[member] !== undefined;
    let bytes: Uint8Array | null = null;
    if (present) {
      const problem = jcsProblem(meta[member]);
      if (problem !== null) return refuse(`_meta.${member} holds ${problem}.`);
      try {
        bytes = new TextEncoder().encode(canonicalize(meta[member]));
      } catch (err) {
        return refuse(`_meta.${member} is not JSON: ${err instanceof Error ? err.message : err}`);
      }
    }
    metadata.push({ name: member, valueHash: valueHash(bytes) });
  }
  return digest(bound, {
    domain: domainOf("mcp:1"),
    server: bound.params.server,
    method: "tools/call",
    name,
    arguments: args,
    metadata,
  });
}
