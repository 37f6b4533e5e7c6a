package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// prompt is one prompt of the demo server.
type prompt struct {
	Name        string           `json:"name"`
	Title       string           `json:"title,omitempty"`
	Description string           `json:"description"`
	Arguments   []promptArgument `json:"arguments,omitempty"`
	messages    func(args map[string]string) []promptMessage
}

type promptArgument struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
	// complete lists completion candidates for the argument.
	complete []string
}

type promptMessage struct {
	Role    string  `json:"role"`
	Content content `json:"content"`
}

func userMessage(c content) promptMessage { return promptMessage{Role: "user", Content: c} }

// prompts are the reference server's prompts.
var prompts = []*prompt{
	{Name: "test_simple_prompt", Title: "Simple Test Prompt", Description: "A simple prompt without arguments",
		messages: func(map[string]string) []promptMessage {
			return []promptMessage{userMessage(textContent("This is a simple prompt for testing."))}
		}},
	{Name: "test_prompt_with_arguments", Title: "Prompt With Arguments", Description: "A prompt with required arguments",
		Arguments: []promptArgument{
			{Name: "arg1", Description: "First test argument", Required: true, complete: []string{"paris", "park", "party", "test", "testValue1"}},
			{Name: "arg2", Description: "Second test argument", Required: true, complete: []string{"hello", "world", "testValue2"}},
		},
		messages: func(a map[string]string) []promptMessage {
			return []promptMessage{userMessage(textContent(
				fmt.Sprintf("Prompt with arguments: arg1='%s', arg2='%s'", a["arg1"], a["arg2"])))}
		}},
	{Name: "test_prompt_with_embedded_resource", Title: "Prompt With Embedded Resource",
		Description: "A prompt that includes an embedded resource",
		Arguments: []promptArgument{{Name: "resourceUri", Description: "URI of the resource to embed", Required: true,
			complete: []string{staticTextURI, staticBinaryURI, watchedResourceURI}}},
		messages: func(a map[string]string) []promptMessage {
			return []promptMessage{
				userMessage(content{Type: "resource", Resource: &resourceContents{
					URI: a["resourceUri"], MimeType: "text/plain", Text: "Embedded resource content for testing."}}),
				userMessage(textContent("Please process the embedded resource above.")),
			}
		}},
	{Name: "test_prompt_with_image", Title: "Prompt With Image", Description: "A prompt that includes image content",
		messages: func(map[string]string) []promptMessage {
			return []promptMessage{
				userMessage(content{Type: "image", Data: testImageBase64, MimeType: "image/png"}),
				userMessage(textContent("Please analyze the image above.")),
			}
		}},
}

// dynamicPrompt is listed only after test_trigger_prompt_change added it.
var dynamicPrompt = &prompt{Name: "dynamic_prompt", Title: "Dynamic Prompt",
	Description: "A prompt that test_trigger_prompt_change adds and removes",
	messages: func(map[string]string) []promptMessage {
		return []promptMessage{userMessage(textContent("This is the dynamic prompt."))}
	}}

// promptList returns the prompts listed now, in a stable order.
func (s *server) promptList() []*prompt {
	s.mu.Lock()
	dynamic := s.dynamicPrompt
	s.mu.Unlock()
	list := append(prompts[:len(prompts):len(prompts)], promptMRTR) // tools_mrtr.go
	if dynamic {
		list = append(list, dynamicPrompt)
	}
	return list
}

func (s *server) lookupPrompt(name string) *prompt {
	for _, p := range s.promptList() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func handlePromptsList(_ context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	page, next, e := paginate(s.promptList(), r.params, s.opts.PageSize)
	if e != nil {
		return nil, e
	}
	if v, _ := s.negotiated(); v < mcp.Version20250618 { // titles: 2025-06-18
		untitled := make([]*prompt, len(page))
		for i, p := range page {
			c := *p
			c.Title = ""
			untitled[i] = &c
		}
		page = untitled
	}
	return struct {
		Prompts    []*prompt `json:"prompts"`
		NextCursor string    `json:"nextCursor,omitempty"`
	}{page, next}, nil
}

func handlePromptsGet(ctx context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	var p struct {
		Name      *string           `json:"name"`
		Arguments map[string]string `json:"arguments"`
	}
	if e := decodeParams(r.params, &p); e != nil {
		return nil, e
	}
	if p.Name == nil {
		return nil, invalidParams("name is required")
	}
	pr := s.lookupPrompt(*p.Name)
	if pr == nil {
		// Invalid prompt name and missing arguments are -32602 [prompts §Error Handling].
		return nil, invalidParams("unknown prompt " + fmt.Sprintf("%q", *p.Name))
	}
	if pr == promptMRTR {
		res, err := s.getPromptMRTR(ctx)
		if err != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Input request failed: "+errText(err))
		}
		return res, nil
	}
	for _, a := range pr.Arguments {
		if _, ok := p.Arguments[a.Name]; a.Required && !ok {
			return nil, invalidParams("missing required argument " + fmt.Sprintf("%q", a.Name))
		}
	}
	return struct {
		Description string          `json:"description"`
		Messages    []promptMessage `json:"messages"`
	}{pr.Description, pr.messages(p.Arguments)}, nil
}

// maxCompletions is the most values one completion result may carry
// [utilities/completion: at most 100 items].
const maxCompletions = 100

// templateIDCandidates are completion values of the template's {id}.
var templateIDCandidates = []string{"1", "2", "3", "42", "123"}

func handleComplete(_ context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	var p struct {
		Ref *struct {
			Type string `json:"type"`
			Name string `json:"name"`
			URI  string `json:"uri"`
		} `json:"ref"`
		Argument *struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"argument"`
	}
	if e := decodeParams(r.params, &p); e != nil {
		return nil, e
	}
	if p.Ref == nil || p.Argument == nil {
		return nil, invalidParams("ref and argument are required")
	}
	var candidates []string
	switch p.Ref.Type {
	case "ref/prompt":
		pr := s.lookupPrompt(p.Ref.Name)
		if pr == nil {
			return nil, invalidParams("unknown prompt " + fmt.Sprintf("%q", p.Ref.Name))
		}
		for _, a := range pr.Arguments {
			if a.Name == p.Argument.Name {
				candidates = a.complete
			}
		}
	case "ref/resource":
		if p.Ref.URI == templateURIPattern && p.Argument.Name == "id" {
			candidates = templateIDCandidates
		}
	default:
		return nil, invalidParams("unknown ref type")
	}
	values := []string{}
	for _, c := range candidates {
		if strings.HasPrefix(c, p.Argument.Value) && len(values) < maxCompletions {
			values = append(values, c)
		}
	}
	type completion struct {
		Values  []string `json:"values"`
		Total   int      `json:"total"`
		HasMore bool     `json:"hasMore"`
	}
	return struct {
		Completion completion `json:"completion"`
	}{completion{values, len(values), false}}, nil
}
