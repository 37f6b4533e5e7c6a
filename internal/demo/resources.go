package demo

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// resource is a listed resource (or, with URITemplate set, a template).
type resource struct {
	URI         string `json:"uri,omitempty"`
	URITemplate string `json:"uriTemplate,omitempty"`
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description"`
	MimeType    string `json:"mimeType,omitempty"`
}

// resourceContents is one item of a resources/read result, or the resource
// of an embedded resource content block.
type resourceContents struct {
	URI      string `json:"uri"`
	MimeType string `json:"mimeType,omitempty"`
	Text     string `json:"text,omitempty"`
	Blob     string `json:"blob,omitempty"`
}

// staticResources are the direct resources of the reference server.
var staticResources = []resource{
	{URI: staticTextURI, Name: "static-text", Title: "Static Text Resource",
		Description: "A static text resource for testing", MimeType: "text/plain"},
	{URI: staticBinaryURI, Name: "static-binary", Title: "Static Binary Resource",
		Description: "A static binary resource (image) for testing", MimeType: "image/png"},
	{URI: watchedResourceURI, Name: "watched-resource", Title: "Watched Resource",
		Description: "A resource that changes when update_watched_resource is called; subscribe to be notified",
		MimeType:    "text/plain"},
}

// resourceTemplates are the reference server's templates.
var resourceTemplates = []resource{
	{URITemplate: templateURIPattern, Name: "template", Title: "Resource Template",
		Description: "A resource template with parameter substitution", MimeType: "application/json"},
}

func handleResourcesList(_ context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	page, next, e := paginate(staticResources, r.params, s.opts.PageSize)
	if e != nil {
		return nil, e
	}
	return struct {
		Resources  []resource `json:"resources"`
		NextCursor string     `json:"nextCursor,omitempty"`
	}{withoutTitles(s, page), next}, nil
}

func handleTemplatesList(_ context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	page, next, e := paginate(resourceTemplates, r.params, s.opts.PageSize)
	if e != nil {
		return nil, e
	}
	return struct {
		ResourceTemplates []resource `json:"resourceTemplates"`
		NextCursor        string     `json:"nextCursor,omitempty"`
	}{withoutTitles(s, page), next}, nil
}

// withoutTitles drops titles for versions before 2025-06-18, which added them.
func withoutTitles(s *server, list []resource) []resource {
	if v, _ := s.negotiated(); v >= mcp.Version20250618 { // titles: 2025-06-18
		return list
	}
	out := make([]resource, len(list))
	for i, r := range list {
		r.Title = ""
		out[i] = r
	}
	return out
}

// uriParams are the params of resources/read, subscribe and unsubscribe.
type uriParams struct {
	URI *string `json:"uri"`
}

func decodeURI(params json.RawMessage) (string, *jsonrpc.Error) {
	var p uriParams
	if e := decodeParams(params, &p); e != nil {
		return "", e
	}
	if p.URI == nil || *p.URI == "" {
		return "", invalidParams("uri is required")
	}
	return *p.URI, nil
}

// resourceNotFound is the error for an unknown URI: -32002 with the URI in
// data [resources §Error Handling].
func resourceNotFound(uri string) *jsonrpc.Error {
	e := jsonrpc.NewError(jsonrpc.CodeResourceNotFound, "Resource not found")
	e.Data = jsonrpc.MustRaw(map[string]string{"uri": uri})
	return e
}

func handleResourcesRead(_ context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	uri, e := decodeURI(r.params)
	if e != nil {
		return nil, e
	}
	c, ok := s.readResource(uri)
	if !ok {
		return nil, resourceNotFound(uri)
	}
	return struct {
		Contents []resourceContents `json:"contents"`
	}{[]resourceContents{c}}, nil
}

// readResource returns the contents of uri, if it names a resource.
func (s *server) readResource(uri string) (resourceContents, bool) {
	switch uri {
	case staticTextURI:
		return resourceContents{URI: uri, MimeType: "text/plain", Text: staticText}, true
	case staticBinaryURI:
		return resourceContents{URI: uri, MimeType: "image/png", Blob: testImageBase64}, true
	case watchedResourceURI:
		s.mu.Lock()
		text := s.watchedText
		s.mu.Unlock()
		return resourceContents{URI: uri, MimeType: "text/plain", Text: text}, true
	}
	if id, ok := templateID(uri); ok {
		text := jsonrpc.MustRaw(struct {
			ID           string `json:"id"`
			TemplateTest bool   `json:"templateTest"`
			Data         string `json:"data"`
		}{id, true, "Data for ID: " + id})
		return resourceContents{URI: uri, MimeType: "application/json", Text: string(text)}, true
	}
	return resourceContents{}, false
}

// templateID matches uri against test://template/{id}/data (RFC 6570 level
// 1: {id} is one non-empty path segment).
func templateID(uri string) (string, bool) {
	const prefix, suffix = "test://template/", "/data"
	id, ok := strings.CutPrefix(uri, prefix)
	if !ok {
		return "", false
	}
	id, ok = strings.CutSuffix(id, suffix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

func handleSubscribe(ctx context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	uri, e := decodeURI(r.params)
	if e != nil {
		return nil, e
	}
	if _, ok := s.readResource(uri); !ok {
		return nil, resourceNotFound(uri)
	}
	s.mu.Lock()
	s.subscriptions[uri] = true
	s.mu.Unlock()
	s.logMessage(ctx, "info", "Subscribed to resource: "+uri)
	return json.RawMessage(`{}`), nil
}

func handleUnsubscribe(ctx context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	uri, e := decodeURI(r.params)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	delete(s.subscriptions, uri)
	s.mu.Unlock()
	s.logMessage(ctx, "info", "Unsubscribed from resource: "+uri)
	return json.RawMessage(`{}`), nil
}
