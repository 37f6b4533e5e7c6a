package relay

import "github.com/mcpgate/mcpgate/internal/principal"

func principalForTest() principal.Principal { return principal.Anonymous }
