package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	write := func(t *testing.T, n int) (string, []string) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		l := &Log{Path: path}
		for i := range n {
			if err := l.Append(Record{Time: time.Unix(int64(i), 0).UTC(), Event: "request", Argv: []string{"/usr/bin/id"}}); err != nil {
				t.Fatal(err)
			}
		}
		data, _ := os.ReadFile(path)
		return path, strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	}

	t.Run("intact", func(t *testing.T) {
		path, _ := write(t, 3)
		v, err := Judge(path, "")
		if err != nil || !v.OK() || v.Warning != "" || v.Result.Records != 3 {
			t.Fatalf("%+v %v", v, err)
		}
		if v2, _ := Judge(path, strings.ToUpper(v.Result.Head)); !v2.OK() || v2.Result.AnchorLine != 3 {
			t.Errorf("its own head as anchor: %+v", v2)
		}
	})
	t.Run("a line changed", func(t *testing.T) {
		path, lines := write(t, 4)
		lines[1] = strings.Replace(lines[1], "request", "approval", 1)
		os.WriteFile(path, []byte(strings.Join(lines, "")+"\n"), 0o600)
		v, err := Judge(path, "")
		if err != nil || !errors.Is(v.Err, ErrBroken) || len(v.Hints) != 2 {
			t.Fatalf("%+v %v", v, err)
		}
		if !strings.Contains(v.Hints[0], "line 2 or line 3 was changed") && !strings.Contains(v.Hints[0], "line 1 or line 2") {
			t.Errorf("hint %q", v.Hints[0])
		}
	})
	t.Run("last records removed", func(t *testing.T) {
		path, lines := write(t, 3)
		os.WriteFile(path, []byte(strings.Join(lines[:2], "")), 0o600)
		v, _ := Judge(path, "")
		if !errors.Is(v.Err, ErrBroken) || !strings.Contains(v.Err.Error(), "does not match its head file") {
			t.Fatalf("%+v", v)
		}
	})
	t.Run("log deleted, head left", func(t *testing.T) {
		path, _ := write(t, 2)
		os.Remove(path)
		v, _ := Judge(path, "")
		if v.Exists || !errors.Is(v.Err, ErrBroken) || !strings.Contains(v.Hints[0], "deleted or moved") {
			t.Fatalf("%+v", v)
		}
	})
	t.Run("no head file", func(t *testing.T) {
		path, _ := write(t, 2)
		os.Remove(HeadPath(path))
		v, _ := Judge(path, "")
		if !v.OK() || !strings.Contains(v.Warning, "no head file") {
			t.Fatalf("%+v", v)
		}
	})
	t.Run("anchor not in the log", func(t *testing.T) {
		path, _ := write(t, 2)
		v, _ := Judge(path, strings.Repeat("ab", 32))
		if !v.AnchorMissing || !errors.Is(v.Err, ErrBroken) {
			t.Fatalf("%+v", v)
		}
	})
	t.Run("bad anchor", func(t *testing.T) {
		path, _ := write(t, 1)
		if _, err := Judge(path, "xyz"); !errors.Is(err, ErrBadAnchor) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("no log at all", func(t *testing.T) {
		v, err := Judge(filepath.Join(t.TempDir(), "none.jsonl"), "")
		if err != nil || !v.OK() || v.Exists {
			t.Fatalf("%+v %v", v, err)
		}
	})
}
