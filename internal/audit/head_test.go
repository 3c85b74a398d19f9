package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

func removeHead(t testing.TB, path string) {
	t.Helper()
	if err := os.Remove(HeadPath(path)); err != nil {
		t.Fatal(err)
	}
}

func readHeadFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(HeadPath(path))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkHeadFile checks that the head file of the log at path describes the
// log as it is: its lines, the hash of the last one, its size; and that it is
// one line of JSON with exactly the documented fields, mode 0600.
func checkHeadFile(t testing.TB, path string) {
	t.Helper()
	data := readHeadFile(t, path)
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("head file %q: %v", data, err)
	}
	ls := lines(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"version": 1.0,
		"records": float64(len(ls)),
		"head":    hashHex(ls[len(ls)-1]),
		"size":    float64(fi.Size()),
	}
	if len(got) != len(want) || !bytes.HasSuffix(data, []byte("}\n")) || bytes.Count(data, []byte("\n")) != 1 {
		t.Errorf("head file %q, want one line with the fields %v", data, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("head file: %s = %v, want %v", k, got[k], v)
		}
	}
	hi, err := os.Lstat(HeadPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if hi.Mode() != 0o600 {
		t.Errorf("head file mode %v, want 0600", hi.Mode())
	}
}

// keepHead returns a function that puts the head file as it is now back:
// what a crash between the log's fsync and the head's rename leaves.
func keepHead(t testing.TB, path string) (restore func()) {
	t.Helper()
	data := readHeadFile(t, path)
	return func() { writeFile(t, HeadPath(path), string(data)) }
}

func truncateLines(t testing.TB, path string, n int) {
	t.Helper()
	ls := lines(t, path)
	content := ""
	if n < len(ls) {
		content = strings.Join(ls[:len(ls)-n], "\n") + "\n"
	}
	writeFile(t, path, content)
}

func appendRaw(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func editLine(t testing.TB, path string, i int) {
	t.Helper()
	ls := lines(t, path)
	ls[i-1] = strings.Replace(ls[i-1], `"decision":"approved"`, `"decision":"refused"`, 1)
	writeFile(t, path, strings.Join(ls, "\n")+"\n")
}

// TestHead checks VerifyFile's comparison of a log of six records with its
// head file.
func TestHead(t *testing.T) {
	const n = 6
	tests := []struct {
		name     string
		tamper   func(t *testing.T, l *Log)
		want     *Break
		records  int
		legacy   int
		headFile HeadState
	}{
		{
			name: "untouched", tamper: func(*testing.T, *Log) {},
			records: 6, headFile: HeadOK,
		},
		{
			name:   "last record removed",
			tamper: func(t *testing.T, l *Log) { truncateLines(t, l.Path, 1) },
			want:   &Break{Line: 6, Reason: "the log has 5 records but its head file says 6: records were removed from the end"},
			// The five lines left verify against each other.
			records: 5, headFile: HeadMismatch,
		},
		{
			name:    "last three records removed",
			tamper:  func(t *testing.T, l *Log) { truncateLines(t, l.Path, 3) },
			want:    &Break{Line: 4, Reason: "the log has 3 records but its head file says 6: records were removed from the end"},
			records: 3, headFile: HeadMismatch,
		},
		{
			name:     "emptied",
			tamper:   func(t *testing.T, l *Log) { writeFile(t, l.Path, "") },
			want:     &Break{Line: 1, Reason: reasonTruncated(0, 6)},
			headFile: HeadMismatch,
		},
		{
			name: "last newline removed",
			tamper: func(t *testing.T, l *Log) {
				writeFile(t, l.Path, strings.Join(lines(t, l.Path), "\n"))
			},
			// The chain reports it; the head is not compared with a line that
			// does not verify.
			want: &Break{Line: 6, Reason: reasonNoNewline}, records: 5, headFile: HeadUnchecked,
		},
		{
			name:    "last record edited",
			tamper:  func(t *testing.T, l *Log) { editLine(t, l.Path, 6) },
			want:    &Break{Line: 6, Reason: "the last record does not match the head file: the log was rewritten after its last append"},
			records: 5, headFile: HeadMismatch,
		},
		{
			name: "last record edited, then junk appended",
			tamper: func(t *testing.T, l *Log) {
				editLine(t, l.Path, 6)
				appendRaw(t, l.Path, "junk\n")
			},
			// The chain breaks at line 7, the head at line 6: the first wins.
			want:    &Break{Line: 6, Reason: reasonHeadLine(6, 7)},
			records: 5, headFile: HeadMismatch,
		},
		{
			name: "last two records replaced by one forged record",
			tamper: func(t *testing.T, l *Log) {
				ls := lines(t, l.Path)
				var buf bytes.Buffer
				r := rec(99)
				if _, err := newEncoder(&buf).encode(sha(ls[3]), &r); err != nil {
					t.Fatal(err)
				}
				writeFile(t, l.Path, strings.Join(ls[:4], "\n")+"\n"+buf.String())
			},
			want:    &Break{Line: 6, Reason: reasonTruncated(5, 6)},
			records: 5, headFile: HeadMismatch,
		},
		{
			name:   "junk appended",
			tamper: func(t *testing.T, l *Log) { appendRaw(t, l.Path, "junk\n") },
			want:   &Break{Line: 7, Reason: reasonNotJSON}, records: 6, headFile: HeadOK,
		},
		{
			name: "head older than the log (crash before the head was written)",
			tamper: func(t *testing.T, l *Log) {
				restore := keepHead(t, l.Path)
				appendN(t, l, 2)
				restore()
			},
			records: 8, headFile: HeadOK,
		},
		{
			name: "head older than the log, log truncated below it",
			tamper: func(t *testing.T, l *Log) {
				truncateLines(t, l.Path, 2)
				removeHead(t, l.Path)
				appendN(t, l, 1) // head: 5 records
				restore := keepHead(t, l.Path)
				appendN(t, l, 2)
				restore()
				truncateLines(t, l.Path, 4)
			},
			want:    &Break{Line: 4, Reason: reasonTruncated(3, 5)},
			records: 3, headFile: HeadMismatch,
		},
		{
			name:    "head missing",
			tamper:  func(t *testing.T, l *Log) { removeHead(t, l.Path) },
			records: 6, headFile: HeadMissing,
		},
		{
			name:    "head missing, records removed",
			tamper:  func(t *testing.T, l *Log) { removeHead(t, l.Path); truncateLines(t, l.Path, 2) },
			records: 4, headFile: HeadMissing,
		},
		{
			name:    "head not JSON",
			tamper:  func(t *testing.T, l *Log) { writeFile(t, HeadPath(l.Path), "") },
			records: 6, headFile: HeadInvalid,
		},
		{
			name: "head of another version",
			tamper: func(t *testing.T, l *Log) {
				data := strings.Replace(string(readHeadFile(t, l.Path)), `"version":1`, `"version":2`, 1)
				writeFile(t, HeadPath(l.Path), data)
			},
			records: 6, headFile: HeadInvalid,
		},
		{
			name: "head too long",
			tamper: func(t *testing.T, l *Log) {
				data := strings.Replace(string(readHeadFile(t, l.Path)), `{`, `{"x":"`+strings.Repeat("x", maxHeadFile)+`",`, 1)
				writeFile(t, HeadPath(l.Path), data)
			},
			records: 6, headFile: HeadInvalid,
		},
		{
			name:   "log deleted, head left",
			tamper: func(t *testing.T, l *Log) { os.Remove(l.Path) },
			want:   &Break{Line: 1, Reason: "the log is missing but its head file says it had 6 records: it was deleted or moved"}, headFile: HeadMismatch,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLog(t)
			appendN(t, l, n)
			tt.tamper(t, l)
			got := mustVerify(t, l.Path)
			checkBreak(t, got, tt.want)
			if got.Records != tt.records || got.Legacy != tt.legacy || got.HeadFile != tt.headFile {
				t.Errorf("records %d, legacy %d, head file %q; want %d, %d, %q",
					got.Records, got.Legacy, got.HeadFile, tt.records, tt.legacy, tt.headFile)
			}
		})
	}
}

func sha(line string) [32]byte {
	var h [32]byte
	decodeHex(h[:], []byte(hashHex(line)))
	return h
}

// TestHeadLegacyLines checks a log with legacy lines: they count in the
// head's records, and an edit of a legacy line before the last one, which the
// chain does not protect, shows in the head's size.
func TestHeadLegacyLines(t *testing.T) {
	l := newLog(t)
	if err := safefile.EnsureDir(filepath.Dir(l.Path)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, l.Path, legacyLine+"\n"+legacyLine+"\n")
	appendN(t, l, 1)
	checkHeadFile(t, l.Path) // the first Append counted the legacy lines
	appendN(t, l, 2)
	checkHeadFile(t, l.Path)
	if got := mustVerify(t, l.Path); got.Broken != nil || got.Records != 3 || got.Legacy != 2 || got.HeadFile != HeadOK {
		t.Fatalf("VerifyFile = %+v, want 3 records, 2 legacy, head ok", got)
	}

	ls := lines(t, l.Path)
	ls[0] = strings.Replace(ls[0], `"command":"id"`, `"command":""`, 1)
	writeFile(t, l.Path, strings.Join(ls, "\n")+"\n")
	fi, _ := os.Stat(l.Path)
	got := mustVerify(t, l.Path)
	checkBreak(t, got, &Break{Line: 5, Reason: reasonHeadSize(5, fi.Size(), fi.Size()+2)})
	if got.Records != 2 || got.Legacy != 2 || got.HeadFile != HeadMismatch {
		t.Errorf("records %d, legacy %d, head file %q; want 2, 2, mismatch", got.Records, got.Legacy, got.HeadFile)
	}
}

// TestAppendHead checks the head file Append leaves in each state of the log
// and its head: written when it matches, started when missing or invalid,
// moved forward after a crash, and otherwise left alone.
func TestAppendHead(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, l *Log) // on a log of six records
		// healed: after one more Append the head describes the log.
		// Otherwise the head file is left as setup made it, and VerifyFile
		// reports want.
		healed bool
		want   *Break
	}{
		{name: "head matches", setup: func(*testing.T, *Log) {}, healed: true},
		{name: "head missing", setup: func(t *testing.T, l *Log) { removeHead(t, l.Path) }, healed: true},
		{name: "head invalid", setup: func(t *testing.T, l *Log) { writeFile(t, HeadPath(l.Path), "{") }, healed: true},
		{
			name: "head longer than it needs to be",
			setup: func(t *testing.T, l *Log) {
				data := strings.TrimSuffix(string(readHeadFile(t, l.Path)), "\n")
				writeFile(t, HeadPath(l.Path), data+strings.Repeat(" ", 300)+"\n")
			},
			healed: true,
		},
		{
			name: "head older than the log",
			setup: func(t *testing.T, l *Log) {
				restore := keepHead(t, l.Path)
				appendN(t, l, 2)
				restore()
			},
			healed: true,
		},
		{
			name: "torn last line, head missing",
			setup: func(t *testing.T, l *Log) {
				removeHead(t, l.Path)
				data, _ := os.ReadFile(l.Path)
				writeFile(t, l.Path, string(data[:len(data)-30]))
			},
			healed: true,
			want:   &Break{Line: 6, Reason: reasonNotJSON},
		},
		{
			name:   "last record removed",
			setup:  func(t *testing.T, l *Log) { truncateLines(t, l.Path, 1) },
			want:   &Break{Line: 6, Reason: reasonHeadLine(6, 6)}, // the new record took its place
			healed: false,
		},
		{
			name:  "last three records removed",
			setup: func(t *testing.T, l *Log) { truncateLines(t, l.Path, 3) },
			want:  &Break{Line: 5, Reason: reasonTruncated(4, 6)},
		},
		{
			name:  "last record edited",
			setup: func(t *testing.T, l *Log) { editLine(t, l.Path, 6) },
			want:  &Break{Line: 6, Reason: reasonHeadLine(6, 7)},
		},
		{
			name:  "log deleted",
			setup: func(t *testing.T, l *Log) { os.Remove(l.Path) },
			want:  &Break{Line: 2, Reason: reasonTruncated(1, 6)},
		},
		{
			name: "torn line after the head's",
			setup: func(t *testing.T, l *Log) {
				restore := keepHead(t, l.Path)
				appendN(t, l, 1)
				restore()
				data, _ := os.ReadFile(l.Path)
				writeFile(t, l.Path, string(data[:len(data)-30]))
			},
			want: &Break{Line: 7, Reason: reasonNotJSON},
		},
		{
			name: "head far behind the log",
			setup: func(t *testing.T, l *Log) {
				restore := keepHead(t, l.Path)
				r := rec(1)
				r.Detail = strings.Repeat("z", maxHeadLag/2)
				if err := l.Append(r, r, r); err != nil {
					t.Fatal(err)
				}
				restore()
			},
			// Verify accepts it; Append does not read that far to move the
			// head forward.
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLog(t)
			appendN(t, l, 6)
			tt.setup(t, l)
			before, _ := os.ReadFile(HeadPath(l.Path))
			if err := l.Append(rec(7)); err != nil {
				t.Fatal(err)
			}
			if tt.healed {
				checkHeadFile(t, l.Path)
			} else if after := readHeadFile(t, l.Path); !bytes.Equal(after, before) {
				t.Errorf("Append changed the head file from\n%s\nto\n%s", before, after)
			}
			got := mustVerify(t, l.Path)
			checkBreak(t, got, tt.want)
			if tt.want == nil && got.HeadFile != HeadOK {
				t.Errorf("head file %q, want ok", got.HeadFile)
			}
		})
	}
}

// TestAppendLeavesUnsafeHeadAlone checks that Append still appends when the
// head file breaks the trust rules, does not touch it, and that VerifyFile
// refuses it.
func TestAppendLeavesUnsafeHeadAlone(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, head string)
	}{
		{
			name: "symlink",
			setup: func(t *testing.T, head string) {
				target := filepath.Join(t.TempDir(), "elsewhere")
				writeFile(t, target, "keep")
				os.Remove(head)
				if err := os.Symlink(target, head); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "group writable",
			setup: func(t *testing.T, head string) {
				if err := os.Chmod(head, 0o620); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "directory",
			setup: func(t *testing.T, head string) {
				os.Remove(head)
				if err := os.Mkdir(head, 0o700); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLog(t)
			appendN(t, l, 2)
			hp := HeadPath(l.Path)
			tt.setup(t, hp)
			before, _ := os.Lstat(hp)
			if err := l.Append(rec(2)); err != nil {
				t.Fatalf("Append: %v", err)
			}
			if n := len(lines(t, l.Path)); n != 3 {
				t.Errorf("%d lines, want 3", n)
			}
			if after, _ := os.Lstat(hp); !os.SameFile(before, after) || after.ModTime() != before.ModTime() {
				t.Error("Append replaced the unsafe head file")
			}
			if _, err := VerifyFile(l.Path); !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), hp) {
				t.Errorf("VerifyFile: %v, want ErrUnsafe naming %s", err, hp)
			}
		})
	}
}

func TestHeadMissingWithoutLog(t *testing.T) {
	l := newLog(t)
	appendN(t, l, 1)
	removeHead(t, l.Path)
	os.Remove(l.Path)
	if _, err := VerifyFile(l.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("VerifyFile: %v, want fs.ErrNotExist", err)
	}
}

// TestHeadConcurrentAppendAndVerify checks that a VerifyFile running while
// appends go on never reports a log shorter than its head: the head is read
// before the log.
func TestHeadConcurrentAppendAndVerify(t *testing.T) {
	l := newLog(t)
	appendN(t, l, 1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range 100 {
			if err := l.Append(rec(i), rec(i+1)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for verified := 0; ; verified++ {
		select {
		case <-done:
			wg.Wait()
			checkHeadFile(t, l.Path)
			return
		default:
		}
		got := mustVerify(t, l.Path)
		if got.Broken != nil && got.HeadFile == HeadMismatch {
			t.Fatalf("verify %d during appends: broken at line %d: %s", verified, got.Broken.Line, got.Broken.Reason)
		}
	}
}

// TestAppendRewritesHeadInPlace checks that Append rewrites a matching head
// in place, and replaces one with a second name (a hard link) rather than
// write through it.
func TestAppendRewritesHeadInPlace(t *testing.T) {
	l := newLog(t)
	appendN(t, l, 2)
	hp := HeadPath(l.Path)
	before, err := os.Stat(hp)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 2)
	after, err := os.Stat(hp)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("Append replaced a matching head file instead of rewriting it")
	}
	checkHeadFile(t, l.Path)

	other := filepath.Join(filepath.Dir(l.Path), "other")
	if err := os.Link(hp, other); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(other)
	appendN(t, l, 1)
	if got, _ := os.ReadFile(other); !bytes.Equal(got, want) {
		t.Errorf("Append wrote through a hard link of the head file:\n%s", got)
	}
	if now, _ := os.Stat(hp); os.SameFile(now, after) {
		t.Error("head file with two names was not replaced")
	}
	checkHeadFile(t, l.Path)
}
