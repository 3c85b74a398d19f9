package sudo

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

func TestCheck(t *testing.T) {
	if _, err := os.Stat("/usr/bin/sudo"); err != nil {
		testenv.Skip(t, "sudo is not installed (./scripts/test installs it as root)")
	}
	if err := Check("/usr/bin/sudo"); err != nil {
		t.Errorf("system sudo refused: %v", err)
	}
	self, _ := os.Executable()
	// Setuid-root files that are not sudo: running `mount -k -- CMD` is not
	// what anyone approved.
	for _, p := range []string{"/usr/bin/id", "sudo", "/nonexistent/sudo", self, "/usr/bin/mount", "/usr/bin/passwd", "/usr/bin/su"} {
		if err := Check(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%q) = %v, want ErrInvalid", p, err)
		}
	}
}

func TestEnv(t *testing.T) {
	env := map[string]string{"PATH": "/home/agent/bin:/usr/bin", "LANG": "C.UTF-8", "LC_ALL": "$(id)", "HOME": "/home/agent",
		"TERM": "xterm-256color", "LD_PRELOAD": "/tmp/x.so", "BASH_ENV": "/tmp/x", "SUDO_EDITOR": "/tmp/evil",
		"VISUAL": "/tmp/evil", "EDITOR": "/tmp/evil", "SUDO_ASKPASS": "/tmp/evil"}
	got := strings.Join(Env(func(k string) string { return env[k] }), " ")
	want := "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=xterm-256color HOME=/home/agent LC_MESSAGES=C"
	if got != want {
		t.Errorf("Env = %q\nwant %q", got, want)
	}
}

func TestArgsAlwaysReset(t *testing.T) {
	c := Command{Opts: []string{"-e"}, Argv: []string{"/etc/hosts"}}
	if got := strings.Join(c.Args(), " "); got != "-k -e -- /etc/hosts" {
		t.Errorf("Args = %q", got)
	}
}

func TestRefusalScanner(t *testing.T) {
	for _, tt := range []struct {
		stderr string
		want   bool
	}{
		{"sudo: 3 incorrect password attempts\n", true},
		{"sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\nsudo: a password is required\n", true},
		{"Sorry, user bob is not allowed to execute '/usr/bin/id' as root on vm.\n", true},
		{"sudo: unable to resolve host vm: Name or service not known\n", false},
		{"cat: /nonexistent: No such file or directory\n", false},
		{"sudo-rs: Maximum 3 incorrect authentication attempts\n", true},
		{"partial line without newline: sudo: a password is required", false},
		{"sudo: a password is required", true}, // the last line, unterminated
		{"output of the command\nsudo: a password is required\n", false},
	} {
		var b strings.Builder
		s := &refusalScanner{w: &b}
		// Write in odd-sized pieces, as a pipe delivers them.
		for i := 0; i < len(tt.stderr); i += 7 {
			s.Write([]byte(tt.stderr[i:min(i+7, len(tt.stderr))]))
		}
		if got := s.refusal() != ""; got != tt.want {
			t.Errorf("%q: refusal = %q, want found=%v", tt.stderr, s.refusal(), tt.want)
		}
		if b.String() != tt.stderr {
			t.Errorf("stderr not passed through: %q", b.String())
		}
	}
}

func TestRefusalScannerNoPassword(t *testing.T) {
	s := &refusalScanner{w: io.Discard, noPassword: true}
	s.Write([]byte("sudo: a password is required\n"))
	if s.refusal() != "" {
		t.Error("a password refusal counted for a command that needs no password")
	}
	s = &refusalScanner{w: io.Discard, noPassword: true}
	s.Write([]byte("Sorry, user bob is not allowed to execute '/usr/bin/id' as root on vm.\n"))
	if s.refusal() == "" {
		t.Error("a policy refusal was missed")
	}
}
