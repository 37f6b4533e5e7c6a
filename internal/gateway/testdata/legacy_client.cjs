// A client on the official TypeScript SDK's SSEClientTransport (the
// 2024-11-05 HTTP+SSE transport), run by TestLegacyTypeScriptClient:
// node legacy_client.cjs <SSE URL> <protocol version or ""> <calls JSON>
// where calls is [{"name": tool, "arguments": {...}}, ...]. It lists the
// tools, makes the calls, and prints one JSON line:
// {"version", "tools": [names], "results": [text of each call]}.
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { transport: open } = require("../../mcpsession/mcpsessiontest/testdata/tstransport.cjs");

async function main() {
  const [url, version, callsJSON] = process.argv.slice(2);
  const client = new Client({ name: "ts-legacy-client", version: "1" }, { capabilities: {} });
  const { transport, negotiated } = open("sse", url, version);
  await client.connect(transport);
  const out = { version: negotiated(), tools: [], results: [] };
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    out.tools.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  for (const call of JSON.parse(callsJSON)) {
    const res = await client.callTool(call);
    out.results.push(res.content.filter((c) => c.type === "text").map((c) => c.text).join(""));
  }
  await client.close();
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
