// A client built on the official TypeScript SDK, run by TestTypeScriptClient:
// node tsclient.cjs <endpoint URL> <protocol version or "">. It prints one
// JSON line with what it observed, or exits non-zero.
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { ToolListChangedNotificationSchema } = require("@modelcontextprotocol/sdk/types.js");

async function main() {
  const [url, version] = process.argv.slice(2);
  const client = new Client({ name: "ts-client", version: "1" }, { capabilities: { sampling: {} } });
  const listChanged = new Promise((resolve) => {
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve(true));
  });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  if (version) {
    // Ask for an older revision: the SDK sends its latest; override the
    // initialize params through a request hook.
    const send = transport.send.bind(transport);
    transport.send = (msg, opts) => {
      if (msg.method === "initialize") msg.params.protocolVersion = version;
      return send(msg, opts);
    };
  }
  await client.connect(transport);
  const out = { version: transport.protocolVersion, sessionId: transport.sessionId };
  await client.ping();
  out.hello = (await client.callTool({ name: "hello" })).content[0].text;
  let progress = 0;
  out.slow = (await client.callTool({ name: "slow" }, undefined, { onprogress: () => progress++ })).content[0].text;
  out.progress = progress;
  await client.callTool({ name: "notify" });
  let timer;
  out.listChanged = await Promise.race([listChanged, new Promise((r) => { timer = setTimeout(() => r(false), 5000); })]);
  clearTimeout(timer);
  await transport.terminateSession();
  await client.close();
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
