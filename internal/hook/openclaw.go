package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"time"

	"github.com/titanous/json5"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// ConfigStore reads and writes OpenClaw's configuration (openclaw.json).
// [OpenClawCLI] implements it with the `openclaw config` commands, so
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
	Set(ctx context.Context, path string, value json.RawMessage, cond Expect) error
	// Patch applies a config-shaped JSON merge patch: objects merge, arrays
	// and scalars replace, null deletes.
	Patch(ctx context.Context, patch json.RawMessage) error
}

// Expect is the condition of a write: the authored path must be absent, or
// hold exactly Value. The zero Expect writes unconditionally.
type Expect struct {
	Absent bool
	Value  json.RawMessage
}

// OpenClawCLI runs the openclaw command line to read and write the config:
// `openclaw config get PATH --json`, `openclaw config set PATH VALUE
// --strict-json --expect-current-json|--expect-current-absent` and
// `openclaw config patch --stdin` (OpenClaw's docs/cli/config.md). It is run
// with an argv, never through a shell, and inherits clawwarden's environment
// (HOME, OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH select the config file).
type OpenClawCLI struct {
	Path    string        // the openclaw executable
	Env     []string      // the environment; nil inherits clawwarden's
	Timeout time.Duration // per command; zero means one minute

	// configFile is the active config file `openclaw config file` named,
	// asked once: it depends only on the environment, which does not
	// change while clawwarden runs, and each ask is a Node start.
	configFile string
}

// ErrNoOpenClaw is returned by [FindOpenClaw] when the openclaw command is
// not on PATH.
var ErrNoOpenClaw = errors.New("the openclaw command is not on PATH")

// FindOpenClaw looks up the openclaw command on PATH.
func FindOpenClaw() (*OpenClawCLI, error) {
	p, err := exec.LookPath("openclaw")
	if err != nil {
		return nil, ErrNoOpenClaw
	}
	return &OpenClawCLI{Path: p}, nil
}

// unsetMarker is how `openclaw config get` reports a valid path without a
// value ("Config path is valid but unset: PATH. …").
const unsetMarker = "valid but unset"

func (o *OpenClawCLI) run(ctx context.Context, stdin []byte, args ...string) (stdout, stderr []byte, err error) {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.Path, args...)
	cmd.Env = o.Env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %s", timeout)
	}
	return out.Bytes(), errb.Bytes(), err
}

// describe names the command for error messages.
func (o *OpenClawCLI) describe(args []string) string {
	return "openclaw " + strings.Join(args, " ")
}

// cliFailure is the JSON envelope `openclaw … --json` prints on failure.
type cliFailure struct {
	OK    *bool `json:"ok"`
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Get implements [ConfigStore].
func (o *OpenClawCLI) Get(ctx context.Context, path string) (json.RawMessage, bool, error) {
	args := []string{"config", "get", path, "--json"}
	out, errb, err := o.run(ctx, nil, args...)
	body := jsonBody(out)
	if err != nil {
		var f cliFailure
		if json.Unmarshal(body, &f) == nil && f.OK != nil && !*f.OK {
			if strings.Contains(f.Error.Message, unsetMarker) {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("%s: %s", o.describe(args), f.Error.Message)
		}
		if strings.Contains(string(errb), unsetMarker) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("%s: %s: %w", o.describe(args), oneLine(errb, out), err)
	}
	if !json.Valid(body) {
		return nil, false, fmt.Errorf("%s: output is not JSON: %q", o.describe(args), oneLine(out, nil))
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return nil, false, err
	}
	return compact.Bytes(), true, nil
}

// Set implements [ConfigStore] with `openclaw config set PATH VALUE
// --strict-json`, plus --expect-current-absent or --expect-current-json.
func (o *OpenClawCLI) Set(ctx context.Context, path string, value json.RawMessage, cond Expect) error {
	args := []string{"config", "set", path, string(value), "--strict-json"}
	switch {
	case cond.Absent:
		args = append(args, "--expect-current-absent")
	case cond.Value != nil:
		args = append(args, "--expect-current-json", string(cond.Value))
	}
	out, errb, err := o.run(ctx, nil, args...)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", o.describe(args), oneLine(errb, out), err)
	}
	return nil
}

// Patch implements [ConfigStore].
func (o *OpenClawCLI) Patch(ctx context.Context, patch json.RawMessage) error {
	args := []string{"config", "patch", "--stdin"}
	out, errb, err := o.run(ctx, patch, args...)
	if err != nil {
		return fmt.Errorf("%s (patch %s): %s: %w", o.describe(args), patch, oneLine(errb, out), err)
	}
	return nil
}

// Authored implements [ConfigStore]: `openclaw config file --json` names the
// active file, which is read and parsed as JSON5 (OpenClaw's format).
func (o *OpenClawCLI) Authored(ctx context.Context) (json.RawMessage, error) {
	if o.configFile == "" {
		args := []string{"config", "file", "--json"}
		out, errb, err := o.run(ctx, nil, args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", o.describe(args), oneLine(errb, out), err)
		}
		var f struct {
			Path string `json:"path"`
		}
		if err := json.Unmarshal(jsonBody(out), &f); err != nil || f.Path == "" {
			return nil, fmt.Errorf("%s: no path in %q", o.describe(args), oneLine(out, nil))
		}
		o.configFile = f.Path
	}
	data, err := safefile.ReadFile(o.configFile)
	if errors.Is(err, fs.ErrNotExist) {
		return json.RawMessage("{}"), nil
	}
	if err != nil {
		return nil, err
	}
	return parseJSON5(o.configFile, data)
}

// parseJSON5 converts an openclaw.json (JSON5, maybe with a byte order mark)
// to JSON.
func parseJSON5(name string, data []byte) (json.RawMessage, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var v map[string]any
	if err := json5.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if v == nil {
		v = map[string]any{}
	}
	return json.Marshal(v)
}

// jsonBody trims anything printed before the JSON document (a banner).
func jsonBody(out []byte) []byte {
	out = bytes.TrimSpace(out)
	if json.Valid(out) {
		return out
	}
	if i := bytes.IndexAny(out, "[{\""); i > 0 && json.Valid(out[i:]) {
		return out[i:]
	}
	return out
}

// oneLine returns the non-empty lines of a (else of b) joined into one
// line, cut at 400 bytes, for error messages.
func oneLine(a, b []byte) string {
	for _, s := range [][]byte{a, b} {
		var lines []string
		for _, l := range strings.Split(string(s), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			msg := strings.Join(lines, " ")
			if len(msg) > 400 {
				msg = msg[:400] + "…"
			}
			return msg
		}
	}
	return "no output"
}
