package mcp

// RequiredCapability names the client capability a server→client request
// method needs ("sampling", "elicitation", "roots"), or "" for any other
// method [L §Capability Negotiation]. In 2026-07-28 the same names key
// MissingRequiredClientCapabilityError's data.requiredCapabilities.
func RequiredCapability(method string) string {
	switch method {
	case MethodSamplingCreateMessage:
		return "sampling"
	case MethodElicitationCreate:
		return "elicitation"
	case MethodRootsList:
		return "roots"
	}
	return ""
}
