package boundary

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sudo", name))
	must(t, err)
	return string(b)
}

// sudoersOf returns the fixture's sudoers file for account cwb-rec, as the
// fake root's /etc/sudoers.d/zz-cwb-rec.
func sudoersOf(t *testing.T, name string) []node {
	return []node{
		{path: "etc/sudoers", content: "Defaults\tenv_reset\nroot\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n", mode: 0o440},
		{path: "etc/sudoers.d/zz-cwb-rec", content: fixture(t, name+".sudoers"), mode: 0o440},
	}
}

// recPasswd and recGroup hold the account the fixtures were recorded for.
const recPasswd = basePasswd + "cwb-rec:x:4500:4500::/nonexistent:/usr/sbin/nologin\n"
const recGroup = baseGroup + "cwb-rec:x:4500:\ncwb-recg:x:4501:cwb-rec\n"

func TestSudo(t *testing.T) {
	helper := []string{"helper-long.txt", "helper-short.txt", "sudo-rs-helper-long.txt", "not-allowed.txt"}
	for _, f := range helper {
		t.Run("clean/"+f, func(t *testing.T) {
			r := checkSudo(t, fixture(t, f), sudoersOf(t, "helper"), DefaultHelper)
			expect(t, r.Report, r.root)
		})
	}
	extra := []want{
		{kind: KindSudoRight, detail: []string{"sudo -ll -U cwb-rec lists (ALL : ALL) [!authenticate] /usr/bin/apt-get", "these commands as any user, root included", "(from $ROOT/etc/sudoers.d/zz-cwb-rec:3)"},
			fix: []string{"remove the rule at $ROOT/etc/sudoers.d/zz-cwb-rec:3 with `visudo -f $ROOT/etc/sudoers.d/zz-cwb-rec`"}},
		{kind: KindSudoRight, detail: []string{"(nobody) /usr/bin/id", "commands as another user", "zz-cwb-rec:4"}},
	}
	tests := []struct {
		name    string
		listing string
		sudoers string
		helper  string
		want    []want
	}{
		{name: "other rights", listing: "extra-long.txt", sudoers: "extra", helper: DefaultHelper, want: extra},
		{name: "other rights, short format", listing: "extra-short.txt", sudoers: "extra", helper: DefaultHelper, want: extra},
		{name: "other rights, sudo-rs", listing: "sudo-rs-extra-long.txt", sudoers: "extra", helper: DefaultHelper, want: extra},
		{name: "group rule", listing: "group-long.txt", sudoers: "group", helper: DefaultHelper, want: []want{
			{kind: KindSudoRight, detail: []string{"(ALL) ALL", "any command as any user, root included", "zz-cwb-rec:2"},
				fix: []string{"gpasswd -d cwb-rec cwb-recg", "the rule at $ROOT/etc/sudoers.d/zz-cwb-rec:2 is for group cwb-recg"}},
		}},
		{name: "no helper: even the helper is a right", listing: "helper-long.txt", sudoers: "helper", helper: "", want: []want{
			{kind: KindSudoRight, detail: []string{"(root) [!authenticate] /usr/local/libexec/clawwarden/clawwarden-root", "zz-cwb-rec:2"}},
		}},
		{name: "another helper path", listing: "helper-long.txt", sudoers: "helper", helper: "/usr/libexec/clawwarden-root", want: []want{
			{kind: KindSudoRight, detail: []string{"/usr/local/libexec/clawwarden/clawwarden-root, a sudo right other than the helper"}},
		}},
		{name: "weakening Defaults and SETENV", listing: "weak-long.txt", sudoers: "weak", helper: DefaultHelper, want: []want{
			{kind: KindSudoDefaults, detail: []string{"lists the Default !env_reset for cwb-rec", "whole environment", "(from $ROOT/etc/sudoers.d/zz-cwb-rec:2)"},
				fix: []string{"remove !env_reset from $ROOT/etc/sudoers.d/zz-cwb-rec:2 with `visudo -f $ROOT/etc/sudoers.d/zz-cwb-rec`"}},
			{kind: KindSudoDefaults, detail: []string{`env_keep+="LD_PRELOAD PYTHONPATH LANG"`, "keep the caller's LD_PRELOAD"}},
			{kind: KindSudoDefaults, detail: []string{`env_keep+="LD_PRELOAD PYTHONPATH LANG"`, "keep the caller's PYTHONPATH"}},
			{kind: KindSudoDefaults, detail: []string{`"Defaults!/usr/local/libexec/clawwarden/clawwarden-root setenv"`, "any environment variable", "zz-cwb-rec:3"}},
			{kind: KindSudoDefaults, detail: []string{"the helper's rule with setenv", "SETENV", "zz-cwb-rec:4"},
				fix: []string{"drop the SETENV tag from the rule at $ROOT/etc/sudoers.d/zz-cwb-rec:4"}},
		}},
		{name: "weakening, short format", listing: "weak-short.txt", sudoers: "weak", helper: DefaultHelper, want: []want{
			{kind: KindSudoDefaults, detail: []string{"!env_reset"}},
			{kind: KindSudoDefaults, detail: []string{"keep the caller's LD_PRELOAD"}},
			{kind: KindSudoDefaults, detail: []string{"keep the caller's PYTHONPATH"}},
			{kind: KindSudoDefaults, detail: []string{"Defaults!"}},
			{kind: KindSudoDefaults, detail: []string{"SETENV lets"}},
		}},
		// sudo-rs lists no Defaults: they are read from the sudoers files.
		{name: "sudo-rs reads Defaults from the files", listing: "sudo-rs-helper-long.txt", sudoers: "weak", helper: DefaultHelper, want: []want{
			{kind: KindSudoDefaults, detail: []string{`$ROOT/etc/sudoers.d/zz-cwb-rec:2: "Defaults:cwb-rec !env_reset,`, "whole environment"}},
			{kind: KindSudoDefaults, detail: []string{"zz-cwb-rec:2", "keep the caller's LD_PRELOAD"}},
			{kind: KindSudoDefaults, detail: []string{"zz-cwb-rec:2", "keep the caller's PYTHONPATH"}},
			{kind: KindSudoDefaults, detail: []string{"zz-cwb-rec:3", "any environment variable"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkSudo(t, fixture(t, tt.listing), sudoersOf(t, tt.sudoers), tt.helper)
			expect(t, r.Report, r.root, tt.want...)
		})
	}
}

// sudoReport is a Report and the fake root it was made on.
type sudoReport struct {
	Report
	root string
}

// checkSudo runs Check for cwb-rec with a listing, on a fake root holding
// the sudoers, and keeps the sudo findings only.
func checkSudo(t *testing.T, list string, sudoers []node, helper string) sudoReport {
	t.Helper()
	nodes := append([]node{{path: "etc/passwd", content: recPasswd}, {path: "etc/group", content: recGroup}}, sudoers...)
	root := newRoot(t, nodes...)
	r := Check(context.Background(), Options{Account: "cwb-rec", Helper: helper, Root: root, Sudo: listing(list)})
	var keep []Finding
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Kind, "sudo") {
			keep = append(keep, f)
		}
	}
	r.Findings = keep
	return sudoReport{r, root}
}

// TestSudoResolvedHelper: sudo-rs lists the file a rule's path resolves to.
func TestSudoResolvedHelper(t *testing.T) {
	const list = "User cwb-agent may run the following commands on vm:\n\nSudoers entry:\n    RunAsUsers: root\n    Options: !authenticate\n    Commands:\n\t/opt/cw/root-helper\n"
	root := newRoot(t,
		node{path: "opt/cw/root-helper", content: "x", mode: 0o755},
		node{path: "usr/local/libexec/clawwarden/clawwarden-root", link: "../../../../opt/cw/root-helper"})
	r := Check(context.Background(), Options{Account: agent, Helper: DefaultHelper, Root: root, Sudo: listing(list)})
	expect(t, r, root)
	r = Check(context.Background(), Options{Account: agent, Helper: "/opt/cw/other", Root: root, Sudo: listing(list)})
	expect(t, r, root, want{kind: KindSudoRight, detail: []string{"(root) [!authenticate] /opt/cw/root-helper"}})
}

func TestSudoFailures(t *testing.T) {
	root := newRoot(t)
	tests := []struct {
		name     string
		run      Runner
		want     []want
		evidence string
	}{
		{name: "sudo missing", run: func(context.Context, ...string) ([]byte, error) {
			return nil, fmt.Errorf("sudo not found: %w", exec.ErrNotFound)
		}, evidence: "sudo: not installed"},
		{name: "sudo fails", run: func(context.Context, ...string) ([]byte, error) {
			return nil, errors.New("sudo: unknown user cwb-agent")
		}, want: []want{{kind: KindUnverified, detail: []string{"`sudo -ll -U cwb-agent` failed", "unknown user"}}}},
		{name: "unreadable output", run: listing("Sorry, try again.\n"),
			want: []want{{kind: KindUnverified, detail: []string{"cannot read the output of `sudo -ll -U cwb-agent`"}}}},
		{name: "not allowed", run: notAllowed, evidence: "sudo -ll -U cwb-agent: no sudo rights"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(context.Background(), Options{Account: agent, Helper: DefaultHelper, Root: root, Sudo: tt.run})
			expect(t, r, root, tt.want...)
			if tt.evidence != "" && !strings.Contains(strings.Join(r.Evidence, "\n"), tt.evidence) {
				t.Errorf("evidence lacks %q:\n%s", tt.evidence, strings.Join(r.Evidence, "\n"))
			}
		})
	}
}

func TestSudoSettings(t *testing.T) {
	root := newRoot(t, node{path: "home/cwb-agent/env", content: "LD_PRELOAD=/x\n", uid: agentUID})
	c := newChecker(t, root)
	tests := []struct {
		settings []string
		want     []string // the settings reported
	}{
		{[]string{"env_reset", "mail_badpass"}, nil},
		{[]string{"!env_reset", "env_reset"}, nil},
		{[]string{"env_reset", "!env_reset"}, []string{"!env_reset"}},
		{[]string{`env_keep+="LANG LC_* TZ"`}, nil},
		{[]string{`env_keep+="LD_LIBRARY_PATH"`, `env_keep-="LD_LIBRARY_PATH"`}, nil},
		{[]string{`env_keep="NODE_OPTIONS"`}, []string{`env_keep="NODE_OPTIONS"`}},
		{[]string{`env_keep+="X_*"`}, []string{`env_keep+="X_*"`}},
		{[]string{"setenv", "!setenv"}, nil},
		{[]string{"closefrom_override"}, []string{"closefrom_override"}},
		{[]string{"runchroot=*"}, []string{"runchroot=*"}},
		{[]string{"env_file=/home/cwb-agent/env"}, []string{"env_file=/home/cwb-agent/env"}},
		{[]string{"env_file=/etc/environment"}, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, w := range c.weaknesses(tt.settings) {
			got = append(got, w.setting)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("weaknesses(%q) = %q, want %q", tt.settings, got, tt.want)
		}
	}
}
