// The transport half of the tests' TypeScript SDK clients (tsclient.cjs
// here, internal/gateway/testdata/legacy_client.cjs): transport(kind, url,
// version) returns { transport, negotiated } where transport is the
// official SDK's client transport — kind "sse" the 2024-11-05 HTTP+SSE
// transport (SSEClientTransport), "streamable" Streamable HTTP — asking
// at initialize for version ("" the SDK's latest), and negotiated() the
// revision the server answered.
const { SSEClientTransport } = require("@modelcontextprotocol/sdk/client/sse.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");

function transport(kind, url, version) {
  let t;
  switch (kind) {
    case "sse": t = new SSEClientTransport(new URL(url)); break;
    case "streamable": t = new StreamableHTTPClientTransport(new URL(url)); break;
    default: throw new Error("unknown transport " + kind);
  }
  let negotiated = "";
  const setVersion = t.setProtocolVersion.bind(t);
  t.setProtocolVersion = (v) => { negotiated = v; setVersion(v); };
  if (version) {
    // Ask for an older revision: the SDK sends its latest; override the
    // initialize params through a request hook.
    const send = t.send.bind(t);
    t.send = (msg, opts) => {
      if (msg.method === "initialize") msg.params.protocolVersion = version;
      return send(msg, opts);
    };
  }
  return { transport: t, negotiated: () => negotiated };
}

module.exports = { transport };
