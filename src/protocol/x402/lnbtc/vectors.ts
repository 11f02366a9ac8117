/**
 * Test vectors of x402 `exact` on lnbtc, from the shared fixture file of the x402
 * Foundation (`specs/schemes/exact/vectors/exact_lnbtc.json`, fixture_version 1) and the
 * spec's own examples (scheme_exact_lnbtc §Request Binding Test Vectors). Data only:
 * the invoices are signed with the spec's test keys 1 (`payTo`) and 2 (another node).
 * Settle cases keep the file's form: RFC 6902 patches over one base request.
 */

/** The spec's test key 1 as a compressed public key: every valid invoice's `payTo`. */
export const PAY_TO = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
export const NOW = 1_700_000_000;
export const MAINNET = "lnbtc:000000000019d6689c085ae165831e93";
export const TESTNET = "lnbtc:000000000933ea01ad0ee984209779ba";

export const HASH = {
  httpA: "0d6623f775e025501fa7f0a30b54da25aad62b6ccfe35c85da38016711e6c018",
  httpB: "4a99860f75eed1ea8178a5db488e044173bc570c8a6210f2c8590cdf8622d509",
  httpPost: "a66ae81d2b71d1d7f852985ee9db1388df785560d57114524bf7c77512962d08",
  httpBody78: "c51115dd8855d57e7f55c2a57ef957c2c15b4acd627232c88abd0d5d1f4d0c57",
  mcpA: "03941bfedc6af8a09b2f459fe83470284a76a8c75801caa9e1487a9276a693f4",
  mcpB: "b3e425970d64cd4f08fc4d57a11b76da59ce6a5760d92687398c91f063120678",
  mcpOtherServer: "96903c29186c6aabc95e48abafd8ce3ad32b4060f5d5bf22cf75f3fbfe816e45",
  mcpMetaNull: "17456e42174b14ca336a42dabcf21f353408a45dea260c75b2112b1eaf5a8f6b",
} as const;

export const PREIMAGE = {
  /** Of `INVOICE.a` (payment hash a923c2c0…825e). */
  a: "0001020304050607080900010203040506070809000102030405060708090102",
  /** Of every invoice with payment hash 425ed4e4…384c. */
  b: "4242424242424242424242424242424242424242424242424242424242424242",
} as const;

export const PAYMENT_HASH = {
  a: "a923c2c0e4fe77061ff1cb882171f6fdf926719bb7f5ffe2e05458438c52825e",
  b: "425ed4e4a36b30ea21b90e21c712c649e8214c29b7eaf68089d1039c6e55384c",
} as const;

/** Invoices of the vectors (all 25 000 msat, 300 s, created at NOW, unless named otherwise). */
export const INVOICE = {
  /** The spec's example: HTTP article A, payment hash a. */
  a: "lnbc250n1pj48ugqpp54y3u9s8ylemsv8l3ewyzzu0klhujvuvmkl6llchq23vy8rzjsf0qsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjr4rx6ls6j5rpwknuea64evlk7yfx56wmqcer5eerekdsn9tlv6v4ex9mlz5dtm9qapl3svwlqcf7837dmjkru9z9w4h2rvm0md52w2sqxrwu5f",
  /** A fresh invoice for the same request (only in the requirements). */
  fresh:
    "lnbc250n1pj48ugqpp5u22y9es66d2wtjcgx83wsdv7376seupy44dg7sru37w7vw7lwdcssp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpj3rlkkqfx32qa792qhmpgcw2a674wf90nswtp7w44h7fqmc5hdpxk07hksha9ek04uaekj4lsux7kzgc8vzh9rm9xfv3swwmtpltsvzsqs04rqj",
  /** HTTP article A, payment hash b. */
  b: "lnbc250n1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjfxevavgdka8487x7a3whlz4ujgk0rx6p4r9c57nwhahwqwvgh6j9e4xxmwj862env32h7c3hf7h3nh6ltdql5dkjqsvr9ks6rq2nm0qpqyd8md",
  /** As b, with an `n` field equal to payTo. */
  withPayee:
    "lnbc250n1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqnp4qfumuen7l8wthtz45p3ftn58pvrs9xlumvkuu2xet8egzkcklqtesxqzfvcqpjyf6xmg6wrfgmucwurqdd8s453jvezshh4apvk2krtxm034rz02f5ru0t23ye05nm8s2k3zepx6xmcmz0tlg3nve4mam3tuvu20jyckcqcy9t5e",
  /** As b, on testnet (`tb`). */
  testnet:
    "lntb250n1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjesqz56c9tujj73av0ckqrxkjf4f65xdxkp07fp6cdj6kxaf7hzm3en4yn5r0cwqt2myz9kh3sm8t3fhjmpvfxas42zlkvr3gxkup4zqqhn0tj5",
  /** As b, created at NOW + 60. */
  createdAtSkew:
    "lnbc250n1pj48ufupp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjnxlcs8n6knknsh8vvqw6ln96khtkch65zepcjrfecscgpwxjef0znlwu958l82zgt49v3l5xl0kt8vtv05f63gskmu2wcyrv7mh534qqzeaf5s",
  /** As b, created at NOW + 61. */
  createdInFuture:
    "lnbc250n1pj48ufapp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjrc7p6q79tr8at05z3zkllkgx44563v7qcnqt38lhcrarxsmczutzlgvpe8yhtdgzckexzpaahhc27elh465sk2r2m6rtkz59zdgsjycpw4nnaw",
  /** As b, ended one second before NOW. */
  expired:
    "lnbc250n1pj48m7npp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjgjf7838hfgc88tzy9ssvxgfa0psth532jezgsecaet73h3v3vlu80vwxzw58kvvvhyp443kntwtx7cm0uyp55xy7n7v23fkwxl3a6jqplqkgty",
  mixedCase:
    "LNBC250n1pj48ugqpp54y3u9s8ylemsv8l3ewyzzu0klhujvuvmkl6llchq23vy8rzjsf0qsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjr4rx6ls6j5rpwknuea64evlk7yfx56wmqcer5eerekdsn9tlv6v4ex9mlz5dtm9qapl3svwlqcf7837dmjkru9z9w4h2rvm0md52w2sqxrwu5f",
  badChecksum:
    "lnbc250n1pj48ugqpp54y3u9s8ylemsv8l3ewyzzu0klhujvuvmkl6llchq23vy8rzjsf0qsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjr4rx6ls6j5rpwknuea64evlk7yfx56wmqcer5eerekdsn9tlv6v4ex9mlz5dtm9qapl3svwlqcf7837dmjkru9z9w4h2rvm0md52w2sqxrwu5q",
  /** Amount 1.1 msat. */
  fractionalMsat:
    "lnbc11p1pj48ugqpp54y3u9s8ylemsv8l3ewyzzu0klhujvuvmkl6llchq23vy8rzjsf0qsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjr4rx6ls6j5rpwknuea64evlk7yfx56wmqcer5eerekdsn9tlv6v4ex9mlz5dtm9qapl3svwlqcf7837dmjkru9z9w4h2rvm0md52w2sqfc47dc",
  /** Non-zero pad bits in `p` (re-checksummed). */
  nonZeroPadding:
    "lnbc250n1pj48ugqpp54y3u9s8ylemsv8l3ewyzzu0klhujvuvmkl6llchq23vy8rzjsf0psp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjr4rx6ls6j5rpwknuea64evlk7yfx56wmqcer5eerekdsn9tlv6v4ex9mlz5dtm9qapl3svwlqcf7837dmjkru9z9w4h2rvm0md52w2sqavc4a0",
  /** A second `h` field (re-checksummed). */
  duplicateHash:
    "lnbc250n1pj48ugqpp54y3u9s8ylemsv8l3ewyzzu0klhujvuvmkl6llchq23vy8rzjsf0qsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjhp5qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqr4rx6ls6j5rpwknuea64evlk7yfx56wmqcer5eerekdsn9tlv6v4ex9mlz5dtm9qapl3svwlqcf7837dmjkru9z9w4h2rvm0md52w2sqms554k",
  /** Payment hash b, signed with `d` instead of `h`. */
  inlineDescription:
    "lnbc250n1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygsdq8w3jhxaqxqzfvcqpjsytqhfd3eljlg8j0gahldrre56amueq3f4grchmwah098lv65syndyavkaxscghl3jnd984fgn0qma99hd0pnzd6tqgja0g6saxjmdqq90rkmz",
  /** Payment hash b, with neither `h` nor `d`. */
  noDescription:
    "lnbc250n1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygsxqzfvcqpjc92a4zr4vhqf5n7twmt2ayzr90v2vk6j6y2ta9ntdh49wcewfrryhj8eaf2wmdc6uc7p9gu0yevetrehqazasf9hgxy2uh7e5je683cqsns2rg",
  /** Payment hash b, signed by test key 2. */
  otherSigner:
    "lnbc250n1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjf0zlmrmdxsde2qvntzmtpq7zm4777ywnzdnhl2wu695xuqa5lutsp4u45hxu8q76s9vw3uf2fg3vsw5fatls9062wte5mt6hfp5fw0qplv4v5y",
  /** Payment hash b, 1 msat. */
  oneMsat:
    "lnbc10p1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjm80sc7kp2j7l7fv4dpyylpz42syyp65axul7fmf68fq93aespa65ulwuckqzcjdyhff8l5l6r078gqkg8xf7zaewg30ngkkz7vnk7sgpnqv8h0",
  /** Payment hash b, expiry 1 s. */
  expiryOneSecond:
    "lnbc250n1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqppcqpjg2huvthjm372tgnpgvlc0nzc0p2fe83mgt0e0kmvfuure0lludy96t9anj096cyxf6rqhhd0fzymgvkw44dss3xejg467ujrnsz8dtqps0xc6a",
  /** Payment hash b, bound to the MCP article A call. */
  mcpA: "lnbc250n1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5qw2phlkudtu2pxe0gk07sdrs9p98d2x8tqqu420pfpafya4xj06qxqzfvcqpjm4wa5rfng2g8qqmzh920ay6j7u5snjvcjrr8qf6eva48c46wvs2yf24pq3plxmfe6g08vrccdee3juscvmdn40klz234765qk2aw7hcqwddred",
  /** Payment hash b, binding an absent `account` metadata member. */
  mcpMetaAbsent:
    "lnbc250n1pj48ugqpp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp596rdukct7ma0ajdtqzs4rkw3qc43pke38cyjtrfmewgk8nkmhynqxqzfvcqpjpa0z7h0x06hq8fmwjxajssheamkd84ksfh8apsk3s5uguyc7malqgkqzmzy429a05ud7zc7skqpnq4epc8kpnvpcwkesww4frkd0z3qqh7242v",
} as const;
