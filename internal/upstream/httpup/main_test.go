package httpup_test

import (
	"testing"

	"github.com/mcpgate/mcpgate/internal/upstream/remote/remotetest"
)

func TestMain(m *testing.M) { remotetest.Main(m, "internal/upstream/httpup.") }
