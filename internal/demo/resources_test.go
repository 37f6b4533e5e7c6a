package demo

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// Tests of resources, prompts and completion.

func TestResourcesAndPrompts(t *testing.T) {
	tests := []struct {
		name, method string
		params       any
		want         string
	}{
		{"resources/list", "resources/list", nil, `{"resources":[` +
			`{"uri":"test://static-text","name":"static-text","title":"Static Text Resource","description":"A static text resource for testing","mimeType":"text/plain"},` +
			`{"uri":"test://static-binary","name":"static-binary","title":"Static Binary Resource","description":"A static binary resource (image) for testing","mimeType":"image/png"},` +
			`{"uri":"test://watched-resource","name":"watched-resource","title":"Watched Resource","description":"A resource that changes when update_watched_resource is called; subscribe to be notified","mimeType":"text/plain"}]}`},
		{"resources/templates/list", "resources/templates/list", map[string]any{}, `{"resourceTemplates":[{"uriTemplate":"test://template/{id}/data",` +
			`"name":"template","title":"Resource Template","description":"A resource template with parameter substitution","mimeType":"application/json"}]}`},
		{"read static text", "resources/read", map[string]string{"uri": "test://static-text"},
			`{"contents":[{"uri":"test://static-text","mimeType":"text/plain","text":"This is the content of the static text resource."}]}`},
		{"read static binary", "resources/read", map[string]string{"uri": "test://static-binary"},
			`{"contents":[{"uri":"test://static-binary","mimeType":"image/png","blob":"` + testImageBase64 + `"}]}`},
		{"read template", "resources/read", map[string]string{"uri": "test://template/123/data"},
			`{"contents":[{"uri":"test://template/123/data","mimeType":"application/json","text":"{\"id\":\"123\",\"templateTest\":true,\"data\":\"Data for ID: 123\"}"}]}`},
		{"prompts/list", "prompts/list", nil, `{"prompts":[` +
			`{"name":"test_simple_prompt","title":"Simple Test Prompt","description":"A simple prompt without arguments"},` +
			`{"name":"test_prompt_with_arguments","title":"Prompt With Arguments","description":"A prompt with required arguments","arguments":[` +
			`{"name":"arg1","description":"First test argument","required":true},{"name":"arg2","description":"Second test argument","required":true}]},` +
			`{"name":"test_prompt_with_embedded_resource","title":"Prompt With Embedded Resource","description":"A prompt that includes an embedded resource",` +
			`"arguments":[{"name":"resourceUri","description":"URI of the resource to embed","required":true}]},` +
			`{"name":"test_prompt_with_image","title":"Prompt With Image","description":"A prompt that includes image content"},` +
			`{"name":"test_input_required_result_prompt","title":"Prompt Needing Input",` +
			`"description":"Asks the client for context (elicitation, key user_context) before returning its messages"}]}`},
		{"simple prompt", "prompts/get", map[string]string{"name": "test_simple_prompt"}, `{"description":"A simple prompt without arguments",` +
			`"messages":[{"role":"user","content":{"type":"text","text":"This is a simple prompt for testing."}}]}`},
		{"prompt with arguments", "prompts/get", map[string]any{"name": "test_prompt_with_arguments", "arguments": map[string]string{"arg1": "hello", "arg2": "world"}},
			`{"description":"A prompt with required arguments","messages":[{"role":"user","content":{"type":"text","text":"Prompt with arguments: arg1='hello', arg2='world'"}}]}`},
		{"prompt with embedded resource", "prompts/get", map[string]any{"name": "test_prompt_with_embedded_resource", "arguments": map[string]string{"resourceUri": "test://example-resource"}},
			`{"description":"A prompt that includes an embedded resource","messages":[` +
				`{"role":"user","content":{"type":"resource","resource":{"uri":"test://example-resource","mimeType":"text/plain","text":"Embedded resource content for testing."}}},` +
				`{"role":"user","content":{"type":"text","text":"Please process the embedded resource above."}}]}`},
		{"prompt with image", "prompts/get", map[string]any{"name": "test_prompt_with_image"},
			`{"description":"A prompt that includes image content","messages":[` +
				`{"role":"user","content":{"type":"image","data":"` + testImageBase64 + `","mimeType":"image/png"}},` +
				`{"role":"user","content":{"type":"text","text":"Please analyze the image above."}}]}`},
		{"complete prompt argument", "completion/complete", map[string]any{"ref": map[string]string{"type": "ref/prompt", "name": "test_prompt_with_arguments"},
			"argument": map[string]string{"name": "arg1", "value": "par"}}, `{"completion":{"values":["paris","park","party"],"total":3,"hasMore":false}}`},
		{"complete with no candidates", "completion/complete", map[string]any{"ref": map[string]string{"type": "ref/prompt", "name": "test_prompt_with_arguments"},
			"argument": map[string]string{"name": "arg1", "value": "zzz"}}, `{"completion":{"values":[],"total":0,"hasMore":false}}`},
		{"complete template variable", "completion/complete", map[string]any{"ref": map[string]string{"type": "ref/resource", "uri": "test://template/{id}/data"},
			"argument": map[string]string{"name": "id", "value": "1"}}, `{"completion":{"values":["1","123"],"total":2,"hasMore":false}}`},
	}
	c := started(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			got := c.mustResult(tt.method, tt.params)
			// Compared byte for byte: field order is part of the fixture.
			if string(got) != tt.want {
				t.Errorf("%s result:\n got %s\nwant %s\ndiff (-want +got):\n%s", tt.method, got, tt.want,
					cmp.Diff(unmarshal(t, []byte(tt.want)), unmarshal(t, got)))
			}
		})
	}
}

func TestSubscriptions(t *testing.T) {
	c := started(t, nil)
	readWatched := func() string {
		c.t.Helper()
		var res struct {
			Contents []resourceContents `json:"contents"`
		}
		if err := json.Unmarshal(c.mustResult("resources/read", map[string]string{"uri": watchedResourceURI}), &res); err != nil {
			c.t.Fatal(err)
		}
		return res.Contents[0].Text
	}
	if got := readWatched(); got != watchedResourceText {
		t.Errorf("watched resource = %q, want %q", got, watchedResourceText)
	}

	resp, notes := c.call("resources/subscribe", map[string]string{"uri": watchedResourceURI}, nil)
	if string(resp.Result) != "{}" || len(notes) != 1 || notes[0].Method != "notifications/message" {
		t.Errorf("subscribe = %s with notifications %v, want {} and one log message", resp.Result, notes)
	}
	_, notes = c.toolCall("update_watched_resource", map[string]string{"text": "v2"}, nil)
	want := []string{`notifications/resources/updated {"uri":"test://watched-resource"}`}
	if diff := cmp.Diff(want, describe(notes)); diff != "" {
		t.Errorf("notifications after an update while subscribed (-want +got):\n%s", diff)
	}
	if got := readWatched(); got != "v2" {
		t.Errorf("watched resource after update = %q, want v2", got)
	}

	if got := c.mustResult("resources/unsubscribe", map[string]string{"uri": watchedResourceURI}); string(got) != "{}" {
		t.Errorf("unsubscribe = %s, want {}", got)
	}
	_, notes = c.toolCall("update_watched_resource", nil, nil)
	if len(notes) != 0 {
		t.Errorf("notifications after an update without subscription = %v, want none", describe(notes))
	}
	if got, want := readWatched(), watchedResourceText+" (update 2)"; got != want {
		t.Errorf("watched resource = %q, want %q", got, want)
	}
}

func describe(msgs []*jsonrpc.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Method+" "+string(m.Params))
	}
	return out
}
