package sudo

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The fixtures under testdata/ are described in testdata/README.md: real
// output of sudo 1.9.13p3 for the *.sudoers configurations, and sudo-rs
// output written by hand from sudo-rs's source.

func TestParseListTestUser(t *testing.T) {
	defaults := []string{"env_reset", "mail_badpass",
		`secure_path=/usr/local/sbin\:/usr/local/bin\:/usr/sbin\:/usr/bin\:/sbin\:/bin`,
		"use_pty", "logfile=/var/log/clawwarden-test-sudo.log", "loglinelen=0"}
	entries := func(shell string) []Entry {
		return []Entry{
			{RunAsUsers: []string{"root"}, Options: []string{"!authenticate"},
				Commands: []string{"/usr/bin/true", "/usr/bin/id", "/usr/bin/env", "/usr/bin/sleep", shell, "/usr/bin/cat"}},
			{RunAsUsers: []string{"root"}, Options: []string{"authenticate"}, Commands: []string{"/usr/bin/whoami"}},
		}
	}
	tests := []struct {
		file string
		want List
	}{
		{"test-user-short.txt", List{User: "clawwarden-test", Defaults: defaults, Entries: entries("/usr/bin/sh")}},
		{"test-user-short-pipe.txt", List{User: "clawwarden-test", Defaults: defaults, Entries: entries("/usr/bin/sh")}},
		{"test-user-long.txt", List{User: "clawwarden-test", Defaults: defaults, Entries: entries("/usr/bin/sh")}},
		// sudo-rs lists no Defaults and canonicalises /usr/bin/sh.
		{"sudo-rs-test-user-short.txt", List{User: "clawwarden-test", Entries: entries("/usr/bin/dash")}},
		{"sudo-rs-test-user-long.txt", List{User: "clawwarden-test", Entries: entries("/usr/bin/dash")}},
		{"not-allowed.txt", List{User: "daemon"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseList(string(b))
			if err != nil {
				t.Fatalf("ParseList: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseList =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

// TestParseListFormats checks that every fixture parses and that the
// formats of one configuration agree: short and long (up to the options the
// long format does not show), wrapped and unwrapped.
func TestParseListFormats(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	parsed := map[string]List{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseList(string(b))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		parsed[filepath.Base(f)] = l
	}
	// strip drops the options the long format does not show.
	strip := func(entries []Entry, hidden ...string) []Entry {
		var out []Entry
		for _, e := range entries {
			e.Options = slices.DeleteFunc(slices.Clone(e.Options), func(o string) bool {
				return slices.Contains(hidden, strings.TrimLeft(o, "!"))
			})
			if len(e.Options) == 0 {
				e.Options = nil
			}
			out = append(out, e)
		}
		return out
	}
	pairs := []struct {
		a, b   string
		hidden []string // options the second one does not show
	}{
		{"test-user-short.txt", "test-user-long.txt", nil},
		{"test-user-short.txt", "test-user-short-pipe.txt", nil},
		{"test-user-sudoedit-short.txt", "test-user-sudoedit-long.txt", nil},
		{"shapes-short.txt", "shapes-long.txt", []string{"mail_all_cmnds"}},
		{"shapes-short-pipe.txt", "shapes-long-pipe.txt", []string{"mail_all_cmnds"}},
		{"shapes-short.txt", "shapes-short-pipe.txt", nil},
		{"shapes-long.txt", "shapes-long-pipe.txt", nil},
		{"noauth-short.txt", "noauth-long.txt", nil},
		{"scoped-short.txt", "scoped-long.txt", nil},
		{"esc-short.txt", "esc-long.txt", nil},
		{"sudo-rs-test-user-short.txt", "sudo-rs-test-user-long.txt", nil},
		{"sudo-rs-shapes-short.txt", "sudo-rs-shapes-long.txt", []string{"noexec"}},
	}
	for _, p := range pairs {
		a, okA := parsed[p.a]
		b, okB := parsed[p.b]
		if !okA || !okB {
			t.Errorf("%s, %s: missing", p.a, p.b)
			continue
		}
		if a.User != b.User || !slices.Equal(a.Defaults, b.Defaults) || !slices.Equal(a.ScopedDefaults, b.ScopedDefaults) {
			t.Errorf("%s and %s differ in header:\n%q %q %q\n%q %q %q", p.a, p.b, a.User, a.Defaults, a.ScopedDefaults, b.User, b.Defaults, b.ScopedDefaults)
		}
		if ea, eb := strip(a.Entries, p.hidden...), strip(b.Entries, p.hidden...); !reflect.DeepEqual(ea, eb) {
			t.Errorf("%s and %s differ:\n%#v\n%#v", p.a, p.b, ea, eb)
		}
	}
}

func TestParseListShapes(t *testing.T) {
	for _, file := range []string{"shapes-short.txt", "shapes-long.txt"} {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			l, err := ParseList(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"env_reset", "mail_badpass",
				`secure_path=/usr/local/sbin\:/usr/local/bin\:/usr/sbin\:/usr/bin\:/sbin\:/bin`,
				"use_pty", `env_keep+="LISTTEST_A LISTTEST_B"`, `passprompt="pass, word: "`}; !slices.Equal(l.Defaults, want) {
				t.Errorf("Defaults = %q, want %q", l.Defaults, want)
			}
			if want := []string{"Defaults>daemon !authenticate",
				"Defaults!/opt/zz-listtest/bin/quiet !authenticate",
				"Defaults!/opt/zz-listtest/bin/svc restart nginx, /opt/zz-listtest/bin/svc reload nginx !authenticate",
			}; !slices.Equal(l.ScopedDefaults, want) {
				t.Errorf("ScopedDefaults = %q, want %q", l.ScopedDefaults, want)
			}
			if l.NoPassword() {
				t.Error("NoPassword() = true")
			}
			want := []Entry{
				{RunAsUsers: []string{"root"}, Options: []string{"!authenticate"}, Commands: []string{
					"/opt/zz-listtest/bin/true", "/opt/zz-listtest/bin/args a b c", `/opt/zz-listtest/bin/noargs ""`,
					"/opt/zz-listtest/bin/glob restart *", "/opt/zz-listtest/dir/", "/opt/zz-listtest/bin/w?ld*",
					"/opt/zz-listtest/bin/svc restart nginx", "/opt/zz-listtest/bin/svc reload nginx",
					"sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 /opt/zz-listtest/bin/digest",
					"!/opt/zz-listtest/bin/denied", "sudoedit /opt/zz-listtest/etc/file", "^/opt/zz-listtest/bin/re[0-9]+$"}},
				{RunAsUsers: []string{"nobody"}, Options: []string{"!authenticate"}, Commands: []string{"ALL"}},
				{RunAsUsers: []string{"nobody"}, Options: []string{"authenticate"}, Commands: []string{"/opt/zz-listtest/bin/x"}},
				{RunAsUsers: []string{"ALL"}, RunAsGroups: []string{"ALL"}, Commands: []string{"/opt/zz-listtest/bin/any"}},
				{RunAsUsers: []string{"nobody", "daemon"}, Commands: []string{"/opt/zz-listtest/bin/runasalias"}},
				{RunAsUsers: []string{"nobody"}, RunAsGroups: []string{"nogroup"}, Commands: []string{"/opt/zz-listtest/bin/grouponly"}},
				{RunAsUsers: []string{"root"}, Options: []string{"authenticate"}, Commands: []string{"/opt/zz-listtest/bin/true"}},
				{RunAsUsers: []string{"root"}, Options: []string{"!authenticate"}, Commands: []string{"/opt/zz-listtest/bin/group"}},
				{RunAsUsers: []string{"root"}, Options: []string{"setenv", "noexec"}, Commands: []string{"/opt/zz-listtest/bin/tags"}},
				{RunAsUsers: []string{"root"}, Options: []string{"setenv", "noexec", "runcwd=/tmp"}, Commands: []string{"/opt/zz-listtest/bin/cwd"}},
				{RunAsUsers: []string{"root"}, Options: []string{"setenv", "noexec", "!authenticate", "log_output", "runcwd=/tmp"}, Commands: []string{
					"/opt/zz-listtest/bin/a-rather-long-command-name-to-force-wrapping with several long arguments that go on"}},
				{RunAsUsers: []string{"root"}, Commands: []string{
					"/opt/zz-listtest/bin/quiet", `/opt/zz-listtest/bin/esc\,comma`, "/opt/zz-listtest/bin/esc arg with space"}},
			}
			got := l.Entries
			if file == "shapes-short.txt" { // MAIL: is only in the short format
				for k := range got {
					got[k].Options = slices.DeleteFunc(got[k].Options, func(o string) bool { return o == "mail_all_cmnds" })
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d entries, want %d:\n%#v", len(got), len(want), got)
			}
			for k := range want {
				if g := got[k]; !slices.Equal(g.RunAsUsers, want[k].RunAsUsers) || !slices.Equal(g.RunAsGroups, want[k].RunAsGroups) ||
					!slices.Equal(g.Options, want[k].Options) || !slices.Equal(g.Commands, want[k].Commands) {
					t.Errorf("entry %d =\n%#v\nwant\n%#v", k, g, want[k])
				}
			}
		})
	}
}

func TestParseListOther(t *testing.T) {
	for _, file := range []string{"noauth-short.txt", "noauth-long.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseList(string(b))
		if err != nil {
			t.Fatal(err)
		}
		if !l.NoPassword() {
			t.Errorf("%s: NoPassword() = false with Defaults %q", file, l.Defaults)
		}
		if want := []string{"Defaults>root, daemon authenticate",
			"Defaults!/opt/zz-listtest/bin/a, /opt/zz-listtest/bin/b authenticate, noexec"}; !slices.Equal(l.ScopedDefaults, want) {
			t.Errorf("%s: ScopedDefaults = %q, want %q", file, l.ScopedDefaults, want)
		}
		if got, want := l.Entries[0].Commands, []string{"ALL", "!/opt/zz-listtest/bin/*", `/opt/zz-listtest/bin/echo a\,b`,
			"/opt/zz-listtest/bin/re ^(start|stop)$",
			"sha224:12345678901234567890123456789012345678901234567890123456, sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 /opt/zz-listtest/bin/two",
		}; !slices.Equal(got, want) {
			t.Errorf("%s: commands = %q, want %q", file, got, want)
		}
		if got, want := l.Entries[4].Options, []string{"command_timeout=300", "notbefore=20200101000000Z", "notafter=20300101000000Z"}; !slices.Equal(got, want) {
			t.Errorf("%s: options = %q, want %q", file, got, want)
		}
	}

	// LDAP entries, other long-format options, CRLF line ends.
	ldap := "User agent may run the following commands on vm:\r\n\r\n" +
		"LDAP Role: agent-rule\r\n    RunAsUsers: root\r\n    Options: !authenticate, setenv\r\n    Order: 10\r\n    Commands:\r\n\t/usr/bin/id\r\n"
	l, err := ParseList(ldap)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Entry{{RunAsUsers: []string{"root"}, Options: []string{"!authenticate", "setenv", "order=10"}, Commands: []string{"/usr/bin/id"}}}; !reflect.DeepEqual(l.Entries, want) {
		t.Errorf("LDAP entries = %#v, want %#v", l.Entries, want)
	}

	// The other refusal, as printed on standard error after a password.
	l, err = ParseList("Sorry, user agent may not run sudo on vm.\n")
	if err != nil || l.User != "agent" || len(l.Entries) != 0 {
		t.Errorf("refusal: %#v, %v", l, err)
	}
}

func TestParseListErrors(t *testing.T) {
	const user = "User agent may run the following commands on vm:\n"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"blank", "\n\n", "empty"},
		{"garbage", "hello\n", "line 1"},
		{"stderr", "sudo: a password is required\n", "line 1"},
		{"defaults only", "Matching Defaults entries for agent on vm:\n    env_reset\n", "no \"User"},
		{"defaults unindented", "Matching Defaults entries for agent on vm:\nenv_reset\n", "line 2"},
		{"scoped", "Runas and Command-specific defaults for agent:\n    Nonsense\n", "line 2"},
		{"scoped empty", "Runas and Command-specific defaults for agent:", "line 1"},
		{"defaults empty", "Matching Defaults entries for agent on vm:\n\nUser agent may run the following commands on vm:\n", "line 1"},
		{"short no runas", user + "    /usr/bin/true\n", "line 2"},
		{"short unknown tag", user + "    (root) FROBNICATE: /usr/bin/true\n", "line 2: unknown tag"},
		{"short no command", user + "    (root) NOPASSWD: \n", "line 2"},
		{"short continuation first", user + "        /usr/bin/true\n", "line 2"},
		{"short after refusal", "User agent is not allowed to run sudo on vm.\nmore\n", "line 2"},
		{"long header after commands", user + "\nSudoers entry:\n    Commands:\n\t/x\n    RunAsUsers: root\n", "line 6"},
		{"long command first", user + "\nSudoers entry:\n    RunAsUsers: root\n\t/usr/bin/true\n", "line 5"},
		{"long unknown header", user + "\nSudoers entry:\n    Frobnicate: 1\n    Commands:\n\t/x\n", "line 4"},
		{"long duplicate header", user + "\nSudoers entry:\n    RunAsUsers: root\n    RunAsUsers: root\n", "line 5"},
		{"long truncated", user + "\nSudoers entry:\n    RunAsUsers: root\n", "ends inside"},
		{"long empty entry", user + "\nSudoers entry:\n    RunAsUsers: root\n\nSudoers entry:\n", "line 6"},
		{"long stray", user + "\nSudoers entry:\n    Commands:\n\t/x\nstray\n", "line 6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseList(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseList(%q) = %#v, %v; want an error with %q", tt.in, l, err, tt.want)
			}
		})
	}
}

// TestLookupTruth asks Lookup what sudo 1.9.13p3 itself answered for the
// recorded configurations (testdata/README.md), in both list formats. Where
// Lookup must answer Unknown, the comment says why and what sudo answered;
// Allowed and NoPassword are then the worst case.
func TestLookupTruth(t *testing.T) {
	type lookupWant struct{ Allowed, NoPassword, Unknown bool } // what Lookup answers
	const bin = "/opt/zz-listtest/bin/"
	var (
		allowedNopass   = lookupWant{true, true, false}
		allowedPassword = lookupWant{true, false, false}
		notAllowed      = lookupWant{false, false, false}
		unknown         = lookupWant{true, true, true} // worst case
	)
	tests := []struct {
		fixture string
		runAs   string
		argv    []string
		want    lookupWant
	}{
		{"test-user", "root", []string{"/usr/bin/true"}, allowedNopass},
		{"test-user", "", []string{"/usr/bin/sh", "-c", "id"}, allowedNopass},
		{"test-user", "root", []string{"/usr/bin/whoami"}, allowedPassword},
		{"test-user", "root", []string{"/usr/bin/ls"}, notAllowed},
		{"test-user", "nobody", []string{"/usr/bin/true"}, notAllowed},
		{"test-user", "clawwarden-test", []string{"/usr/bin/true"}, notAllowed},
		// sudo allows /bin/true without a password on merged-/usr
		// systems: it compares /bin and /usr/bin after resolving links.
		{"test-user", "root", []string{"/bin/true"}, unknown},
		{"test-user-sudoedit", "root", []string{"/usr/bin/sleep", "1"}, allowedPassword},
		{"test-user-sudoedit", "root", []string{"/usr/bin/sh"}, allowedNopass},
		{"test-user-sudoedit", "root", []string{"/usr/bin/sudoedit", "/etc/clawwarden-test-edit"}, notAllowed},
		{"test-user-sudoedit", "root", []string{"/etc/clawwarden-test-edit"}, notAllowed},

		{"shapes", "root", []string{bin + "true"}, allowedPassword}, // the later PASSWD entry wins
		{"shapes", "root", []string{bin + "args", "a", "b", "c"}, allowedNopass},
		{"shapes", "root", []string{bin + "args", "a b c"}, allowedNopass}, // sudo joins the arguments
		{"shapes", "root", []string{bin + "noargs"}, allowedNopass},
		{"shapes", "root", []string{bin + "glob", "restart", "nginx"}, allowedNopass},
		{"shapes", "root", []string{bin + "glob", "restart", "a", "b"}, allowedNopass},
		{"shapes", "root", []string{"/opt/zz-listtest/dir/tool"}, allowedNopass},
		{"shapes", "root", []string{"/opt/zz-listtest/dir/tool", "--any"}, allowedNopass},
		{"shapes", "root", []string{"/opt/zz-listtest/dir/sub/tool"}, notAllowed},
		{"shapes", "root", []string{bin + "wild"}, allowedNopass},
		{"shapes", "root", []string{bin + "wold-x"}, allowedNopass},
		{"shapes", "root", []string{bin + "svc", "restart", "nginx"}, allowedNopass},
		{"shapes", "root", []string{bin + "denied"}, notAllowed},
		{"shapes", "root", []string{bin + "any"}, allowedPassword},
		{"shapes", "daemon", []string{bin + "any"}, allowedNopass}, // Defaults>daemon !authenticate
		{"shapes", "daemon", []string{bin + "runasalias"}, allowedNopass},
		{"shapes", "nobody", []string{bin + "grouponly"}, allowedNopass}, // as oneself: no password
		{"shapes", "root", []string{bin + "group"}, allowedNopass},
		{"shapes", "root", []string{bin + "tags"}, allowedPassword},
		{"shapes", "root", []string{bin + "cwd"}, allowedPassword},
		{"shapes", "root", []string{bin + "a-rather-long-command-name-to-force-wrapping", "with", "several", "long", "arguments", "that", "go", "on"}, allowedNopass},
		{"shapes", "root", []string{bin + "quiet"}, allowedNopass}, // Defaults!…/quiet !authenticate
		{"shapes", "root", []string{bin + "esc,comma"}, allowedPassword},
		{"shapes", "root", []string{bin + "esc", "arg with space"}, allowedPassword},
		{"shapes", "root", []string{bin + "esc", "arg", "with", "space"}, allowedPassword},
		{"shapes", "nobody", []string{bin + "x"}, allowedNopass},
		{"shapes", "nobody", []string{"/usr/bin/true"}, allowedNopass},
		{"shapes", "daemon", []string{bin + "true"}, notAllowed},
		// sudo: not allowed. The directory rule /opt/zz-listtest/dir/
		// (NOPASSWD) might name the command's directory through a
		// symbolic link, so every "not allowed" elsewhere is unknown.
		{"shapes", "root", []string{bin + "args", "a", "b"}, unknown},
		{"shapes", "root", []string{bin + "args", "a", "b", "c", "d"}, unknown},
		{"shapes", "root", []string{bin + "noargs", "x"}, unknown},
		{"shapes", "root", []string{bin + "glob", "restart"}, unknown},
		{"shapes", "root", []string{bin + "glob", "stop", "nginx"}, unknown},
		{"shapes", "root", []string{bin + "wld"}, unknown},
		{"shapes", "root", []string{bin + "svc", "stop", "nginx"}, unknown},
		{"shapes", "root", []string{bin + "runasalias"}, unknown},
		{"shapes", "root", []string{bin + "grouponly"}, unknown},
		{"shapes", "root", []string{bin + "x"}, unknown},
		{"shapes", "root", []string{"/opt/zz-listtest/etc/file"}, unknown},
		{"shapes", "root", []string{"/usr/bin/ls"}, unknown},
		// sudo: allowed (the digest matched the file), not checked.
		{"shapes", "root", []string{bin + "digest"}, unknown},
		// sudo: re5 allowed without a password, rex not allowed;
		// regular expressions are not evaluated.
		{"shapes", "root", []string{bin + "re5"}, unknown},
		{"shapes", "root", []string{bin + "rex"}, unknown},

		{"esc", "root", []string{bin + "a", "x1"}, allowedNopass}, // [[\:alpha\:]]*
		{"esc", "root", []string{bin + "a", "1x"}, notAllowed},
		{"esc", "root", []string{bin + "b", "x=y"}, allowedNopass},
		{"esc", "root", []string{bin + "c", "ab"}, allowedNopass}, // a\\b in sudoers, a\b listed
		{"esc", "root", []string{bin + "c", `a\b`}, notAllowed},
		{"esc", "root", []string{bin + "d", "*"}, allowedNopass},
		{"esc", "root", []string{bin + "d", "z"}, notAllowed},
		{"esc", "root", []string{bin + "x", `"a`, `b"`}, allowedNopass}, // quotes are literal
		{"esc", "root", []string{bin + "x", "a b"}, notAllowed},

		{"scoped", "root", []string{bin + "a"}, allowedPassword},   // Defaults!…/a authenticate
		{"scoped", "root", []string{bin + "b"}, allowedNopass},     // the NOPASSWD tag beats it
		{"scoped", "root", []string{bin + "c"}, allowedNopass},     // Defaults:nobody !authenticate
		{"scoped", "root", []string{bin + "d"}, allowedPassword},   // the PASSWD tag
		{"scoped", "daemon", []string{bin + "c"}, allowedPassword}, // Defaults>daemon authenticate
		{"scoped", "daemon", []string{bin + "a"}, notAllowed},

		{"noauth", "nobody", []string{bin + "x"}, notAllowed}, // ALL, !/opt/zz-listtest/bin/*
		{"noauth", "nobody", []string{bin + "tagged"}, notAllowed},
		{"noauth", "nobody", []string{bin + "echo", "a,b"}, allowedNopass},
		{"noauth", "root", []string{"/usr/bin/true"}, notAllowed},
		// sudo: allowed without a password. !/opt/zz-listtest/bin/*
		// might name /usr/bin through a symbolic link.
		{"noauth", "nobody", []string{"/usr/bin/true"}, unknown},
		// sudo: allowed (regular expression), not allowed (digest).
		{"noauth", "nobody", []string{bin + "re", "start"}, lookupWant{true, true, true}},
		{"noauth", "nobody", []string{bin + "two"}, lookupWant{true, true, true}},
		// sudo: no password, as exempt_group=nogroup holds nobody,
		// even for a PASSWD tag; Lookup cannot see group membership.
		{"noauth", "root", []string{bin + "tagged"}, unknown},
		{"noauth", "root", []string{bin + "a"}, unknown},
		{"noauth", "root", []string{bin + "untagged"}, unknown},
		// sudo: no password; the entries are limited in time.
		{"noauth", "root", []string{bin + "timed"}, unknown},
		{"noauth", "root", []string{bin + "timeout"}, unknown},
	}
	lists := map[string]List{}
	for _, tt := range tests {
		for _, format := range []string{"short", "long"} {
			file := tt.fixture + "-" + format + ".txt"
			name := fmt.Sprintf("%s/%s/%s", file, tt.runAs, strings.Join(tt.argv, " "))
			t.Run(name, func(t *testing.T) {
				l, ok := lists[file]
				if !ok {
					b, err := os.ReadFile(filepath.Join("testdata", file))
					if err != nil {
						t.Fatal(err)
					}
					if l, err = ParseList(string(b)); err != nil {
						t.Fatal(err)
					}
					lists[file] = l
				}
				m := l.Lookup(tt.argv, tt.runAs)
				if got := (lookupWant{m.Allowed, m.NoPassword, m.Unknown}); got != tt.want {
					t.Errorf("Lookup(%q, %q) = %+v (%q %q %s), want %+v", tt.argv, tt.runAs, got, m.Command, m.Reason, m.Entry.Options, tt.want)
				}
				if m.Unknown != (m.Reason != "") {
					t.Errorf("Unknown = %v with Reason %q", m.Unknown, m.Reason)
				}
			})
		}
	}
}

// TestLookupSudoRS evaluates the sudo-rs fixtures: without Defaults in the
// listing, untagged entries are unknown.
func TestLookupSudoRS(t *testing.T) {
	type lookupWant struct{ Allowed, NoPassword, Unknown bool } // what Lookup answers
	tests := []struct {
		fixture string
		runAs   string
		argv    []string
		want    lookupWant
	}{
		{"sudo-rs-test-user", "root", []string{"/usr/bin/true"}, lookupWant{true, true, false}},
		{"sudo-rs-test-user", "root", []string{"/usr/bin/whoami"}, lookupWant{true, false, false}},
		{"sudo-rs-test-user", "root", []string{"/usr/bin/dash"}, lookupWant{true, true, false}},
		// sudo-rs would resolve /usr/bin/sh to /usr/bin/dash first:
		// callers pass argv[0] through filepath.EvalSymlinks.
		{"sudo-rs-test-user", "root", []string{"/usr/bin/sh"}, lookupWant{false, false, false}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/systemctl", "restart", "nginx"}, lookupWant{true, false, false}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/systemctl", "restart", "apache2"}, lookupWant{true, true, false}},
		// sudo: no ("restart *" needs a space), sudo-rs: yes ("*" is
		// zero or more arguments); the listing does not say which.
		{"sudo-rs-shapes", "root", []string{"/usr/bin/systemctl", "restart"}, lookupWant{true, true, true}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/systemctl", "stop", "nginx"}, lookupWant{false, false, false}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/true"}, lookupWant{true, true, false}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/true", "x"}, lookupWant{false, false, false}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/apt-get", "update"}, lookupWant{true, true, false}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/apt-get", "upgrade"}, lookupWant{false, false, false}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/su"}, lookupWant{false, false, false}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/env"}, lookupWant{true, true, true}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/whoami"}, lookupWant{true, true, true}},
		{"sudo-rs-shapes", "ferris", []string{"/usr/bin/whoami"}, lookupWant{false, false, false}},
		{"sudo-rs-shapes", "ferris", []string{"/usr/bin/ls"}, lookupWant{true, true, true}},
		{"sudo-rs-shapes", "root", []string{"/usr/bin/ls"}, lookupWant{false, false, false}},
		{"sudo-rs-shapes", "", []string{"/usr/bin/dash"}, lookupWant{true, true, false}},
	}
	for _, tt := range tests {
		for _, format := range []string{"short", "long"} {
			file := tt.fixture + "-" + format + ".txt"
			t.Run(fmt.Sprintf("%s/%s/%s", file, tt.runAs, strings.Join(tt.argv, " ")), func(t *testing.T) {
				b, err := os.ReadFile(filepath.Join("testdata", file))
				if err != nil {
					t.Fatal(err)
				}
				l, err := ParseList(string(b))
				if err != nil {
					t.Fatal(err)
				}
				m := l.Lookup(tt.argv, tt.runAs)
				if got := (lookupWant{m.Allowed, m.NoPassword, m.Unknown}); got != tt.want {
					t.Errorf("Lookup(%q, %q) = %+v (%q %q), want %+v", tt.argv, tt.runAs, got, m.Command, m.Reason, tt.want)
				}
			})
		}
	}
}

// TestLookupRules checks sudoers(5) command and runas semantics on small
// listings in the original sudo's short format (a Defaults section marks
// it) or, with rs set, without Defaults as sudo-rs prints.
func TestLookupRules(t *testing.T) {
	type lookupWant struct{ Allowed, NoPassword, Unknown bool } // what Lookup answers
	list := func(user, defaults string, lines ...string) string {
		s := ""
		if defaults != "" {
			s = "Matching Defaults entries for " + user + " on vm:\n    " + defaults + "\n\n"
		}
		return s + "User " + user + " may run the following commands on vm:\n    " + strings.Join(lines, "\n    ") + "\n"
	}
	tests := []struct {
		name  string
		text  string
		runAs string
		argv  []string
		want  lookupWant
		cmd   string // the deciding command spec, when set
	}{
		{"ALL then PASSWD: the later entry", list("agent", "env_reset", "(root) NOPASSWD: ALL", "(root) PASSWD: /usr/bin/passwd"),
			"root", []string{"/usr/bin/passwd"}, lookupWant{true, false, false}, "/usr/bin/passwd"},
		{"ALL then PASSWD: others", list("agent", "env_reset", "(root) NOPASSWD: ALL", "(root) PASSWD: /usr/bin/passwd"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, false}, "ALL"},
		{"PASSWD then ALL: ALL wins", list("agent", "env_reset", "(root) PASSWD: /usr/bin/passwd", "(root) NOPASSWD: ALL"),
			"root", []string{"/usr/bin/passwd"}, lookupWant{true, true, false}, "ALL"},
		{"tags within a line", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/kill, PASSWD: /usr/bin/ls, /usr/bin/lprm"),
			"root", []string{"/usr/bin/lprm"}, lookupWant{true, false, false}, "/usr/bin/lprm"},
		{"negated", list("agent", "env_reset", "(root) NOPASSWD: ALL, !/usr/bin/su, !/usr/bin/passwd root"),
			"root", []string{"/usr/bin/su", "-"}, lookupWant{false, false, false}, "!/usr/bin/su"},
		{"negated with arguments", list("agent", "env_reset", "(root) NOPASSWD: ALL, !/usr/bin/su, !/usr/bin/passwd root"),
			"root", []string{"/usr/bin/passwd", "root"}, lookupWant{false, false, false}, ""},
		{"negated, other arguments", list("agent", "env_reset", "(root) NOPASSWD: ALL, !/usr/bin/su, !/usr/bin/passwd root"),
			"root", []string{"/usr/bin/passwd", "alice"}, lookupWant{true, true, false}, "ALL"},
		{"negated in another directory", list("agent", "env_reset", "(root) NOPASSWD: ALL, !/usr/bin/su"),
			"root", []string{"/bin/su"}, lookupWant{true, true, true}, "!/usr/bin/su"},
		{"negated ALL", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/id, !ALL"),
			"root", []string{"/usr/bin/id"}, lookupWant{false, false, false}, "!ALL"},
		{"empty arguments", list("agent", "env_reset", `(root) NOPASSWD: /usr/bin/id ""`),
			"root", []string{"/usr/bin/id", "-u"}, lookupWant{false, false, false}, ""},
		{"wildcard arguments", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/passwd [A-Za-z]*, !/usr/bin/passwd *root*"),
			"root", []string{"/usr/bin/passwd", "alice"}, lookupWant{true, true, false}, "/usr/bin/passwd [A-Za-z]*"},
		{"wildcard arguments span words", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/passwd [A-Za-z]*, !/usr/bin/passwd *root*"),
			"root", []string{"/usr/bin/passwd", "--expire", "root"}, lookupWant{false, false, false}, ""},
		{"wildcard arguments match slashes", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/cat /var/log/*"),
			"root", []string{"/usr/bin/cat", "/var/log/../../etc/shadow"}, lookupWant{true, true, false}, ""},
		{"wildcard arguments, class", list("agent", "env_reset", `(root) NOPASSWD: /usr/bin/ls [[\:alpha\:]]*`),
			"root", []string{"/usr/bin/ls", "x1"}, lookupWant{true, true, false}, ""},
		{"wildcard arguments, no match", list("agent", "env_reset", `(root) NOPASSWD: /usr/bin/ls [[\:alpha\:]]*`),
			"root", []string{"/usr/bin/ls", "1x"}, lookupWant{false, false, false}, ""},
		{"trailing * needs a word (sudo)", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/systemctl restart *"),
			"root", []string{"/usr/bin/systemctl", "restart"}, lookupWant{false, false, false}, ""},
		{"trailing * (sudo or sudo-rs)", list("agent", "", "(root) NOPASSWD: /usr/bin/systemctl restart *"),
			"root", []string{"/usr/bin/systemctl", "restart"}, lookupWant{true, true, true}, ""},
		{"joined arguments (sudo)", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/kill -HUP 1"),
			"root", []string{"/usr/bin/kill", "-HUP 1"}, lookupWant{true, true, false}, ""},
		{"joined arguments (sudo or sudo-rs)", list("agent", "", "(root) NOPASSWD: /usr/bin/kill -HUP 1"),
			"root", []string{"/usr/bin/kill", "-HUP 1"}, lookupWant{true, true, true}, ""},
		{"path wildcard", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/*"),
			"root", []string{"/usr/bin/who"}, lookupWant{true, true, false}, ""},
		{"path wildcard, not in subdirectories", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/*"),
			"root", []string{"/usr/bin/X11/xterm"}, lookupWant{false, false, false}, ""},
		{"path wildcard in the directory", list("agent", "env_reset", "(root) NOPASSWD: /usr/*/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, false}, ""},
		{"escaped wildcard", list("agent", "env_reset", `(root) NOPASSWD: /usr/bin/a\*`),
			"root", []string{"/usr/bin/ab"}, lookupWant{false, false, false}, ""},
		{"directory", list("agent", "env_reset", "(root) NOPASSWD: /usr/sbin/"),
			"root", []string{"/usr/sbin/reboot", "-f"}, lookupWant{true, true, false}, ""},
		{"directory, not subdirectories", list("agent", "env_reset", "(root) NOPASSWD: /usr/sbin/"),
			"root", []string{"/usr/sbin/x/reboot"}, lookupWant{false, false, false}, ""},
		{"digest", list("agent", "env_reset", "(root) NOPASSWD: sha256:abcd /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, true}, ""},
		{"digest of another command", list("agent", "env_reset", "(root) NOPASSWD: sha256:abcd /usr/bin/id"),
			"root", []string{"/usr/bin/ls"}, lookupWant{false, false, false}, ""},
		{"regex path, other prefix", list("agent", "env_reset", "(root) NOPASSWD: ^/usr/sbin/user(add|del)$"),
			"root", []string{"/usr/bin/id"}, lookupWant{false, false, false}, ""},
		{"regex path", list("agent", "env_reset", "(root) NOPASSWD: ^/usr/sbin/user(add|del)$"),
			"root", []string{"/usr/sbin/useradd"}, lookupWant{true, true, true}, ""},
		{"regex path with an alternative", list("agent", "env_reset", "(root) NOPASSWD: ^/usr/sbin/useradd|/bin/x$"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, true}, ""},
		{"regex arguments", list("agent", "env_reset", "(root) NOPASSWD: /usr/bin/passwd ^[a-z]+$"),
			"root", []string{"/usr/bin/passwd", "alice"}, lookupWant{true, true, true}, ""},
		{"sudoedit", list("agent", "env_reset", "(root) NOPASSWD: sudoedit /etc/motd"),
			"root", []string{"/usr/bin/sudoedit", "/etc/motd"}, lookupWant{false, false, false}, ""},
		{"list", list("agent", "env_reset", "(root) NOPASSWD: list"),
			"root", []string{"/usr/bin/list"}, lookupWant{false, false, false}, ""},
		{"unexpanded alias", list("agent", "env_reset", "(root) NOPASSWD: SHUTDOWN"),
			"root", []string{"/usr/sbin/shutdown"}, lookupWant{true, true, true}, "SHUTDOWN"},
		{"sudo-rs unknown alias", list("agent", "", "(root) NOPASSWD: ???"),
			"root", []string{"/usr/sbin/shutdown"}, lookupWant{true, true, true}, "???"},
		{"runas ALL except root", list("agent", "env_reset", "(ALL, !root) NOPASSWD: /bin/bash"),
			"root", []string{"/bin/bash"}, lookupWant{false, false, false}, ""},
		{"runas ALL except root, other", list("agent", "env_reset", "(ALL, !root) NOPASSWD: /bin/bash"),
			"alice", []string{"/bin/bash"}, lookupWant{true, true, false}, ""},
		{"runas name, other case (sudo)", list("agent", "env_reset", "(Root) NOPASSWD: /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, false}, ""},
		{"runas name, other case, case_insensitive_user off", list("agent", "!case_insensitive_user", "(Root) NOPASSWD: /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{false, false, false}, ""},
		{"runas name, other case (sudo or sudo-rs)", list("agent", "", "(Root) NOPASSWD: /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, true}, ""},
		{"runas uid 0", list("agent", "env_reset", "(#0) NOPASSWD: /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, false}, ""},
		{"runas uid", list("agent", "env_reset", "(#1000) NOPASSWD: /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{false, false, false}, ""},
		{"runas group", list("agent", "env_reset", "(%wheel) NOPASSWD: /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, true}, ""},
		{"runas group only: as oneself", list("agent", "env_reset", "(agent : adm) /usr/bin/id"),
			"agent", []string{"/usr/bin/id"}, lookupWant{true, true, false}, ""},
		{"runas group only: not root", list("agent", "env_reset", "(agent : adm) /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{false, false, false}, ""},
		{"listed account root", list("root", "env_reset", "(ALL : ALL) ALL"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, false}, ""},
		{"Defaults !authenticate", list("agent", "env_reset, !authenticate", "(root) /usr/bin/id, PASSWD: /usr/bin/whoami"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, false}, ""},
		{"Defaults !authenticate, PASSWD tag", list("agent", "env_reset, !authenticate", "(root) /usr/bin/id, PASSWD: /usr/bin/whoami"),
			"root", []string{"/usr/bin/whoami"}, lookupWant{true, false, false}, ""},
		{"Defaults authenticate again", list("agent", "!authenticate, authenticate", "(root) /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, false, false}, ""},
		{"exempt_group", list("agent", "env_reset, exempt_group=sudo", "(root) PASSWD: /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, true}, ""},
		{"no Defaults listed, untagged", list("agent", "", "(root) /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, true, true}, ""},
		{"no Defaults listed, tagged", list("agent", "", "(root) PASSWD: /usr/bin/id"),
			"root", []string{"/usr/bin/id"}, lookupWant{true, false, false}, ""},
		{"runas_default", "Matching Defaults entries for agent on vm:\n    runas_default=admin\n\n" +
			"User agent may run the following commands on vm:\n\nSudoers entry:\n    Options: !authenticate\n    Commands:\n\t/usr/bin/id\n",
			"", []string{"/usr/bin/id"}, lookupWant{true, true, false}, ""},
		{"runas_default, root", "Matching Defaults entries for agent on vm:\n    runas_default=admin\n\n" +
			"User agent may run the following commands on vm:\n\nSudoers entry:\n    Options: !authenticate\n    Commands:\n\t/usr/bin/id\n",
			"root", []string{"/usr/bin/id"}, lookupWant{false, false, false}, ""},
		{"relative argv[0]", list("agent", "env_reset", "(root) NOPASSWD: ALL"),
			"root", []string{"id"}, lookupWant{false, false, true}, ""},
		{"no argv", list("agent", "env_reset", "(root) NOPASSWD: ALL"),
			"root", nil, lookupWant{false, false, true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseList(tt.text)
			if err != nil {
				t.Fatalf("ParseList: %v\n%s", err, tt.text)
			}
			m := l.Lookup(tt.argv, tt.runAs)
			if got := (lookupWant{m.Allowed, m.NoPassword, m.Unknown}); got != tt.want {
				t.Errorf("Lookup(%q, %q) = %+v (%q %q), want %+v", tt.argv, tt.runAs, got, m.Command, m.Reason, tt.want)
			}
			if tt.cmd != "" && m.Command != tt.cmd {
				t.Errorf("Lookup(%q, %q).Command = %q, want %q", tt.argv, tt.runAs, m.Command, tt.cmd)
			}
		})
	}
}

func TestListNoPassword(t *testing.T) {
	tests := []struct {
		defaults []string
		want     bool
	}{
		{nil, false},
		{[]string{"env_reset"}, false},
		{[]string{"!authenticate"}, true},
		{[]string{"!authenticate", "authenticate"}, false},
		{[]string{"authenticate", "!authenticate"}, true},
		{[]string{"!!authenticate"}, false},
		{[]string{"!authenticated"}, false},
	}
	for _, tt := range tests {
		if got := (List{Defaults: tt.defaults}).NoPassword(); got != tt.want {
			t.Errorf("List{Defaults: %q}.NoPassword() = %v, want %v", tt.defaults, got, tt.want)
		}
	}
}

func TestMatchFnmatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		pathname      bool
		want, ok      bool
	}{
		{"*", "", false, true, true},
		{"a*", "a b/c", false, true, true},
		{"a*", "a/b", true, false, true},
		{"a?c", "a/c", false, true, true},
		{"a?c", "a/c", true, false, true},
		{"[a-c]x", "bx", false, true, true},
		{"[!a-c]x", "bx", false, false, true},
		{"[^a-c]x", "dx", false, true, true},
		{"[]]", "]", false, true, true},
		{"[!]]", "a", false, true, true},
		{"[[:digit:]]*", "1ab", false, true, true},
		{"[[:digit:]]*", "a1", false, false, true},
		{"[[:nope:]]", "a", false, false, false},
		{"[[=a=]]", "a", false, false, false},
		{`\*`, "*", false, true, true},
		{`\*`, "a", false, false, true},
		{"[ab", "[ab", false, true, true},
		{"a\\", "a\\", false, true, true},
		{"*a*b*c*", strings.Repeat("a", 200), false, false, true},
		{"é?", "éè", false, true, true},
	}
	for _, tt := range tests {
		got, ok := Match{}.fnmatch(tt.pattern, tt.name, tt.pathname)
		if got != tt.want || ok != tt.ok {
			t.Errorf("fnmatch(%q, %q, %v) = %v, %v; want %v, %v", tt.pattern, tt.name, tt.pathname, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseList(f *testing.F) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "/usr/bin/true")
	}
	f.Add("User a may run the following commands on h:\n    (root) NOPASSWD: /x [a-\n", "/x [a")
	f.Add("Runas and Command-specific defaults for a:\n    Defaults!/x y z !authenticate\n\nUser a may run the following commands on h:\n    (root) /x y z\n", "/x y z")
	f.Fuzz(func(t *testing.T, out, cmd string) {
		l, err := ParseList(out)
		if err != nil {
			return
		}
		l.NoPassword()
		argvs := [][]string{{"/usr/bin/true"}, {"/opt/zz-listtest/dir/tool", "a"}, strings.Split("/"+cmd, " ")}
		for _, argv := range argvs {
			for _, runAs := range []string{"", "root", "nobody", "#0", l.User} {
				m := l.Lookup(argv, runAs)
				if m.Unknown != (m.Reason != "") {
					t.Fatalf("Lookup(%q, %q): Unknown = %v with Reason %q", argv, runAs, m.Unknown, m.Reason)
				}
				if m.NoPassword && !m.Allowed {
					t.Fatalf("Lookup(%q, %q): NoPassword without Allowed", argv, runAs)
				}
			}
		}
	})
}
