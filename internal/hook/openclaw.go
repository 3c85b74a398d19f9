package hook

import (
	"context"
	"encoding/json"

	"github.com/clawwarden/clawwarden/internal/openclaw"
)

// ConfigStore reads and writes OpenClaw's configuration (openclaw.json).
// [openclaw.CLI] implements it with the `openclaw config` commands, so
// OpenClaw itself validates, backs up and writes the file.
//
// OpenClaw reads a config in two forms. Get returns the value as OpenClaw
// uses it: includes resolved, ${VAR} substituted, a leading "~" of path
// lists expanded. Authored returns the file as written, which is what
// conditional writes compare against and what uninstall must put back.
type ConfigStore interface {
	// Get returns the JSON value at a dotted config path as OpenClaw uses
	// it. ok is false when the path is valid but has no value ("unset").
	Get(ctx context.Context, path string) (value json.RawMessage, ok bool, err error)
	// Authored returns the root config file as written, converted from
	// JSON5 to JSON; "{}" when there is no file yet.
	Authored(ctx context.Context) (json.RawMessage, error)
	// Set writes value at path if the authored value still matches cond.
	Set(ctx context.Context, path string, value json.RawMessage, cond openclaw.Expect) error
	// Patch applies a config-shaped JSON merge patch: objects merge, arrays
	// and scalars replace, null deletes.
	Patch(ctx context.Context, patch json.RawMessage) error
}
