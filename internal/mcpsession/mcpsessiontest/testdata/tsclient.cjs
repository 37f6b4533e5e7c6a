// A client built on the official TypeScript SDK, run by the transports'
// interop tests (mcpsessiontest.TypeScriptSDK):
// node tsclient.cjs <sse|streamable> <endpoint URL> <protocol version or "">.
// "sse" is the 2024-11-05 HTTP+SSE transport (SSEClientTransport),
// "streamable" Streamable HTTP. It prints one JSON line with what it
// observed, or exits non-zero.
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { ToolListChangedNotificationSchema } = require("@modelcontextprotocol/sdk/types.js");
const { transport: open } = require("./tstransport.cjs");

async function main() {
  const [kind, url, version] = process.argv.slice(2);
  const client = new Client({ name: "ts-" + kind + "-client", version: "1" }, { capabilities: { sampling: {} } });
  const listChanged = new Promise((resolve) => {
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve(true));
  });
  const { transport, negotiated } = open(kind, url, version);
  client.onerror = (e) => console.error("client error:", e && e.message);
  await client.connect(transport);
  const out = { version: negotiated(), sessionId: transport.sessionId || "" };
  await client.ping();
  out.hello = (await client.callTool({ name: "hello" })).content[0].text;
  let progress = 0;
  out.slow = (await client.callTool({ name: "slow" }, undefined, { onprogress: () => progress++ })).content[0].text;
  out.progress = progress;
  await client.callTool({ name: "notify" });
  let timer;
  out.listChanged = await Promise.race([listChanged, new Promise((r) => { timer = setTimeout(() => r(false), 5000); })]);
  clearTimeout(timer);
  if (kind === "streamable") await transport.terminateSession();
  await client.close();
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
