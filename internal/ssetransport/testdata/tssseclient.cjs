// A client built on the official TypeScript SDK's SSEClientTransport (the
// 2024-11-05 HTTP+SSE transport), run by TestTypeScriptSSEClient:
// node tssseclient.cjs <SSE endpoint URL> <protocol version or "">. It
// prints one JSON line with what it observed, or exits non-zero.
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { SSEClientTransport } = require("@modelcontextprotocol/sdk/client/sse.js");
const { ToolListChangedNotificationSchema } = require("@modelcontextprotocol/sdk/types.js");

async function main() {
  const [url, version] = process.argv.slice(2);
  const client = new Client({ name: "ts-sse-client", version: "1" }, { capabilities: { sampling: {} } });
  const listChanged = new Promise((resolve) => {
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve(true));
  });
  const transport = new SSEClientTransport(new URL(url));
  let negotiated = "";
  const setVersion = transport.setProtocolVersion.bind(transport);
  transport.setProtocolVersion = (v) => { negotiated = v; setVersion(v); };
  if (version) {
    // Ask for an older revision: the SDK sends its latest.
    const send = transport.send.bind(transport);
    transport.send = (msg, opts) => {
      if (msg.method === "initialize") msg.params.protocolVersion = version;
      return send(msg, opts);
    };
  }
  client.onerror = (e) => console.error("client error:", e && e.message);
  await client.connect(transport);
  const out = { version: negotiated };
  await client.ping();
  out.hello = (await client.callTool({ name: "hello" })).content[0].text;
  let progress = 0;
  out.slow = (await client.callTool({ name: "slow" }, undefined, { onprogress: () => progress++ })).content[0].text;
  out.progress = progress;
  await client.callTool({ name: "notify" });
  let timer;
  out.listChanged = await Promise.race([listChanged, new Promise((r) => { timer = setTimeout(() => r(false), 5000); })]);
  clearTimeout(timer);
  await client.close();
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
