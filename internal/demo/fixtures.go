package demo

import "encoding/json"

// Fixture content, as in the conformance suite's reference server
// (examples/servers/typescript/everything-server.ts).
const (
	// testImageBase64 is a 1×1 red PNG.
	testImageBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
	// testAudioBase64 is a minimal WAV file.
	testAudioBase64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

	staticTextURI       = "test://static-text"
	staticBinaryURI     = "test://static-binary"
	watchedResourceURI  = "test://watched-resource"
	templateURIPattern  = "test://template/{id}/data"
	staticText          = "This is the content of the static text resource."
	watchedResourceText = "Watched resource content"
)

// emptyObjectSchema is the input schema of a tool without arguments.
var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// jsonSchema202012 is the input schema of json_schema_2020_12_tool, byte for
// byte the suite's fixture (0.2: SEP-1613 keywords $schema, $defs,
// additionalProperties; SEP-2106 keywords $anchor, allOf/anyOf,
// if/then/else).
var jsonSchema202012 = json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
	`"$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
	`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},` +
	`"contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},` +
	`"allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],` +
	`"if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},` +
	`"then":{"required":["phone"]},"else":{"required":["email"]},"additionalProperties":false}`)

// elicitationSchema is the requestedSchema of test_elicitation (the suite's
// description of tools-call-elicitation).
var elicitationSchema = json.RawMessage(`{"type":"object","properties":{` +
	`"username":{"type":"string","description":"User's response"},` +
	`"email":{"type":"string","description":"User's email address"}},"required":["username","email"]}`)

// sep1034Schema has a default for every primitive type (SEP-1034).
var sep1034Schema = json.RawMessage(`{"type":"object","properties":{` +
	`"name":{"type":"string","description":"User name","default":"John Doe"},` +
	`"age":{"type":"integer","description":"User age","default":30},` +
	`"score":{"type":"number","description":"User score","default":95.5},` +
	`"status":{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"},` +
	`"verified":{"type":"boolean","description":"Verification status","default":true}},"required":[]}`)

// sep1330Schema has the five enum variants of SEP-1330.
var sep1330Schema = json.RawMessage(`{"type":"object","properties":{` +
	`"untitledSingle":{"type":"string","description":"Select one option","enum":["option1","option2","option3"]},` +
	`"titledSingle":{"type":"string","description":"Select one option with titles","oneOf":[` +
	`{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},` +
	`"legacyEnum":{"type":"string","description":"Select one option (legacy)","enum":["opt1","opt2","opt3"],` +
	`"enumNames":["Option One","Option Two","Option Three"]},` +
	`"untitledMulti":{"type":"array","description":"Select multiple options","minItems":1,"maxItems":3,` +
	`"items":{"type":"string","enum":["option1","option2","option3"]}},` +
	`"titledMulti":{"type":"array","description":"Select multiple options with titles","minItems":1,"maxItems":3,` +
	`"items":{"anyOf":[{"const":"value1","title":"First Choice"},{"const":"value2","title":"Second Choice"},` +
	`{"const":"value3","title":"Third Choice"}]}}},"required":[]}`)
