package mcp

// MetaInputKey is an mcpgate convention for session-era servers behind the
// gateway: a server→client request (sampling/createMessage,
// elicitation/create, roots/list) may name, in params._meta, the key its
// request should have in the inputRequests of the InputRequiredResult the
// gateway sends a 2026-07-28 client in its place
// ([MRTR] docs/specification/2026-07-28/basic/patterns/mrtr.mdx §InputRequests:
// keys are server-assigned). Without it the gateway picks a key from the
// method. See docs/protocol-eras.md §4.3 A.
const MetaInputKey = "io.github.mcpgate/inputKey"
