package mcp

import "encoding/base64"

// EncodeHeaderValue encodes an Mcp-Name or Mcp-Param-* value
// [SH26 §Value Encoding]: a value of visible ASCII, space and tab, without
// leading or trailing whitespace and not itself shaped like the sentinel,
// is sent as it is; any other is sent as =?base64?…?= of its UTF-8 bytes.
// It is the inverse of DecodeHeaderValue.
func EncodeHeaderValue(v string) string {
	const prefix, suffix = "=?base64?", "?="
	plain := v != "" && v[0] != ' ' && v[0] != '\t' && v[len(v)-1] != ' ' && v[len(v)-1] != '\t'
	for i := 0; plain && i < len(v); i++ {
		if c := v[i]; (c < 0x20 || c > 0x7e) && c != '\t' {
			plain = false
		}
	}
	if plain && !(len(v) >= len(prefix)+len(suffix) && v[:len(prefix)] == prefix && v[len(v)-len(suffix):] == suffix) {
		return v
	}
	if v == "" {
		return v
	}
	return prefix + base64.StdEncoding.EncodeToString([]byte(v)) + suffix
}

// NameField is the params member that the Mcp-Name header mirrors for
// method [SH26 §Standard Request Headers] (taskId for the tasks
// extension's routing headers), or "" for a method without one.
func NameField(method string) string {
	switch method {
	case MethodToolsCall, MethodPromptsGet:
		return "name"
	case MethodResourcesRead:
		return "uri"
	case MethodTasksGet, MethodTasksUpdate, MethodTasksCancel:
		return "taskId"
	}
	return ""
}
