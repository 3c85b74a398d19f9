package shim

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args    []string
		flags   string // "name=value,…"
		env     []string
		command []string
	}{
		{[]string{"id"}, "", nil, []string{"id"}},
		{[]string{"--", "-s"}, "", nil, []string{"-s"}},
		{[]string{"-uroot", "id"}, "user=root", nil, []string{"id"}},
		{[]string{"-u", "root", "-i"}, "user=root,login", nil, nil},
		{[]string{"-nk", "id", "-u"}, "non-interactive,reset-timestamp", nil, []string{"id", "-u"}},
		{[]string{"--us=postgres", "psql"}, "user=postgres", nil, []string{"psql"}},
		{[]string{"--user", "postgres", "psql"}, "user=postgres", nil, []string{"psql"}},
		{[]string{"--preserve-env=PATH,HOME", "env"}, "preserve-env=PATH,HOME", nil, []string{"env"}},
		{[]string{"--preserve-e", "env"}, "preserve-env", nil, []string{"env"}},
		{[]string{"-E", "env"}, "preserve-env", nil, []string{"env"}},
		{[]string{"LD_PRELOAD=/tmp/x.so", "id"}, "", []string{"LD_PRELOAD=/tmp/x.so"}, []string{"id"}},
		{[]string{"-h"}, "help", nil, nil},
		{[]string{"-hother", "id"}, "host=other", nil, []string{"id"}},
		{[]string{"-V"}, "version", nil, nil},
		{[]string{"-D/tmp", "ls"}, "chdir=/tmp", nil, []string{"ls"}},
		{[]string{"-C", "5", "ls"}, "close-from=5", nil, []string{"ls"}},
		{[]string{"-p", "pw:", "id"}, "prompt=pw:", nil, []string{"id"}},
		{[]string{"id", "-u", "root"}, "", nil, []string{"id", "-u", "root"}},
		{[]string{"/usr/bin/env", "A=B"}, "", nil, []string{"/usr/bin/env", "A=B"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			inv, err := Parse(tt.args, false)
			if err != nil {
				t.Fatal(err)
			}
			var flags []string
			for _, f := range inv.Flags {
				s := f.Name
				if f.Value != "" {
					s += "=" + f.Value
				}
				flags = append(flags, s)
			}
			if got := strings.Join(flags, ","); got != tt.flags {
				t.Errorf("flags = %q, want %q", got, tt.flags)
			}
			if !slices.Equal(inv.Env, tt.env) {
				t.Errorf("env = %q, want %q", inv.Env, tt.env)
			}
			if !slices.Equal(inv.Command, tt.command) {
				t.Errorf("command = %q, want %q", inv.Command, tt.command)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{{"-u"}, {"-su"}, {"--user"}, {"--bogus", "id"}, {"-X", "id"}, {"--pres", "id"}, {"--shell=bash", "id"}} {
		if _, err := Parse(args, false); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", args)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		args        []string
		edit        bool
		allowNonInt bool
		tty         bool
		want        Action
	}{
		{[]string{"-h"}, false, false, true, Passthrough},
		{[]string{"--help"}, false, false, false, Passthrough},
		{[]string{"-V"}, false, false, false, Passthrough},
		{[]string{"--version"}, false, false, true, Passthrough},
		{[]string{"-k"}, false, false, false, Passthrough},
		{[]string{"-K"}, false, false, true, Passthrough},
		{[]string{"-l"}, false, false, true, Passthrough},
		{[]string{"-l", "id"}, false, false, true, Passthrough},
		{[]string{"-ll"}, false, false, true, Passthrough},
		{[]string{"id"}, false, false, true, Guard},
		{[]string{"-k", "id"}, false, false, true, Guard},
		{[]string{"id"}, false, false, false, Refuse},
		{[]string{"id"}, false, true, false, Guard},
		{[]string{"-n", "id"}, false, false, true, Refuse},
		{[]string{"-n", "id"}, false, true, true, Guard},
		{[]string{"-S", "id"}, false, false, true, Refuse},
		{[]string{"-A", "id"}, false, false, true, Refuse},
		{[]string{"-s"}, false, false, true, Refuse},
		{[]string{"-i"}, false, false, true, Refuse},
		{[]string{"-u", "root", "-i"}, false, false, true, Refuse},
		{[]string{"-su", "root"}, false, false, true, Refuse},
		{[]string{"-E", "env"}, false, false, true, Refuse},
		{[]string{"--preserve-env=PATH", "id"}, false, false, true, Refuse},
		{[]string{"-e", "/etc/hosts"}, false, false, true, Refuse},
		{[]string{"/etc/hosts"}, true, false, true, Refuse},
		{[]string{"-D", "/", "id"}, false, false, true, Refuse},
		{[]string{"-R", "/mnt", "id"}, false, false, true, Refuse},
		{[]string{"-C", "3", "id"}, false, false, true, Refuse},
		{[]string{"-T", "5", "id"}, false, false, true, Refuse},
		{[]string{"-b", "id"}, false, false, true, Refuse},
		{[]string{"-v"}, false, false, true, Refuse},
		{[]string{"-g", "adm", "id"}, false, false, true, Refuse},
		{[]string{"FOO=1", "id"}, false, false, true, Refuse},
		{[]string{"-l", "-U", "bob"}, false, false, true, Refuse},
		{[]string{}, false, false, true, Refuse},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			inv, err := Parse(tt.args, tt.edit)
			if err != nil {
				t.Fatal(err)
			}
			d := Classify(inv, tt.allowNonInt, tt.tty)
			if d.Action != tt.want {
				t.Errorf("Classify = %v (%s), want %v", d.Action, d.Reason, tt.want)
			}
			if d.Action == Refuse && d.Reason == "" {
				t.Error("refusal without a reason")
			}
		})
	}
}

func TestFromNamedAndForwarded(t *testing.T) {
	for _, tt := range []struct {
		named    []string
		command  string
		sudoArgs string
		edit     bool
	}{
		{[]string{"sudo", "-u", "postgres", "/usr/bin/psql"}, "/usr/bin/psql", "--user=postgres", false},
		{[]string{"sudo", "-nu", "postgres", "--", "psql", "-c", "x"}, "psql -c x", "--user=postgres", false},
		{[]string{"sudoedit", "/etc/hosts"}, "/etc/hosts", "", true},
		{[]string{"sudo", "-e", "/etc/hosts"}, "/etc/hosts", "", true},
		{[]string{"sudo", "FOO=1", "/usr/bin/env"}, "/usr/bin/env", "FOO=1", false},
	} {
		p, err := FromNamed(tt.named)
		if err != nil {
			t.Fatalf("FromNamed(%q): %v", tt.named, err)
		}
		if got := strings.Join(p.Command, " "); got != tt.command || strings.Join(p.SudoArgs, " ") != tt.sudoArgs || p.Edit != tt.edit {
			t.Errorf("FromNamed(%q) = %q %q %v", tt.named, got, p.SudoArgs, p.Edit)
		}
	}
	for _, bad := range [][]string{nil, {"doas", "id"}, {"sudo", "--bogus", "id"}} {
		if _, err := FromNamed(bad); err == nil {
			t.Errorf("FromNamed(%q) accepted", bad)
		}
	}
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{nil, true}, {[]string{"--bell"}, true}, {[]string{"--bell", "--no-update"}, true},
		{[]string{"-B"}, false}, {[]string{"--prompt=x"}, false}, {[]string{"/usr/bin/touch"}, false},
		{[]string{"--user=root"}, false}, {[]string{"--"}, false},
	} {
		if got := Forwarded(tt.args); got != tt.want {
			t.Errorf("Forwarded(%q) = %v", tt.args, got)
		}
	}
	// What the shim forwards is what Forwarded accepts.
	p, _ := Decide([]string{"-BN", "--no-up", "id"}, Options{Person: true})
	if !Forwarded(p.SudoArgs) || len(p.SudoArgs) != 3 {
		t.Errorf("forwarded %q", p.SudoArgs)
	}
}
