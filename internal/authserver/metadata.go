package authserver

import (
	"net/http"
)

// asMetadata is the authorization server metadata (RFC 8414 §2), served
// under the OAuth and the OpenID discovery paths alike.
type asMetadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	RevocationAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	// [A §Authorization Code Protection]: clients refuse to proceed
	// without it; only S256 is offered.
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	// RFC 9207 §3: every authorization response carries iss.
	AuthorizationResponseISSParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	// [A §Client ID Metadata Documents]: advertised unless disabled.
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported"`
}

// prMetadata is the protected resource metadata (RFC 9728 §2).
type prMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
}

var authMethods = []string{"none", "client_secret_basic", "client_secret_post"}

func (s *Server) serveASMetadata(w http.ResponseWriter, _ *http.Request) {
	iss := s.o.Issuer
	writeJSON(w, http.StatusOK, asMetadata{
		Issuer:                                     iss,
		AuthorizationEndpoint:                      iss + "/authorize",
		TokenEndpoint:                              iss + "/token",
		RegistrationEndpoint:                       iss + "/register",
		RevocationEndpoint:                         iss + "/revoke",
		ScopesSupported:                            s.o.Scopes,
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported:          authMethods,
		RevocationAuthMethodsSupported:             authMethods,
		CodeChallengeMethodsSupported:              []string{"S256"},
		AuthorizationResponseISSParameterSupported: true,
		ClientIDMetadataDocumentSupported:          !s.o.CIMD.Disabled,
	})
}

func (s *Server) servePRM(w http.ResponseWriter, _ *http.Request) {
	// [A §Authorization Server Location]: at least one authorization server.
	writeJSON(w, http.StatusOK, prMetadata{
		Resource:               s.o.Resource,
		AuthorizationServers:   []string{s.o.Issuer},
		ScopesSupported:        s.o.Scopes,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "mcpgate",
	})
}
