package authserver_test

import (
	"testing"

	"github.com/mcpgate/mcpgate/internal/authserver"
	"github.com/mcpgate/mcpgate/internal/authserver/storetest"
)

func TestMemoryStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) authserver.Store { return authserver.NewMemoryStore() })
}
