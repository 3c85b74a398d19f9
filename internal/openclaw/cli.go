package openclaw

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

	"github.com/clawwarden/clawwarden/internal/command"
)

// CLI runs the openclaw command line: `openclaw config get|set|patch|file`
// (OpenClaw's docs/cli/config.md), `openclaw plugins`, `openclaw security
// audit` and `openclaw approvals get`. It runs an argv, never a shell, and
// passes Env (nil: clawwarden's environment; HOME, OPENCLAW_STATE_DIR and
// OPENCLAW_CONFIG_PATH select the config file). Writes go through OpenClaw,
// so OpenClaw itself validates, backs up and writes openclaw.json.
type CLI struct {
	Path    string         // the openclaw executable
	Env     []string       // the environment; nil inherits clawwarden's
	Timeout time.Duration  // per command; zero means [DefaultTimeout]
	Runner  command.Runner // nil runs the real program

	// configFile is the active config file `openclaw config file` named,
	// asked once: it depends only on the environment, which does not
	// change while clawwarden runs, and each ask is a Node start.
	configFile string
}

// DefaultTimeout bounds each openclaw command when [CLI.Timeout] is zero.
// Every command is a Node start that loads OpenClaw: seconds on an idle
// host, a minute or more on a busy one, and a write (config set, plugins
// install) stopped halfway is worse than a longer wait.
const DefaultTimeout = 5 * time.Minute

// ErrNoCLI is returned by [FindCLI] when the openclaw command is not on
// PATH.
var ErrNoCLI = errors.New("the openclaw command is not on PATH")

// FindCLI looks up the openclaw command on PATH.
func FindCLI() (*CLI, error) {
	p, err := exec.LookPath("openclaw")
	if err != nil {
		return nil, ErrNoCLI
	}
	return &CLI{Path: p}, nil
}

// cmd is the [command.Cmd] for openclaw args.
func (o *CLI) cmd(stdin []byte, args ...string) command.Cmd {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return command.Cmd{Name: o.Path, Args: args, Env: o.Env, Stdin: stdin, Timeout: timeout}
}

// run runs openclaw with args; a failure is a [*command.Error] that names
// the command line and what it printed.
func (o *CLI) run(ctx context.Context, c command.Cmd) (command.Output, error) {
	return command.Or(o.Runner).Run(ctx, c)
}

// Expect is the condition of a config write: the authored path must be
// absent, or hold exactly Value. The zero Expect writes unconditionally.
type Expect struct {
	Absent bool
	Value  json.RawMessage
}

// unsetMarker is how `openclaw config get` reports a valid path without a
// value ("Config path is valid but unset: PATH. …").
const unsetMarker = "valid but unset"

// failure is the JSON envelope `openclaw … --json` prints on failure.
type failure struct {
	OK    *bool `json:"ok"`
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Get returns the JSON value at a dotted config path as OpenClaw uses it
// (includes resolved, ${VAR} substituted), compacted: `openclaw config get
// PATH --json`. ok is false when the path is valid but has no value.
func (o *CLI) Get(ctx context.Context, path string) (json.RawMessage, bool, error) {
	c := o.cmd(nil, "config", "get", path, "--json")
	out, err := o.run(ctx, c)
	body := jsonBody(out.Stdout)
	if err != nil {
		var f failure
		if json.Unmarshal(body, &f) == nil && f.OK != nil && !*f.OK {
			if strings.Contains(f.Error.Message, unsetMarker) {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("%s: %s", c, f.Error.Message)
		}
		if bytes.Contains(out.Stderr, []byte(unsetMarker)) {
			return nil, false, nil
		}
		return nil, false, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return nil, false, fmt.Errorf("%s: output is not JSON: %q", c, command.Output{Stdout: out.Stdout}.Summary())
	}
	return compact.Bytes(), true, nil
}

// Set writes value at path with `openclaw config set PATH VALUE
// --strict-json`, plus --expect-current-absent or --expect-current-json
// when cond says what the authored value must be.
func (o *CLI) Set(ctx context.Context, path string, value json.RawMessage, cond Expect) error {
	args := []string{"config", "set", path, string(value), "--strict-json"}
	switch {
	case cond.Absent:
		args = append(args, "--expect-current-absent")
	case cond.Value != nil:
		args = append(args, "--expect-current-json", string(cond.Value))
	}
	_, err := o.run(ctx, o.cmd(nil, args...))
	return err
}

// Patch applies a config-shaped JSON merge patch (objects merge, arrays and
// scalars replace, null deletes) with `openclaw config patch --stdin`.
func (o *CLI) Patch(ctx context.Context, patch json.RawMessage) error {
	if _, err := o.run(ctx, o.cmd(patch, "config", "patch", "--stdin")); err != nil {
		return fmt.Errorf("patch %s: %w", patch, err)
	}
	return nil
}

// Authored returns the root config file as written, converted from JSON5
// to JSON; "{}" when there is no file yet. `openclaw config file --json`
// names the active file, which is read with [LoadConfig].
func (o *CLI) Authored(ctx context.Context) (json.RawMessage, error) {
	if o.configFile == "" {
		c := o.cmd(nil, "config", "file", "--json")
		out, err := o.run(ctx, c)
		if err != nil {
			return nil, err
		}
		var f struct {
			Path string `json:"path"`
		}
		if err := json.Unmarshal(jsonBody(out.Stdout), &f); err != nil || f.Path == "" {
			return nil, fmt.Errorf("%s: no path in %q", c, command.Output{Stdout: out.Stdout}.Summary())
		}
		o.configFile = f.Path
	}
	cfg, err := LoadConfig(o.configFile)
	if errors.Is(err, fs.ErrNotExist) {
		return json.RawMessage("{}"), nil
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(cfg.Root)
}

// PluginInfo is what OpenClaw reports about an installed plugin.
type PluginInfo struct {
	ID        string
	Status    string // "loaded", or "error" with Error saying why
	Error     string
	Enabled   bool
	Activated bool
	RootDir   string
	Hooks     []string // typed hooks the plugin registered when loaded
}

// InstallPlugin links the plugin folder dir into OpenClaw and enables it:
// `openclaw plugins install --link --force --accept-capabilities DIR`.
// --force confirms a source outside ClawHub; --accept-capabilities accepts
// the plugin's hooks, which the caller has the person's word for.
func (o *CLI) InstallPlugin(ctx context.Context, dir string) error {
	c := o.cmd(nil, "plugins", "install", "--link", "--force", "--accept-capabilities", dir)
	out, err := o.run(ctx, c)
	if err != nil {
		return err
	}
	if bytes.Contains(out.Stdout, []byte("cancelled")) || bytes.Contains(out.Stderr, []byte("was not installed")) {
		return command.Fail(c, out, errors.New("the plugin was not installed"))
	}
	return nil
}

// UninstallPlugin removes the plugin's install record, load path and
// settings, leaving its folder: `openclaw plugins uninstall ID --force`.
func (o *CLI) UninstallPlugin(ctx context.Context, id string) error {
	_, err := o.run(ctx, o.cmd(nil, "plugins", "uninstall", id, "--force"))
	return err
}

// FindPlugin reports the plugin as `openclaw plugins list --json` lists it,
// which reads manifests and install records without loading any plugin's
// code (seconds, where inspect takes tens of seconds); no Hooks. nil when
// OpenClaw does not know the id.
func (o *CLI) FindPlugin(ctx context.Context, id string) (*PluginInfo, error) {
	out, err := o.run(ctx, o.cmd(nil, "plugins", "list", "--json"))
	if err != nil {
		return nil, err
	}
	return ParsePluginList(out.Stdout, id)
}

// InspectPlugin loads the plugin as the gateway would and reports it with
// the hooks it registered: `openclaw plugins inspect ID --runtime --json`.
// nil when OpenClaw does not know the id.
func (o *CLI) InspectPlugin(ctx context.Context, id string) (*PluginInfo, error) {
	out, err := o.run(ctx, o.cmd(nil, "plugins", "inspect", id, "--runtime", "--json"))
	if err != nil {
		if s := strings.ToLower(string(out.Stderr) + string(out.Stdout)); strings.Contains(s, "plugin not found") {
			return nil, nil
		}
		return nil, err
	}
	return ParsePluginInspect(out.Stdout)
}

// listedPlugin is one plugin in `openclaw plugins list --json` or the
// "plugin" of `openclaw plugins inspect --json`.
type listedPlugin struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Error     string `json:"error"`
	Enabled   bool   `json:"enabled"`
	Activated bool   `json:"activated"`
	RootDir   string `json:"rootDir"`
}

func (p *listedPlugin) info() *PluginInfo {
	return &PluginInfo{ID: p.ID, Status: p.Status, Error: p.Error, Enabled: p.Enabled, Activated: p.Activated, RootDir: p.RootDir}
}

// ParsePluginList finds plugin id in the output of `openclaw plugins list
// --json`; nil when it is not listed.
func ParsePluginList(out []byte, id string) (*PluginInfo, error) {
	var v struct {
		Plugins []listedPlugin `json:"plugins"`
	}
	if err := json.Unmarshal(jsonBody(out), &v); err != nil {
		return nil, fmt.Errorf("openclaw plugins list: output is not JSON: %q", command.Output{Stdout: out}.Summary())
	}
	for i := range v.Plugins {
		if v.Plugins[i].ID == id {
			return v.Plugins[i].info(), nil
		}
	}
	return nil, nil
}

// ParsePluginInspect reads the output of `openclaw plugins inspect ID
// --runtime --json`; nil when it names no plugin.
func ParsePluginInspect(out []byte) (*PluginInfo, error) {
	var v struct {
		Plugin     *listedPlugin `json:"plugin"`
		TypedHooks []struct {
			Name string `json:"name"`
		} `json:"typedHooks"`
	}
	if err := json.Unmarshal(jsonBody(out), &v); err != nil {
		return nil, fmt.Errorf("openclaw plugins inspect: output is not JSON: %q", command.Output{Stdout: out}.Summary())
	}
	if v.Plugin == nil {
		return nil, nil
	}
	info := v.Plugin.info()
	for _, hk := range v.TypedHooks {
		info.Hooks = append(info.Hooks, hk.Name)
	}
	return info, nil
}

// SecurityAudit runs `openclaw security audit --json` and parses its
// findings. The command exits non-zero when it finds something; its output
// is parsed then too.
func (o *CLI) SecurityAudit(ctx context.Context) (*AuditReport, error) {
	out, runErr := o.run(ctx, o.cmd(nil, "security", "audit", "--json"))
	if runErr != nil && (errors.Is(runErr, command.ErrTimeout) || len(out.Stdout) == 0) {
		return nil, runErr
	}
	r, err := ParseAudit(out.Stdout)
	if err != nil && runErr != nil {
		return nil, runErr
	}
	return r, err
}

// Approvals runs `openclaw approvals get --json` and returns the effective
// exec policy of each agent.
func (o *CLI) Approvals(ctx context.Context) ([]ExecScope, error) {
	out, err := o.run(ctx, o.cmd(nil, "approvals", "get", "--json"))
	if err != nil {
		return nil, err
	}
	return ParseApprovals(out.Stdout)
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
