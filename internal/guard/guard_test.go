package guard

import (
	"errors"
	"testing"

	"github.com/clawwarden/clawwarden/internal/policy"
)

func TestDecide(t *testing.T) {
	pol, err := policy.Parse([]byte(`{"allow_exact": [["sudoedit", "/etc/hosts"], ["sudo", "-u", "postgres", "/usr/bin/psql"]], "deny": ["^/usr/bin/reboot"]}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		argv  []string
		abs   []string
		edit  bool
		named []string
		want  bool
	}{
		{"plain command not in the allow list", []string{"id"}, []string{"/usr/bin/id"}, false, nil, false},
		{"plain command denied", []string{"reboot"}, []string{"/usr/bin/reboot"}, false, nil, false},
		{"plain shell refused", []string{"sh"}, []string{"/usr/bin/sh"}, false, nil, false},
		{"sudoedit named", []string{"/etc/hosts"}, []string{"/etc/hosts"}, true, []string{"sudoedit", "/etc/hosts"}, true},
		{"sudo -e names the sudoedit spelling", []string{"/etc/hosts"}, []string{"/etc/hosts"}, true, []string{"sudo", "-e", "/etc/hosts"}, true},
		{"sudoedit of another file", []string{"/etc/shadow"}, []string{"/etc/shadow"}, true, []string{"sudoedit", "/etc/shadow"}, false},
		{"sudoedit of two files", []string{"/etc/hosts", "/etc/shadow"}, []string{"/etc/hosts", "/etc/shadow"}, true, []string{"sudoedit", "/etc/hosts", "/etc/shadow"}, false},
		{"risky options named", []string{"/usr/bin/psql"}, []string{"/usr/bin/psql"}, false, []string{"sudo", "-u", "postgres", "/usr/bin/psql"}, true},
		{"risky options not named", []string{"/usr/bin/psql", "-c", "x"}, []string{"/usr/bin/psql", "-c", "x"}, false, []string{"sudo", "-u", "postgres", "/usr/bin/psql", "-c", "x"}, false},
	} {
		d := Decide(pol, "p.json", "/", tt.argv, tt.abs, tt.edit, tt.named)
		if d.Allowed != tt.want {
			t.Errorf("%s: allowed = %v (%s: %s), want %v", tt.name, d.Allowed, d.Rule, d.Reason, tt.want)
		}
	}
	if d := Decide(nil, "p.json", "/", []string{"id"}, []string{"/usr/bin/id"}, false, nil); !d.Allowed {
		t.Errorf("plain command without a policy file: %+v", d)
	}
	// Without a policy file nothing names a risky command line.
	if d := Decide(nil, "p.json", "/", []string{"/etc/hosts"}, []string{"/etc/hosts"}, true, []string{"sudoedit", "/etc/hosts"}); d.Allowed {
		t.Error("sudoedit allowed without a policy")
	}
}

func TestCheckInput(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		want error
	}{
		{Options{}, ErrNoCommand},
		{Options{Argv: []string{"/usr/bin/id", "a\nb"}}, ErrInvalidCommand},
		{Options{Argv: []string{"/usr/bin/id", "\x1b[2J"}}, ErrInvalidCommand},
		{Options{Argv: []string{"/usr/bin/id", "bad\xffutf8"}}, ErrInvalidCommand},
		{Options{Argv: []string{"/usr/bin/id"}, Reason: "x\ry"}, ErrInvalidCommand},
		{Options{Argv: []string{"/usr/bin/id"}, SessionID: string(make([]byte, 201))}, ErrInvalidCommand},
		{Options{Argv: []string{"/usr/bin/id", "invoice\u202efdp.sh"}}, nil}, // shown escaped, not refused
	} {
		if err := checkInput(&tt.o); !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
			t.Errorf("checkInput(%q) = %v, want %v", tt.o.Argv, err, tt.want)
		}
	}
}
