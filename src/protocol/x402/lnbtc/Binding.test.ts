import { hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { type BindingResult, valueHash } from "./Binding.ts";
import { httpBinding, httpBindingRequestOf } from "./HttpBinding.ts";
import { mcpBinding } from "./McpBinding.ts";
import { HASH } from "./vectors.ts";

/**
 * scheme_exact_lnbtc §Request Binding Test Vectors and the shared vectors' `http_binding`
 * and `mcp_binding` cases: digests, canonical descriptions, and refusals.
 */

const A = "https://api.example.com/article/A";
const EMPTY_BODY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ABSENT = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
const NULL = "c58dcb77cee9027d1f4b3207bd876d232e61f79ee9f9dbd4e6d834778da78b16";

type HttpCase = {
  method?: string;
  url?: string;
  body?: string;
  bound?: string[];
  lines?: Array<[string, string]>;
  hash?: string;
};

function http(c: HttpCase): BindingResult {
  const lines = c.lines ?? [];
  return httpBinding(
    { headers: c.bound ?? [] },
    {
      method: c.method ?? "GET",
      url: c.url ?? A,
      body: hexToBytes(c.body ?? ""),
      header: (name) => {
        const found = lines.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
        return found.length === 0 ? undefined : found;
      },
    },
  );
}

const HTTP_DIGESTS: Record<string, HttpCase & { hash: string }> = {
  "published-article-a": { hash: HASH.httpA },
  "published-article-b": { url: "https://api.example.com/article/B", hash: HASH.httpB },
  "method-post": { method: "POST", hash: HASH.httpPost },
  "method-case-preserved": {
    method: "get",
    hash: "ae78c3c247698ef6e25d4bb27fe5aa340535bad028d9b4a0716167b239489fc6",
  },
  "body-single-byte-78": { body: "78", hash: HASH.httpBody78 },
  "body-json-compact": {
    method: "POST",
    body: "7b2261223a317d",
    hash: "bb7f8350652f2332572e25e9cde535f32cac717de22f3ac05f8331d57c3bca68",
  },
  "body-json-spaced": {
    method: "POST",
    body: "7b2261223a20317d",
    hash: "0807ffd5f59692e814bc38d8d3a7057632e461eb3dc0074c23fe59abc1c71362",
  },
  "target-percent-lower": {
    url: "https://api.example.com/%2f",
    hash: "a1d01afa1afcb018fdb18cd50de79eda4b032613636002fc2b436f8beaa2c8d1",
  },
  "target-percent-upper": {
    url: "https://api.example.com/%2F",
    hash: "b72e60277f6f14bab83747ac4c4e111a1257d1960288fbeac440b201fc904f8a",
  },
  "target-query-order-ab": {
    url: "https://api.example.com/?a=1&b=2",
    hash: "4877f49a336836be73dbabca1ced250e5280690682dd2e97ec1805f96faff277",
  },
  "target-query-order-ba": {
    url: "https://api.example.com/?b=2&a=1",
    hash: "a061f00271c2e7b18393acf8c6283b9d3e27d0abecc957576dc6dd7f481432dc",
  },
  "target-ipv6-authority": {
    url: "https://[::1]:8443/article/A?x=%2F",
    hash: "980a3a54eae008e4be8ee2d2b98483892f1dc7bd7e52aac5a434ff2394ca2dc7",
  },
  "header-bound-absent": {
    bound: ["cookie"],
    hash: "14ad9a145b7f28cb786994fd6342aded5acd795dc5ab3bdc27b905d9c58b2337",
  },
  "header-bound-empty": {
    bound: ["cookie"],
    lines: [["cookie", ""]],
    hash: "7770b6930fee0af113be89a84430aae74c7a3ce1cc5b06c6730feec384db7e7f",
  },
  "header-repeated-lines": {
    bound: ["cookie"],
    lines: [
      ["Cookie", " a "],
      ["COOKIE", "\tb\t"],
    ],
    hash: "0158d93518bd708dfb5762590fecec0999a0f1632856b22934b828001c8404ef",
  },
  "header-single-line-combined": {
    bound: ["cookie"],
    lines: [["cookie", "a, b"]],
    hash: "0158d93518bd708dfb5762590fecec0999a0f1632856b22934b828001c8404ef",
  },
  "header-two-bound-sorted": {
    bound: ["accept", "content-type"],
    lines: [["Content-Type", "application/json"]],
    hash: "90d6e7604cd1ad486da4b335f704fa5ec58d4a0e0a2a9e465c65fce4084339a0",
  },
};

const HTTP_REFUSED: Record<string, HttpCase> = {
  "bound-name-uppercase": { bound: ["Cookie"] },
  "bound-names-unsorted": { bound: ["z", "a"] },
  "bound-names-duplicate": { bound: ["a", "a"] },
  "bound-payment-signature": { bound: ["payment-signature"] },
  "header-value-crlf": { bound: ["a"], lines: [["a", "bad\r\nvalue"]] },
  "header-value-non-ascii": { bound: ["a"], lines: [["a", "é"]] },
  "url-relative": { url: "/article/A" },
  "url-userinfo": { url: "https://user:pass@api.example.com/a" },
  "url-fragment": { url: "https://api.example.com/article/A#fragment" },
  "url-bad-percent": { url: "https://api.example.com/article/A%zz" },
  "url-non-ascii": { url: "https://api.example.com/é" },
  "url-port-65536": { url: "https://api.example.com:65536/a" },
  "url-not-http": { url: "ftp://api.example.com/a" },
  "method-not-token": { method: "GE T" },
  "url-port-zero (open question: ln402 refuses)": { url: "https://api.example.com:0/a" },
};

describe("lnbtc http:1 binding", () => {
  it("behavior: the spec's article A has the published canonical description and digest", () => {
    const result = http({});
    expect(result).toMatchObject({ ok: true, binding: { requestHash: HASH.httpA } });
    expect(result.ok && result.binding.canonical).toBe(
      `{"bodyHash":"${EMPTY_BODY}","domain":"x402:exact:lnbtc:bolt11:http:1","headers":[],"method":"GET","url":"${A}"}`,
    );
  });

  for (const [id, c] of Object.entries(HTTP_DIGESTS)) {
    it(`vector: ${id}`, () => {
      expect(http(c)).toMatchObject({
        ok: true,
        binding: { requestHash: c.hash, profile: "http:1" },
      });
    });
  }

  for (const [id, c] of Object.entries(HTTP_REFUSED)) {
    it(`vector: ${id} is invalid_exact_lnbtc_request_binding`, () => {
      expect(http(c)).toMatchObject({
        ok: false,
        errorReason: "invalid_exact_lnbtc_request_binding",
      });
    });
  }

  it("behavior: a fetch Request binds its method, URL, body bytes and combined header lines", async () => {
    const headers = new Headers([
      ["accept", "a"],
      ["accept", "b"],
    ]);
    const request = new Request("https://api.example.com/article/A", {
      method: "POST",
      body: "x",
      headers,
    });
    const bound = await httpBindingRequestOf(request);
    const result = httpBinding({ headers: ["accept"] }, bound);
    const expected = http({
      method: "POST",
      body: "78",
      bound: ["accept"],
      lines: [["accept", "a, b"]],
    });
    expect(result).toEqual(expected);
    expect(await request.text()).toBe("x");
  });
});

type McpCase = { server?: string; bound?: string[]; params: unknown; hash?: string };

function mcp(c: McpCase): BindingResult {
  return mcpBinding(
    { server: c.server ?? "https://api.example.com/mcp", metadata: c.bound ?? [] },
    c.params,
  );
}

const MCP_DIGESTS: Record<string, McpCase & { hash: string }> = {
  "published-article-a": {
    params: { name: "get_article", arguments: { article: "A" } },
    hash: HASH.mcpA,
  },
  "published-article-b": {
    params: { name: "get_article", arguments: { article: "B" } },
    hash: HASH.mcpB,
  },
  "published-delete-article": {
    params: { name: "delete_article", arguments: { article: "A" } },
    hash: "3a52bbf19dda8b5765a27246b12e805770298273b48526956c421f02fe043455",
  },
  "published-other-server": {
    server: "https://other.example.com/mcp",
    params: { name: "get_article", arguments: { article: "A" } },
    hash: HASH.mcpOtherServer,
  },
  "arguments-member-order": {
    params: JSON.parse('{"name":"get_article","arguments":{"b":2,"a":1}}'),
    hash: "aa5886940da79b269a85818a7b1ed98f18c2925125ee734cc7333a199dfce606",
  },
  "unbound-meta-ignored": {
    params: {
      name: "get_article",
      arguments: { a: 1, b: 2 },
      _meta: { progressToken: "new", "x402/payment": { preimage: "proof" } },
    },
    hash: "aa5886940da79b269a85818a7b1ed98f18c2925125ee734cc7333a199dfce606",
  },
  "arguments-omitted": {
    params: { name: "get_article" },
    hash: "c4ba2588ec820d46601685d57efa5b56425af89a0e075b54d2096bd10e549477",
  },
  "arguments-empty": {
    params: { name: "get_article", arguments: {} },
    hash: "c4ba2588ec820d46601685d57efa5b56425af89a0e075b54d2096bd10e549477",
  },
  "metadata-absent": {
    bound: ["account"],
    params: { name: "get_article" },
    hash: "310a43a0283ffe50393bf1daa3abb8b5cba4ad60c266aa9fb6d41a57b8cd5b85",
  },
  "metadata-null": {
    bound: ["account"],
    params: { name: "get_article", _meta: { account: null } },
    hash: "88c4de6dedfe63dcef29a4b4a081a765b8153e45fc436f461dd4cd8b1a6ec94b",
  },
  "metadata-value": {
    bound: ["account"],
    params: { name: "get_article", _meta: { account: "acct_1" } },
    hash: "fd87b1c0ce931202901c02c531dc60453975185ffe41cb5cc112a525903ddbfe",
  },
  "integer-max-safe": {
    params: JSON.parse('{"name":"get_article","arguments":{"x":9007199254740991}}'),
    hash: "bd755cb7da899cc3e9cda1821c4cf1f368704b0e7368eb5c00dd224cc6f61315",
  },
  "arguments-unicode": {
    params: { name: "get_article", arguments: { title: "ナンセンス" } },
    hash: "9fb4614b67a74e12a9228595fe0d4d1c0bb9638e08192e307d2882cebed8898e",
  },
};

const MCP_REFUSED: Record<string, McpCase> = {
  "arguments-null": { params: { name: "get_article", arguments: null } },
  "arguments-array": { params: { name: "get_article", arguments: [] } },
  "meta-null": { params: { name: "get_article", _meta: null } },
  "name-empty": { params: { name: "" } },
  "metadata-progress-token": { bound: ["progressToken"], params: { name: "get_article" } },
  "metadata-x402-payment": { bound: ["x402/payment"], params: { name: "get_article" } },
  "metadata-unsorted": { bound: ["z", "a"], params: { name: "get_article" } },
  "metadata-empty-name": { bound: [""], params: { name: "get_article" } },
  "server-fragment": { server: "https://api.example.com/mcp#x", params: { name: "get_article" } },
  "arguments-lone-surrogate": {
    params: JSON.parse('{"name":"get_article","arguments":{"x":"\\ud800"}}'),
  },
  "integer-2-53-plus-1 (open question: ln402 refuses)": {
    params: JSON.parse('{"name":"get_article","arguments":{"x":9007199254740993}}'),
  },
  "integer-2-64 (open question: ln402 refuses)": {
    params: JSON.parse('{"name":"get_article","arguments":{"x":18446744073709551616}}'),
  },
};

describe("lnbtc mcp:1 binding", () => {
  it("behavior: the spec's MCP example has the published canonical description", () => {
    const result = mcp({ params: { name: "get_article", arguments: { article: "A" } } });
    expect(result.ok && result.binding.canonical).toBe(
      '{"arguments":{"article":"A"},"domain":"x402:exact:lnbtc:bolt11:mcp:1","metadata":[],"method":"tools/call","name":"get_article","server":"https://api.example.com/mcp"}',
    );
  });

  it("behavior: absent and null metadata values hash as the spec says", () => {
    expect([valueHash(null), valueHash(new TextEncoder().encode("null"))]).toEqual([ABSENT, NULL]);
  });

  for (const [id, c] of Object.entries(MCP_DIGESTS)) {
    it(`vector: ${id}`, () => {
      expect(mcp(c)).toMatchObject({
        ok: true,
        binding: { requestHash: c.hash, profile: "mcp:1" },
      });
    });
  }

  for (const [id, c] of Object.entries(MCP_REFUSED)) {
    it(`vector: ${id} is invalid_exact_lnbtc_request_binding`, () => {
      expect(mcp(c)).toMatchObject({
        ok: false,
        errorReason: "invalid_exact_lnbtc_request_binding",
      });
    });
  }
});
