package guard

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/shim"
	"github.com/clawwarden/clawwarden/internal/sudo"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// TestCheckLineMatchesRun runs every line through CheckLine (what `policy
// check` prints) and through the path a real request takes (the shim's plan
// for a sudo line, then Run up to the point where it would ask a person) and
// compares the two: the refusal, and the policy decision Run recorded in
// the audit log.
func TestCheckLineMatchesRun(t *testing.T) {
	sudoPath, err := sudo.Find("")
	if err != nil {
		testenv.Skip(t, "needs sudo installed: %v", err)
	}
	const cmdPolicy = `{
	  "allow": ["^/usr/bin/id( |$)", "^/usr/bin/true$"],
	  "deny": ["^/usr/bin/id -un"],
	  "allow_exact": [["sudo", "-u", "nobody", "/usr/bin/id"], ["sudoedit", "/etc/hosts"]]
	}`
	for _, tt := range []struct {
		name            string
		argv            []string
		noPolicy        bool // no policy files at all
		requireFiles    bool // OPENCLAW_REQUIRE_POLICY_FILES=1
		requireSession  bool // OPENCLAW_REQUIRE_SESSION_ID=1
		nonInteractive  bool // OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1
		want            error
		allowed         bool
		rule            string
		passthrough     bool
		wantCheckedLine string
	}{
		{name: "allowed command", argv: []string{"id"}, allowed: true, rule: "allow[0]"},
		{name: "denied command", argv: []string{"id", "-un"}, want: ErrPolicyBlock, rule: "deny[0]"},
		{name: "not in the allow list", argv: []string{"false"}, want: ErrPolicyBlock, rule: "not in allow list"},
		{name: "shell refused by a built-in rule", argv: []string{"bash", "-c", "id"}, want: ErrPolicyBlock, rule: "builtin:shell"},
		{name: "relative path", argv: []string{"./id"}, want: ErrInvalidCommand},
		{name: "control character", argv: []string{"id", "a\nb"}, want: ErrInvalidCommand},
		{name: "no policy file: built-in rules only", argv: []string{"true"}, noPolicy: true, allowed: true, rule: "allow (no allow list)"},
		{name: "policy files required and missing", argv: []string{"id"}, noPolicy: true, requireFiles: true, want: ErrPolicyFilesMissing},
		{name: "session id required", argv: []string{"id"}, requireSession: true, want: ErrSessionIDMissing, allowed: true, rule: "allow[0]"},
		{name: "sudo line: plain command", argv: []string{"sudo", "id"}, allowed: true, rule: "allow[0]"},
		{name: "sudo line: non-interactive, allowed by the setting", argv: []string{"sudo", "-n", "true"}, nonInteractive: true, allowed: true, rule: "allow[1]"},
		{name: "sudo line: non-interactive without the setting", argv: []string{"sudo", "-n", "true"}, want: shim.ErrNoPerson, rule: "shim"},
		{name: "sudo line: denied command", argv: []string{"sudo", "id", "-un"}, want: ErrPolicyBlock, rule: "deny[0]"},
		{name: "sudo line: shell", argv: []string{"sudo", "sh"}, want: ErrPolicyBlock, rule: "builtin:shell"},
		{name: "sudo line: identity change named exactly", argv: []string{"sudo", "-u", "nobody", "/usr/bin/id"}, allowed: true, rule: "allow_exact (full sudo command line)"},
		{name: "sudo line: identity change not named", argv: []string{"sudo", "-u", "root", "id"}, want: ErrPolicyBlock, rule: "shim"},
		{name: "sudo line: named, then policy files required", argv: []string{"sudo", "-u", "nobody", "/usr/bin/id"}, noPolicy: true, requireFiles: true, want: ErrPolicyBlock, rule: "shim"},
		{name: "sudoedit named", argv: []string{"sudoedit", "/etc/hosts"}, allowed: true, rule: "allow_exact (full sudo command line)"},
		{name: "sudoedit not named", argv: []string{"sudoedit", "/etc/shadow"}, want: ErrPolicyBlock, rule: "shim"},
		{name: "sudo -e names the sudoedit line", argv: []string{"sudo", "-e", "/etc/hosts"}, want: ErrPolicyBlock, rule: "shim"},
		{name: "sudo -l is sudo's own", argv: []string{"sudo", "-l"}, allowed: true, rule: "passthrough", passthrough: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			paths := config.Paths{Home: dir, StateDir: dir, SecurityDir: filepath.Join(dir, "security")}
			if err := os.MkdirAll(paths.SecurityDir, 0o700); err != nil {
				t.Fatal(err)
			}
			if !tt.noPolicy {
				write(t, paths.Security(config.CommandPolicyFile), cmdPolicy)
				write(t, paths.Security(config.PromptPolicyFile), `{"require_confirmation_for_untrusted": true}`)
			}
			env := config.Env{RequirePolicyFiles: tt.requireFiles, RequireSessionID: tt.requireSession, AllowNoninteractiveSudo: tt.nonInteractive}
			o := Options{Argv: tt.argv, Paths: paths, Env: env, Sudo: sudoPath, Via: "exec",
				Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}

			line, checkErr := CheckLine(o, "/")
			if !errors.Is(checkErr, tt.want) || (tt.want == nil && checkErr != nil) {
				t.Fatalf("CheckLine: %v, want %v", checkErr, tt.want)
			}
			if line.Passthrough != tt.passthrough {
				t.Errorf("CheckLine: passthrough %v", line.Passthrough)
			}
			if line.Decided && (line.Decision.Allowed != tt.allowed || !strings.HasPrefix(line.Decision.Rule, tt.rule)) {
				t.Errorf("CheckLine: allowed %v rule %q, want %v %q", line.Decision.Allowed, line.Decision.Rule, tt.allowed, tt.rule)
			}

			// The real path: the shim's plan for a sudo line, then the guard.
			if tt.argv[0] == "sudo" || tt.argv[0] == "sudoedit" {
				pol, _, _ := loadPolicy(paths.Security(config.CommandPolicyFile))
				plan, err := shim.Decide(tt.argv[1:], shim.Options{Edit: tt.argv[0] == "sudoedit", Person: true,
					AllowNonInteractive: tt.nonInteractive, PolicyPath: line.PolicyFile, NamesExactly: pol.NamesExactly})
				if err != nil {
					t.Fatal(err)
				}
				if (plan.Action == shim.Passthrough) != tt.passthrough {
					t.Fatalf("shim plan %v, CheckLine passthrough %v", plan.Action, tt.passthrough)
				}
				if plan.Action == shim.Passthrough {
					return
				}
				o.Via = "shim"
				if plan.Action == shim.Refuse {
					o.Refused = plan.Err
				}
				o.Argv, o.NamedArgv, o.SudoArgs, o.Edit, o.ForcePending = plan.Command, plan.Named, plan.SudoArgs, plan.Edit, plan.ForcePending
				if plan.Action == shim.Refuse {
					o.Argv = tt.argv
				}
			}
			o.ForcePending = true
			// A cancelled context: Run stops where it would wait for a person.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, runErr := Run(ctx, o)
			if runErr == nil {
				t.Fatal("Run ran the command")
			}
			recs := readAudit(t, paths.Security(config.AuditLogFile))
			pol, decided := policyRecord(recs)
			switch {
			case tt.want == nil:
				if !decided || pol.Decision != "allow" || pol.Rule != line.Decision.Rule {
					t.Errorf("Run recorded %+v (decided %v); CheckLine allowed by %q", pol, decided, line.Decision.Rule)
				}
				if !hasEvent(recs, "approval", "pending") {
					t.Errorf("Run did not get as far as asking a person: %v", runErr)
				}
			case tt.rule == "shim":
				// The shim's own refusal, which CheckLine's error wraps.
				shimErr := shim.ErrRiskyOptions
				if errors.Is(tt.want, shim.ErrNoPerson) {
					shimErr = shim.ErrNoPerson
				}
				if !errors.Is(checkErr, shimErr) || !errors.Is(runErr, shimErr) || decided {
					t.Errorf("Run: %v (policy record %v), want the shim's refusal", runErr, decided)
				}
			default:
				if !errors.Is(runErr, tt.want) {
					t.Errorf("Run: %v, want %v", runErr, tt.want)
				}
				if decided != line.Decided || (decided && (pol.Rule != line.Decision.Rule || (pol.Decision == "allow") != line.Decision.Allowed)) {
					t.Errorf("Run recorded %+v (decided %v); CheckLine %+v (decided %v)", pol, decided, line.Decision, line.Decided)
				}
			}
		})
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readAudit(t *testing.T, path string) []audit.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

func policyRecord(recs []audit.Record) (audit.Record, bool) {
	for _, r := range recs {
		if r.Event == "policy" {
			return r, true
		}
	}
	return audit.Record{}, false
}

func hasEvent(recs []audit.Record, event, decision string) bool {
	for _, r := range recs {
		if r.Event == event && r.Decision == decision {
			return true
		}
	}
	return false
}
