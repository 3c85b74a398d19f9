package guard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveCommand(t *testing.T) {
	dir := t.TempDir()
	userFile := filepath.Join(dir, "tool")
	os.WriteFile(userFile, []byte("#!/bin/sh\n"), 0o755)
	if os.Geteuid() == 0 {
		os.Chown(userFile, 65534, 65534)
	}
	tests := []struct {
		name    string
		want    string // resolved path, "" for a refusal
		errText string
	}{
		{"id", "/usr/bin/id", ""},
		{"/usr/bin/id", "/usr/bin/id", ""},
		{"/usr/bin/../bin/id", "/usr/bin/id", ""},
		{"./id", "", "relative path"},
		{"bin/id", "", "relative path"},
		{"no-such-command-xyz", "", "not found"},
		{"/usr/bin/passwd", "", "setuid"},
		{"/etc/passwd", "", "not executable"},
		{userFile, "", ""}, // owned by someone else (or in a temp dir): refused
		{"/usr/bin", "", "not a regular file"},
		{"", "", "empty"},
		{"id\n", "", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveCommand(tt.name)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("ResolveCommand(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrInvalidCommand) {
				t.Fatalf("ResolveCommand(%q) = %q, %v; want ErrInvalidCommand", tt.name, got, err)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("error %q does not say %q", err, tt.errText)
			}
		})
	}
}

func TestCheckSudo(t *testing.T) {
	if _, err := os.Stat("/usr/bin/sudo"); err != nil {
		t.Skip("sudo is not installed (./scripts/test installs it as root)")
	}
	if err := CheckSudo("/usr/bin/sudo"); err != nil {
		t.Errorf("system sudo refused: %v", err)
	}
	self, _ := os.Executable()
	for _, p := range []string{"/usr/bin/id", "sudo", "/nonexistent/sudo", self} {
		if err := CheckSudo(p); !errors.Is(err, ErrInvalidSudo) {
			t.Errorf("CheckSudo(%q) = %v, want ErrInvalidSudo", p, err)
		}
	}
}

func TestSanitizedEnv(t *testing.T) {
	env := map[string]string{"PATH": "/home/agent/bin:/usr/bin", "LANG": "C.UTF-8", "LC_ALL": "$(id)", "HOME": "/home/agent",
		"TERM": "xterm-256color", "LD_PRELOAD": "/tmp/x.so", "BASH_ENV": "/tmp/x"}
	got := strings.Join(sanitizedEnv(func(k string) string { return env[k] }), " ")
	want := "PATH=" + SecurePath + " LANG=C.UTF-8 TERM=xterm-256color HOME=/home/agent"
	if got != want {
		t.Errorf("sanitizedEnv = %q\nwant %q", got, want)
	}
}
