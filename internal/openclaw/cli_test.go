package openclaw

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/command"
)

// fakeCLI answers openclaw commands by their argv (without the program),
// recording each command it is asked to run.
type fakeCLI struct {
	calls   []command.Cmd
	answers map[string]command.Output // by argv
	fail    map[string]bool           // these argv exit 1
}

func (f *fakeCLI) cli() *CLI {
	return &CLI{Path: "/opt/bin/openclaw", Runner: command.Func(func(_ context.Context, c command.Cmd) (command.Output, error) {
		f.calls = append(f.calls, c)
		argv := strings.Join(c.Args, " ")
		out := f.answers[argv]
		if f.fail[argv] {
			return out, command.Fail(c, out, errors.New("exit status 1"))
		}
		return out, nil
	})}
}

func stdout(s string) command.Output { return command.Output{Stdout: []byte(s)} }

func TestCLIGet(t *testing.T) {
	f := &fakeCLI{
		answers: map[string]command.Output{
			"config get a.set --json":     stdout("banner line\n[\n  \"/x\"\n]\n"),
			"config get a.unset --json":   stdout(`{"ok": false, "error": {"message": "Config path is valid but unset: a.unset."}}`),
			"config get a.bad --json":     stdout(`{"ok": false, "error": {"message": "Config path not found: a.bad"}}`),
			"config get a.old --json":     {Stderr: []byte("Config path is valid but unset: a.old.\n")},
			"config get a.broken --json":  {Stderr: []byte("Error: boom\n")},
			"config get a.notjson --json": stdout("hello"),
		},
		fail: map[string]bool{"config get a.unset --json": true, "config get a.bad --json": true, "config get a.old --json": true, "config get a.broken --json": true},
	}
	o := f.cli()
	tests := []struct {
		path    string
		want    string
		wantOK  bool
		wantErr string
	}{
		{path: "a.set", want: `["/x"]`, wantOK: true},
		{path: "a.unset"},
		{path: "a.old"},
		{path: "a.bad", wantErr: "/opt/bin/openclaw config get a.bad --json: Config path not found: a.bad"},
		{path: "a.broken", wantErr: "/opt/bin/openclaw config get a.broken --json: Error: boom: exit status 1"},
		{path: "a.notjson", wantErr: `output is not JSON: "hello"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok, err := o.Get(t.Context(), tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Get error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ok != tt.wantOK || string(got) != tt.want {
				t.Errorf("Get = %s, %v, %v; want %s, %v", got, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCLISetAndPatchArgv(t *testing.T) {
	f := &fakeCLI{fail: map[string]bool{"config patch --stdin": true}}
	o := f.cli()
	o.Env, o.Timeout = []string{"HOME=/h"}, 7e9
	ctx := t.Context()
	for _, cond := range []Expect{{}, {Absent: true}, {Value: json.RawMessage(`["/a"]`)}} {
		if err := o.Set(ctx, "tools.exec.pathPrepend", json.RawMessage(`["/b"]`), cond); err != nil {
			t.Fatal(err)
		}
	}
	err := o.Patch(ctx, json.RawMessage(`{"plugins":null}`))
	if err == nil || !strings.Contains(err.Error(), `patch {"plugins":null}: /opt/bin/openclaw config patch --stdin: no output: exit status 1`) {
		t.Errorf("Patch error %v", err)
	}
	want := []string{
		`config set tools.exec.pathPrepend ["/b"] --strict-json`,
		`config set tools.exec.pathPrepend ["/b"] --strict-json --expect-current-absent`,
		`config set tools.exec.pathPrepend ["/b"] --strict-json --expect-current-json ["/a"]`,
		`config patch --stdin`,
	}
	if len(f.calls) != len(want) {
		t.Fatalf("ran %d commands, want %d", len(f.calls), len(want))
	}
	for i, c := range f.calls {
		if got := strings.Join(c.Args, " "); got != want[i] {
			t.Errorf("command %d: %q, want %q", i, got, want[i])
		}
		if c.Name != o.Path || !reflect.DeepEqual(c.Env, o.Env) || c.Timeout != o.Timeout {
			t.Errorf("command %d ran %s with env %q, timeout %s", i, c.Name, c.Env, c.Timeout)
		}
	}
	if got := string(f.calls[3].Stdin); got != `{"plugins":null}` {
		t.Errorf("patch stdin = %q", got)
	}
}

// TestCLIAuthored asks `openclaw config file` once and reads the JSON5 file
// it names as written.
func TestCLIAuthored(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "openclaw.json")
	f := &fakeCLI{answers: map[string]command.Output{"config file --json": stdout(`{"path": "` + file + `"}`)}}
	o := f.cli()
	got, err := o.Authored(t.Context())
	if err != nil || string(got) != "{}" {
		t.Fatalf("Authored without a file = %s, %v; want {}", got, err)
	}
	if err := os.WriteFile(file, []byte("\xef\xbb\xbf{tools: {exec: {pathPrepend: ['~/bin',],},}, // JSON5\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = o.Authored(t.Context())
	if err != nil || string(got) != `{"tools":{"exec":{"pathPrepend":["~/bin"]}}}` {
		t.Errorf("Authored = %s, %v", got, err)
	}
	if err := os.WriteFile(file, []byte("{tools: "), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Authored(t.Context()); err == nil || !strings.Contains(err.Error(), "not valid JSON5") {
		t.Errorf("Authored of a broken file: error %v, want not valid JSON5", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("openclaw config file ran %d times, want once", len(f.calls))
	}
	f = &fakeCLI{answers: map[string]command.Output{"config file --json": stdout("{}")}}
	if _, err := f.cli().Authored(t.Context()); err == nil || !strings.Contains(err.Error(), "no path in") {
		t.Errorf("Authored with no path: error %v", err)
	}
}

func TestCLIPlugins(t *testing.T) {
	inspect, err := os.ReadFile("testdata/plugins-inspect.json")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeCLI{
		answers: map[string]command.Output{
			"plugins install --link --force --accept-capabilities /p": stdout("Install cancelled.\n"),
			"plugins list --json":                         stdout(`{"plugins": [{"id": "other"}, {"id": "clawwarden", "status": "loaded", "enabled": true, "rootDir": "/p"}]}`),
			"plugins inspect clawwarden --runtime --json": {Stdout: inspect},
			"plugins inspect gone --runtime --json":       {Stderr: []byte("Error: Plugin not found: gone\n")},
		},
		fail: map[string]bool{"plugins inspect gone --runtime --json": true},
	}
	o := f.cli()
	ctx := t.Context()
	if err := o.InstallPlugin(ctx, "/p"); err == nil || !strings.Contains(err.Error(), "the plugin was not installed") {
		t.Errorf("InstallPlugin after a cancel: error %v", err)
	}
	if err := o.UninstallPlugin(ctx, "clawwarden"); err != nil {
		t.Errorf("UninstallPlugin: %v", err)
	}
	info, err := o.FindPlugin(ctx, "clawwarden")
	if want := (&PluginInfo{ID: "clawwarden", Status: "loaded", Enabled: true, RootDir: "/p"}); err != nil || !reflect.DeepEqual(info, want) {
		t.Errorf("FindPlugin = %+v, %v; want %+v", info, err, want)
	}
	if info, err := o.FindPlugin(ctx, "absent"); info != nil || err != nil {
		t.Errorf("FindPlugin(absent) = %+v, %v; want nil, nil", info, err)
	}
	info, err = o.InspectPlugin(ctx, "clawwarden")
	want := &PluginInfo{ID: "clawwarden", Status: "loaded", Enabled: true, Activated: true,
		RootDir: "/tmp/cwp/home/.openclaw/security/openclaw-plugin", Hooks: []string{"before_tool_call", "resolve_exec_env"}}
	if err != nil || !reflect.DeepEqual(info, want) {
		t.Errorf("InspectPlugin = %+v, %v; want %+v", info, err, want)
	}
	if info, err := o.InspectPlugin(ctx, "gone"); info != nil || err != nil {
		t.Errorf("InspectPlugin(gone) = %+v, %v; want nil, nil", info, err)
	}
}

// TestCLISecurityAuditParsesOnFailure: `openclaw security audit` exits 1
// when it finds something and still prints its report; with no report the
// run's error stands.
func TestCLISecurityAuditParsesOnFailure(t *testing.T) {
	rec, err := os.ReadFile(filepath.Join("testdata", "security-audit.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeCLI{answers: map[string]command.Output{"security audit --json": {Stdout: rec}}, fail: map[string]bool{"security audit --json": true}}
	r, err := f.cli().SecurityAudit(t.Context())
	if err != nil || len(r.Findings) != 5 {
		t.Fatalf("SecurityAudit = %v findings, %v; want 5, nil", r, err)
	}
	f.answers = map[string]command.Output{"security audit --json": {Stderr: []byte("gateway down")}}
	if _, err := f.cli().SecurityAudit(t.Context()); err == nil || !strings.Contains(err.Error(), "gateway down: exit status 1") {
		t.Errorf("SecurityAudit with no report: error %v", err)
	}
}

// TestCLIDefaultTimeout: with no Timeout each openclaw command gets
// DefaultTimeout, not the runner's one minute, which a loaded host's Node
// start can exceed halfway through a write.
func TestCLIDefaultTimeout(t *testing.T) {
	f := &fakeCLI{}
	if err := f.cli().Set(t.Context(), "gateway.port", json.RawMessage(`1`), Expect{}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 || f.calls[0].Timeout != DefaultTimeout || DefaultTimeout <= command.DefaultTimeout {
		t.Errorf("timeout %v, want DefaultTimeout (%v)", f.calls, DefaultTimeout)
	}
}
