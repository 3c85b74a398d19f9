package rootfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

func TestResolve(t *testing.T) {
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.name)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("Resolve(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("Resolve(%q) = %q, %v; want ErrUnsafe", tt.name, got, err)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("error %q does not say %q", err, tt.errText)
			}
		})
	}
}

func TestHashIsTheOpenedFile(t *testing.T) {
	data, err := os.ReadFile("/usr/bin/id")
	if err != nil {
		testenv.Skip(t, "no /usr/bin/id")
	}
	sum := sha256.Sum256(data)
	got, err := Hash("/usr/bin/id")
	if err != nil || got != hex.EncodeToString(sum[:]) {
		t.Errorf("Hash = %q, %v; want %x", got, err, sum)
	}
	if _, err := Hash("/usr/bin/passwd"); !errors.Is(err, ErrUnsafe) {
		t.Errorf("Hash of a setuid file: %v", err)
	}
}

func TestCheckSetuid(t *testing.T) {
	if _, err := os.Stat("/usr/bin/sudo"); err != nil {
		testenv.Skip(t, "sudo is not installed (./scripts/test installs it as root)")
	}
	if _, err := Check("/usr/bin/sudo", WantSetuid); err != nil {
		t.Errorf("sudo refused as setuid: %v", err)
	}
	if _, err := Check("/usr/bin/id", WantSetuid); !errors.Is(err, ErrUnsafe) {
		t.Errorf("id accepted as setuid: %v", err)
	}
}
