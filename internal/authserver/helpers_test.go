package authserver

import "github.com/mcpgate/mcpgate/internal/secret"

func secretString(s string) secret.String { return secret.New(s) }
