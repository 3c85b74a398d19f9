package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

func TestLoadPrompt(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string // "" = no file
		want    bool
		errWant string // substring; "" = no error
	}{
		{name: "missing file", want: true},
		{name: "true", content: `{"require_confirmation_for_untrusted": true}`, want: true},
		{name: "false", content: `{"require_confirmation_for_untrusted":false}`, want: false},
		{name: "key missing", content: `{}`, want: true},
		{name: "with comment", content: `{"_comment": "x", "version": 1, "require_confirmation_for_untrusted": false}`, want: false},
		{name: "not JSON", content: `require_confirmation_for_untrusted = false`, errWant: "not valid JSON"},
		{name: "string value", content: `{"require_confirmation_for_untrusted": "false"}`, errWant: "must be true or false, not string"},
		{name: "null value", content: `{"require_confirmation_for_untrusted": null}`, errWant: "must be true or false, not null"},
		{name: "number value", content: `{"require_confirmation_for_untrusted": 0}`, errWant: "must be true or false, not number"},
		{name: "unknown key", content: `{"require_confirmation_for_untrusted": false, "require_confirmation": true}`, errWant: `unknown key "require_confirmation"`},
		{name: "array", content: `[true]`, errWant: "want a JSON object"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "prompt-policy-"+string(rune('a'+i))+".json")
			if tt.content != "" {
				writeFile(t, path, tt.content, 0o600)
			}
			got, exists, err := LoadPrompt(path)
			if tt.errWant != "" {
				if err == nil || !errors.Is(err, safefile.ErrInvalid) || !strings.Contains(err.Error(), tt.errWant) || !strings.Contains(err.Error(), path) {
					t.Fatalf("LoadPrompt error = %v, want safefile.ErrInvalid naming %s and containing %q", err, path, tt.errWant)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadPrompt: %v", err)
			}
			if wantExists := tt.content != ""; exists != wantExists {
				t.Errorf("exists = %v, want %v", exists, wantExists)
			}
			if got.RequireConfirmationForUntrusted != tt.want {
				t.Errorf("RequireConfirmationForUntrusted = %v, want %v", got.RequireConfirmationForUntrusted, tt.want)
			}
		})
	}
}

func TestLoadPromptUnsafe(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	writeFile(t, real, `{"require_confirmation_for_untrusted": false}`, 0o600)
	link := filepath.Join(dir, "prompt-policy.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadPrompt(link); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("LoadPrompt(symlink) error = %v, want safefile.ErrUnsafe", err)
	}
}
