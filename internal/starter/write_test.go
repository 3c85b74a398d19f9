package starter

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "command-policy.json")
	now := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	valid := func(string) error { return nil }
	tmpl := []byte("{\n  \"allow\": [\"^/usr/bin/id$\"]\n}\n")

	out, err := Write(path, tmpl, false, valid, now)
	if err != nil || out.Action != Wrote {
		t.Fatalf("first write: %+v %v", out, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if out, err = Write(path, tmpl, false, valid, now); err != nil || out.Action != Same {
		t.Fatalf("same: %+v %v", out, err)
	}

	mine := []byte("{\n  \"allow\": [\"^/usr/bin/true$\"]\n}\n")
	os.WriteFile(path, mine, 0o600)
	out, err = Write(path, tmpl, false, valid, now)
	if err != nil || out.Action != Kept {
		t.Fatalf("kept: %+v %v", out, err)
	}
	for _, want := range []string{"--- yours", "+++ template", "-  \"allow\": [\"^/usr/bin/true$\"]", "+  \"allow\": [\"^/usr/bin/id$\"]"} {
		if !strings.Contains(out.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, out.Diff)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != string(mine) {
		t.Error("a person's file was changed without --force")
	}

	bad := errors.New("malformed")
	if _, err := Write(path, tmpl, false, func(string) error { return bad }, now); !errors.Is(err, bad) {
		t.Errorf("an invalid existing file: %v", err)
	}

	out, err = Write(path, tmpl, true, valid, now)
	if err != nil || out.Action != Replaced || out.Backup != path+".bak-20261202T070000Z" {
		t.Fatalf("force: %+v %v", out, err)
	}
	if got, _ := os.ReadFile(out.Backup); string(got) != string(mine) {
		t.Error("backup does not hold the person's file")
	}
	if got, _ := os.ReadFile(path); string(got) != string(tmpl) {
		t.Error("not replaced")
	}
}
