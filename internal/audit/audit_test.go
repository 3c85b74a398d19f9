package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// newLog returns a log in a fresh security directory that does not exist yet.
func newLog(t testing.TB) *Log {
	t.Helper()
	return &Log{Path: filepath.Join(t.TempDir(), "security", "privileged-audit.jsonl")}
}

// rec is a typical record; i makes it distinguishable.
func rec(i int) Record {
	code := i % 3
	return Record{
		Event:     []string{"request", "policy", "approval", "result", "sudo-reset", "session"}[i%6],
		Argv:      []string{"/usr/bin/apt-get", "install", "-y", "pkg-" + strconv.Itoa(i)},
		Cwd:       "/home/agent/work",
		SessionID: "task-7f3a9c",
		Reason:    "install <the> web server & friends",
		Decision:  "approved",
		ExitCode:  &code,
		RequestID: fmt.Sprintf("%016x", i),
		Detail:    "via shim",
	}
}

func appendN(t testing.TB, l *Log, n int) {
	t.Helper()
	for i := range n {
		if err := l.Append(rec(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// lines returns the file's lines without their newlines; a final line
// without a newline is included.
func lines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func hashHex(line string) string {
	h := sha256.Sum256([]byte(line))
	return hex.EncodeToString(h[:])
}

func mustVerify(t testing.TB, path string) Result {
	t.Helper()
	res, err := VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAppendThenVerify(t *testing.T) {
	l := newLog(t)
	if err := l.Append(rec(0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(rec(1), rec(2), rec(3)); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(rec(4)); err != nil {
		t.Fatal(err)
	}
	got := lines(t, l.Path)
	if len(got) != 5 {
		t.Fatalf("log has %d lines, want 5:\n%s", len(got), strings.Join(got, "\n"))
	}
	prev := strings.Repeat("0", 64)
	for i, line := range got {
		if want := `{"prev":"` + prev + `",`; !strings.HasPrefix(line, want) {
			t.Errorf("line %d = %s\nwant prefix %s", i+1, line, want)
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if r.UID != os.Getuid() || r.PID != os.Getpid() {
			t.Errorf("line %d: uid %d pid %d, want %d %d", i+1, r.UID, r.PID, os.Getuid(), os.Getpid())
		}
		if r.Time.IsZero() || r.Time.Location() != time.UTC || time.Since(r.Time) > time.Minute {
			t.Errorf("line %d: time %v, want now in UTC", i+1, r.Time)
		}
		if r.Event != rec(i).Event || r.RequestID != rec(i).RequestID {
			t.Errorf("line %d: event %q request %q, want %q %q", i+1, r.Event, r.RequestID, rec(i).Event, rec(i).RequestID)
		}
		prev = hashHex(line)
	}
	if !strings.Contains(got[0], `"reason":"install <the> web server & friends"`) {
		t.Errorf("HTML characters escaped: %s", got[0])
	}
	res := mustVerify(t, l.Path)
	want := Result{Records: 5, Head: prev, HeadFile: HeadOK}
	if res != want {
		t.Errorf("VerifyFile = %+v, want %+v", res, want)
	}
	checkHeadFile(t, l.Path)
	for _, p := range []string{l.Path, l.Path + ".lock", HeadPath(l.Path), filepath.Dir(l.Path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := fs.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
}

func TestAppendKeepsGivenFieldsAndLeavesRecordsAlone(t *testing.T) {
	l := newLog(t)
	at := time.Date(2025, 3, 1, 12, 0, 0, 5, time.FixedZone("x", 3600))
	in := []Record{{Event: "exec", Time: at, UID: 4242, PID: 77}}
	if err := l.Append(in...); err != nil {
		t.Fatal(err)
	}
	if in[0].Prev != "" {
		t.Errorf("Append changed the caller's record: prev %q", in[0].Prev)
	}
	var r Record
	if err := json.Unmarshal([]byte(lines(t, l.Path)[0]), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Time.Equal(at) || r.Time.Location() != time.UTC || r.UID != 4242 || r.PID != 77 {
		t.Errorf("got time %v uid %d pid %d, want %v in UTC, 4242, 77", r.Time, r.UID, r.PID, at)
	}
}

func TestAppendMultilineValuesStayOneLine(t *testing.T) {
	l := newLog(t)
	r := rec(0)
	r.Detail = "two\nlines\r\u2028and\x1b[31m escape"
	r.Argv = []string{"/bin/echo", "a\nb", "\xff"}
	if err := l.Append(r, rec(1)); err != nil {
		t.Fatal(err)
	}
	if n := len(lines(t, l.Path)); n != 2 {
		t.Fatalf("2 records made %d lines", n)
	}
	if res := mustVerify(t, l.Path); res.Broken != nil || res.Records != 2 {
		t.Errorf("VerifyFile = %+v, want 2 records", res)
	}
}

const legacyLine = `{"timestamp":"2025-01-01T00:00:00Z","event":"exec","command":"id"}`

func TestLegacyLines(t *testing.T) {
	tests := []struct {
		name       string
		before     string // written before the chained records
		after      string // appended after them
		wantLegacy int
		wantBreak  *Break
	}{
		{name: "none"},
		{name: "before", before: legacyLine + "\n" + legacyLine + "\n", wantLegacy: 2},
		{
			name: "after", after: legacyLine + "\n",
			wantBreak: &Break{Line: 4, Reason: reasonLegacyAfterChain(4)},
		},
		{
			name: "before and after", before: legacyLine + "\n", after: legacyLine + "\n",
			wantLegacy: 1, wantBreak: &Break{Line: 5, Reason: reasonLegacyAfterChain(5)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLog(t)
			if err := safefile.EnsureDir(filepath.Dir(l.Path)); err != nil {
				t.Fatal(err)
			}
			writeFile(t, l.Path, tt.before)
			appendN(t, l, 3)
			if tt.after != "" {
				f, err := os.OpenFile(l.Path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(tt.after)
				f.Close()
			}
			got := mustVerify(t, l.Path)
			if got.Legacy != tt.wantLegacy || got.Records != 3 {
				t.Errorf("legacy %d, records %d; want %d, 3", got.Legacy, got.Records, tt.wantLegacy)
			}
			checkBreak(t, got, tt.wantBreak)
			if tt.wantBreak == nil {
				all := lines(t, l.Path)
				if got.Head != hashHex(all[len(all)-1]) {
					t.Errorf("head %s, want the hash of the last line", got.Head)
				}
			}
		})
	}
}

func checkBreak(t *testing.T, got Result, want *Break) {
	t.Helper()
	switch {
	case want == nil && got.Broken != nil:
		t.Errorf("broken at line %d: %s; want a verified chain", got.Broken.Line, got.Broken.Reason)
	case want != nil && got.Broken == nil:
		t.Errorf("chain verifies (%+v); want broken at line %d: %s", got, want.Line, want.Reason)
	case want != nil && *got.Broken != *want:
		t.Errorf("broken at line %d: %s\nwant line %d: %s", got.Broken.Line, got.Broken.Reason, want.Line, want.Reason)
	case want != nil && got.Head != "":
		t.Errorf("broken chain has head %q, want none", got.Head)
	}
}

func TestTampering(t *testing.T) {
	const n = 6
	tests := []struct {
		name    string
		tamper  func(ls []string) string // returns the new file content
		want    *Break
		records int // verified before the break
	}{
		{
			name: "untouched",
			tamper: func(ls []string) string {
				return strings.Join(ls, "\n") + "\n"
			},
			records: 6,
		},
		{
			name: "edit a field in the middle",
			tamper: func(ls []string) string {
				ls[2] = strings.Replace(ls[2], `"decision":"approved"`, `"decision":"refused"`, 1)
				return strings.Join(ls, "\n") + "\n"
			},
			want:    &Break{Line: 4, Reason: reasonMismatch(4)},
			records: 3,
		},
		{
			name: "delete a middle line",
			tamper: func(ls []string) string {
				return strings.Join(append(ls[:2:2], ls[3:]...), "\n") + "\n"
			},
			want:    &Break{Line: 3, Reason: reasonMismatch(3)},
			records: 2,
		},
		{
			name: "delete the first line",
			tamper: func(ls []string) string {
				return strings.Join(ls[1:], "\n") + "\n"
			},
			want: &Break{Line: 1, Reason: reasonMismatch(1)},
		},
		{
			name: "insert a copy of a line",
			tamper: func(ls []string) string {
				out := append(ls[:4:4], ls[1])
				return strings.Join(append(out, ls[4:]...), "\n") + "\n"
			},
			want:    &Break{Line: 5, Reason: reasonMismatch(5)},
			records: 4,
		},
		{
			name: "insert a forged line chained to its predecessor",
			tamper: func(ls []string) string {
				forged := `{"prev":"` + hashHex(ls[1]) + `","time":"2025-01-01T00:00:00Z","event":"exec","uid":0,"pid":1}`
				out := append(ls[:2:2], forged)
				return strings.Join(append(out, ls[2:]...), "\n") + "\n"
			},
			want:    &Break{Line: 4, Reason: reasonMismatch(4)},
			records: 3,
		},
		{
			name: "insert a legacy-shaped line",
			tamper: func(ls []string) string {
				out := append(ls[:2:2], legacyLine)
				return strings.Join(append(out, ls[2:]...), "\n") + "\n"
			},
			want:    &Break{Line: 3, Reason: reasonLegacyAfterChain(3)},
			records: 2,
		},
		{
			name: "insert an empty line",
			tamper: func(ls []string) string {
				out := append(ls[:3:3], "")
				return strings.Join(append(out, ls[3:]...), "\n") + "\n"
			},
			want:    &Break{Line: 4, Reason: reasonEmpty},
			records: 3,
		},
		{
			name: "swap two lines",
			tamper: func(ls []string) string {
				ls[2], ls[3] = ls[3], ls[2]
				return strings.Join(ls, "\n") + "\n"
			},
			want:    &Break{Line: 3, Reason: reasonMismatch(3)},
			records: 2,
		},
		{
			name: "truncate mid-line",
			tamper: func(ls []string) string {
				return strings.Join(ls, "\n")[:len(strings.Join(ls, "\n"))-40]
			},
			want:    &Break{Line: 6, Reason: reasonNoNewline},
			records: 5,
		},
		{
			name: "drop the final newline",
			tamper: func(ls []string) string {
				return strings.Join(ls, "\n")
			},
			want:    &Break{Line: 6, Reason: reasonNoNewline},
			records: 5,
		},
		{
			name: "append junk",
			tamper: func(ls []string) string {
				return strings.Join(ls, "\n") + "\njunk\n"
			},
			want:    &Break{Line: 7, Reason: reasonNotJSON},
			records: 6,
		},
		{
			name: "break the JSON of a middle line",
			tamper: func(ls []string) string {
				ls[1] = strings.Replace(ls[1], `"event":`, `"event"`, 1)
				return strings.Join(ls, "\n") + "\n"
			},
			want:    &Break{Line: 3, Reason: reasonMismatch(3)},
			records: 2,
		},
		{
			name: "break the JSON of the last line",
			tamper: func(ls []string) string {
				ls[5] = strings.Replace(ls[5], `"event":`, `"event"`, 1)
				return strings.Join(ls, "\n") + "\n"
			},
			want:    &Break{Line: 6, Reason: reasonNotJSON},
			records: 5,
		},
		{
			name: "uppercase prev",
			tamper: func(ls []string) string {
				ls[1] = strings.Replace(ls[1], hashHex(ls[0]), strings.ToUpper(hashHex(ls[0])), 1)
				return strings.Join(ls, "\n") + "\n"
			},
			want:    &Break{Line: 2, Reason: reasonBadPrev},
			records: 1,
		},
		{
			name: "prev of the wrong type",
			tamper: func(ls []string) string {
				ls[1] = `{"prev":1,"event":"exec"}`
				return strings.Join(ls, "\n") + "\n"
			},
			want:    &Break{Line: 2, Reason: reasonBadPrev},
			records: 1,
		},
		{
			name: "not an object",
			tamper: func(ls []string) string {
				return strings.Join(ls, "\n") + "\n[1,2]\n"
			},
			want:    &Break{Line: 7, Reason: reasonNotJSON},
			records: 6,
		},
		{
			// Whole lines dropped from the end leave a valid chain: only the
			// head file (TestHead) or an anchor reveals it.
			name: "drop lines from the end",
			tamper: func(ls []string) string {
				return strings.Join(ls[:4], "\n") + "\n"
			},
			records: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLog(t)
			appendN(t, l, n)
			// The chain alone: TestHead covers the head file.
			removeHead(t, l.Path)
			writeFile(t, l.Path, tt.tamper(lines(t, l.Path)))
			got := mustVerify(t, l.Path)
			checkBreak(t, got, tt.want)
			if got.Records != tt.records {
				t.Errorf("records %d, want %d", got.Records, tt.records)
			}
			if got.HeadFile != HeadMissing {
				t.Errorf("head file %q, want %q", got.HeadFile, HeadMissing)
			}
		})
	}
}

// TestEditingTheLastLine checks that only the head file notices an edit of
// the last line: without it, only Result.Head changes.
func TestEditingTheLastLine(t *testing.T) {
	l := newLog(t)
	appendN(t, l, 4)
	before := mustVerify(t, l.Path)
	ls := lines(t, l.Path)
	ls[3] = strings.Replace(ls[3], `"decision":"approved"`, `"decision":"refused"`, 1)
	writeFile(t, l.Path, strings.Join(ls, "\n")+"\n")
	got := mustVerify(t, l.Path)
	checkBreak(t, got, &Break{Line: 4, Reason: reasonHeadLine(4, 4)})
	if got.Records != 3 || got.HeadFile != HeadMismatch {
		t.Errorf("with the head file: %+v, want 3 records and head file %q", got, HeadMismatch)
	}

	removeHead(t, l.Path)
	after := mustVerify(t, l.Path)
	if after.Broken != nil || after.Records != 4 || after.HeadFile != HeadMissing {
		t.Fatalf("without the head file: %+v, want 4 verified records", after)
	}
	if after.Head == before.Head {
		t.Errorf("head %s did not change when the last line was edited", after.Head)
	}
}

func TestRewriteIsDetectedOnlyByAnchor(t *testing.T) {
	l := newLog(t)
	appendN(t, l, 3)
	anchor := mustVerify(t, l.Path).Head
	appendN(t, l, 3)

	res, err := VerifyFileAnchored(l.Path, anchor)
	if err != nil {
		t.Fatal(err)
	}
	if res.Broken != nil || res.AnchorLine != 3 || res.Records != 6 {
		t.Fatalf("before the rewrite: %+v, want 6 records and the anchor at line 3", res)
	}

	// A same-user attacker rewrites a record and recomputes every hash, and
	// the head file.
	var buf bytes.Buffer
	enc := newEncoder(&buf)
	prev := zeroPrev
	for i, line := range lines(t, l.Path) {
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			r.Decision = "refused"
		}
		if prev, err = enc.encode(prev, &r); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, l.Path, buf.String())
	res, err = VerifyFileAnchored(l.Path, anchor)
	if err != nil {
		t.Fatal(err)
	}
	if res.Broken == nil || res.HeadFile != HeadMismatch {
		t.Errorf("rewritten chain, old head file: %+v, want a mismatch", res)
	}
	if err := writeHead(l.Path, head{records: 6, hash: prev, size: int64(buf.Len())}); err != nil {
		t.Fatal(err)
	}

	res, err = VerifyFileAnchored(l.Path, anchor)
	if err != nil {
		t.Fatal(err)
	}
	if res.Broken != nil || res.Records != 6 || res.HeadFile != HeadOK {
		t.Errorf("rewritten chain and head: %+v, want it to verify", res)
	}
	if res.AnchorLine != 0 {
		t.Errorf("anchor found at line %d in a rewritten log", res.AnchorLine)
	}
	if _, err := VerifyFileAnchored(l.Path, "ABC"); err == nil {
		t.Error("malformed anchor accepted")
	}
}

func TestTornTailThenAppend(t *testing.T) {
	l := newLog(t)
	appendN(t, l, 3)
	data, err := os.ReadFile(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	torn := data[:len(data)-50]
	writeFile(t, l.Path, string(torn))
	checkBreak(t, mustVerify(t, l.Path), &Break{Line: 3, Reason: reasonNoNewline})

	if err := l.Append(rec(3)); err != nil {
		t.Fatal(err)
	}
	ls := lines(t, l.Path)
	if len(ls) != 4 {
		t.Fatalf("%d lines after appending to a torn log, want 4", len(ls))
	}
	tornLine := ls[2]
	if !strings.HasSuffix(string(torn), tornLine) {
		t.Errorf("torn line changed: %q", tornLine)
	}
	if want := `{"prev":"` + hashHex(tornLine) + `"`; !strings.HasPrefix(ls[3], want) {
		t.Errorf("new record %s\nis not chained to the torn line (want prefix %s)", ls[3], want)
	}
	got := mustVerify(t, l.Path)
	checkBreak(t, got, &Break{Line: 3, Reason: reasonNotJSON})
	if got.Records != 2 {
		t.Errorf("records %d, want 2", got.Records)
	}
}

func TestAppendConcurrentGoroutines(t *testing.T) {
	l := newLog(t)
	const workers, each = 50, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				r := Record{Event: "exec", Detail: fmt.Sprintf("w=%d i=%d", w, i)}
				if i%2 == 0 {
					errs <- l.Append(r)
				} else {
					r2 := r
					r2.Event = "result"
					errs <- l.Append(r, r2)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkConcurrentLog(t, l.Path, workers*each*3/2)
}

// checkConcurrentLog checks that the log at path verifies with exactly want
// records and that no record appears twice.
func checkConcurrentLog(t *testing.T, path string, want int) {
	t.Helper()
	res := mustVerify(t, path)
	checkBreak(t, res, nil)
	if res.Records != want || res.HeadFile != HeadOK {
		t.Errorf("records %d, head file %q; want %d, ok", res.Records, res.HeadFile, want)
	}
	checkHeadFile(t, path)
	seen := map[string]bool{}
	for _, line := range lines(t, path) {
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		key := r.Event + " " + r.Detail + " " + strconv.Itoa(r.PID)
		if seen[key] {
			t.Errorf("record %q written twice", key)
		}
		seen[key] = true
	}
}

const helperEnv = "CLAWWARDEN_AUDIT_HELPER_LOG"

// TestHelperAppend is not a test: TestAppendConcurrentProcesses runs the test
// binary with helperEnv set, and this appends records to that log.
func TestHelperAppend(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestAppendConcurrentProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv(helperEnv + "_N"))
	l := &Log{Path: path}
	for i := range n {
		if err := l.Append(Record{Event: "exec", Detail: fmt.Sprintf("i=%d", i)}, Record{Event: "result", Detail: fmt.Sprintf("i=%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendConcurrentProcesses(t *testing.T) {
	l := newLog(t)
	const procs, each = 8, 25
	var wg sync.WaitGroup
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	for p := range procs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAppend$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"="+l.Path, helperEnv+"_N="+strconv.Itoa(each))
			outs[p], errs[p] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for p := range procs {
		if errs[p] != nil {
			t.Fatalf("helper %d: %v\n%s", p, errs[p], outs[p])
		}
	}
	checkConcurrentLog(t, l.Path, procs*each*2)
}

func TestUnsafeLog(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{
			name: "symlink",
			setup: func(t *testing.T, path string) {
				target := filepath.Join(t.TempDir(), "elsewhere.jsonl")
				writeFile(t, target, "")
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "group writable",
			setup: func(t *testing.T, path string) {
				writeFile(t, path, "")
				if err := os.Chmod(path, 0o660); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "directory",
			setup: func(t *testing.T, path string) {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLog(t)
			if err := safefile.EnsureDir(filepath.Dir(l.Path)); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, l.Path)
			if err := l.Append(rec(0)); !errors.Is(err, safefile.ErrUnsafe) {
				t.Errorf("Append: %v, want ErrUnsafe", err)
			}
			if _, err := VerifyFile(l.Path); !errors.Is(err, safefile.ErrUnsafe) {
				t.Errorf("VerifyFile: %v, want ErrUnsafe", err)
			}
			if _, err := Tail(l.Path, 5); !errors.Is(err, safefile.ErrUnsafe) {
				t.Errorf("Tail: %v, want ErrUnsafe", err)
			}
		})
	}
}

func TestMissingLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "privileged-audit.jsonl")
	if _, err := VerifyFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("VerifyFile: %v, want fs.ErrNotExist", err)
	}
	if _, err := Tail(path, 5); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Tail: %v, want fs.ErrNotExist", err)
	}
}

func TestVerifyEmptyAndReadErrors(t *testing.T) {
	res, err := Verify(strings.NewReader(""))
	if err != nil || res != (Result{}) {
		t.Errorf("Verify(empty) = %+v, %v; want zero result", res, err)
	}
	boom := errors.New("boom")
	l := newLog(t)
	appendN(t, l, 3)
	data, err := os.ReadFile(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Errorf("Verify with a failing reader: %v, want %v", err, boom)
	}
	// A reader that hands out one byte at a time sees the same result.
	want := mustVerify(t, l.Path)
	want.HeadFile = HeadUnchecked // a stream has no head
	if got, err := Verify(iotest.OneByteReader(bytes.NewReader(data))); err != nil || got != want {
		t.Errorf("one byte at a time: %+v, %v; want %+v", got, err, want)
	}
}

// TestVerifyAcrossBlocks checks chains longer than one read block, with lines
// longer than a block, and a break far into the file.
func TestVerifyAcrossBlocks(t *testing.T) {
	long := rec(1)
	long.Detail = strings.Repeat("x", 3*blockSize+17)
	const n = 12000
	mk := func(i int) Record {
		if i == 5000 || i == 5001 {
			return long
		}
		return rec(i)
	}
	var buf bytes.Buffer
	if err := writeChain(&buf, n, mk); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	res, err := Verify(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if want := (Result{Records: n, Head: hashHex(ls[n-1])}); res != want {
		t.Errorf("Verify = %+v, want %+v", res, want)
	}

	// Edit line 9000: line 9001 breaks.
	i := strings.Index(string(data), ls[8999])
	tampered := bytes.Clone(data)
	copy(tampered[i+len(ls[8999])-3:], "7")
	res, err = Verify(bytes.NewReader(tampered))
	if err != nil {
		t.Fatal(err)
	}
	checkBreak(t, res, &Break{Line: 9001, Reason: reasonMismatch(9001)})
	if res.Records != 9000 {
		t.Errorf("records %d, want 9000", res.Records)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestVerifyRefusesHugeLine(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 64 MiB")
	}
	var buf bytes.Buffer
	if err := writeChain(&buf, 2, rec); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(io.MultiReader(&buf, io.LimitReader(repeatReader('a'), maxLine+10)))
	if err != nil {
		t.Fatal(err)
	}
	checkBreak(t, res, &Break{Line: 3, Reason: reasonTooLong})
	if res.Records != 2 {
		t.Errorf("records %d, want 2", res.Records)
	}
}

func TestTail(t *testing.T) {
	l := newLog(t)
	if err := safefile.EnsureDir(filepath.Dir(l.Path)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, l.Path, legacyLine+"\n"+legacyLine+"\n")
	appendN(t, l, 5)
	ls := lines(t, l.Path)
	offsets := []int64{0}
	for _, line := range ls[:len(ls)-1] {
		offsets = append(offsets, offsets[len(offsets)-1]+int64(len(line))+1)
	}

	tests := []struct {
		n     int
		first int // 0-based index of the first line returned
	}{
		{n: 1, first: 6},
		{n: 3, first: 4},
		{n: 6, first: 1},
		{n: 7, first: 0},
		{n: 100, first: 0},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			got, err := Tail(l.Path, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(ls)-tt.first {
				t.Fatalf("got %d entries, want %d", len(got), len(ls)-tt.first)
			}
			for j, e := range got {
				i := tt.first + j
				if string(e.Raw) != ls[i] || e.Offset != offsets[i] {
					t.Errorf("entry %d: offset %d raw %s\nwant offset %d raw %s", j, e.Offset, e.Raw, offsets[i], ls[i])
				}
				if wantLegacy := i < 2; e.Legacy != wantLegacy || e.Invalid != "" {
					t.Errorf("entry %d: legacy %v invalid %q, want legacy %v", j, e.Legacy, e.Invalid, wantLegacy)
				}
				if i >= 2 && (e.Record.RequestID != rec(i-2).RequestID || e.Record.Prev == "") {
					t.Errorf("entry %d: record %+v, want request %s", j, e.Record, rec(i-2).RequestID)
				}
			}
		})
	}
	if _, err := Tail(l.Path, 0); err == nil {
		t.Error("Tail(0) succeeded")
	}
}

func TestTailOddFiles(t *testing.T) {
	tests := []struct {
		name    string
		content string
		n       int
		want    []Entry // Record and Raw not compared
	}{
		{name: "empty", content: "", n: 3},
		{name: "only a newline", content: "\n", n: 3, want: []Entry{{Invalid: reasonEmpty}}},
		{name: "torn last line", content: legacyLine + "\n{\"prev\":\"00", n: 2, want: []Entry{
			{Legacy: true}, {Offset: int64(len(legacyLine)) + 1, Invalid: reasonNotJSON},
		}},
		{name: "no final newline", content: legacyLine + "\n" + legacyLine, n: 1, want: []Entry{
			{Offset: int64(len(legacyLine)) + 1, Legacy: true},
		}},
		{name: "empty first line", content: "\n" + legacyLine + "\n", n: 5, want: []Entry{
			{Invalid: reasonEmpty}, {Offset: 1, Legacy: true},
		}},
		{name: "wrong field type", content: `{"prev":"x","uid":"root"}` + "\n", n: 1, want: []Entry{
			{Invalid: "not a clawwarden record: json: cannot unmarshal string into Go struct field Record.uid of type int"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.jsonl")
			writeFile(t, path, tt.content)
			got, err := Tail(path, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d entries, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				g := got[i]
				g.Record, g.Raw = Record{}, nil
				w := tt.want[i]
				if g.Offset != w.Offset || g.Legacy != w.Legacy || g.Invalid != w.Invalid {
					t.Errorf("entry %d: %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestTailReadsLongLines checks lines longer than Tail's read chunk.
func TestTailReadsLongLines(t *testing.T) {
	l := newLog(t)
	r := rec(0)
	r.Detail = strings.Repeat("y", 3*scanChunk+5)
	if err := l.Append(rec(1), r, rec(2), r); err != nil {
		t.Fatal(err)
	}
	got, err := Tail(l.Path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Record.Detail != r.Detail || got[1].Record.RequestID != rec(2).RequestID || got[2].Record.Detail != r.Detail {
		t.Errorf("Tail of long lines: %d entries, unexpected records", len(got))
	}
}

// writeChain writes n chained records made by mk to w, quickly: no lock, no
// fsync. It is Append's encoding for tests and benchmarks.
func writeChain(w io.Writer, n int, mk func(i int) Record) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var buf bytes.Buffer
	enc := newEncoder(&buf)
	prev := zeroPrev
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r := mk(i)
		r.Time = t0.Add(time.Duration(i) * time.Millisecond)
		r.UID, r.PID = 1000, 4242
		buf.Reset()
		var err error
		if prev, err = enc.encode(prev, &r); err != nil {
			return err
		}
		bw.Write(buf.Bytes())
	}
	return bw.Flush()
}

func TestBrokenMatchesErrBroken(t *testing.T) {
	err := fmt.Errorf("verify: %w", Broken("audit log %s does not verify: broken at line %d", "x.jsonl", 2))
	if !errors.Is(err, ErrBroken) || err.Error() != "verify: audit log x.jsonl does not verify: broken at line 2" {
		t.Fatalf("%v", err)
	}
	if errors.Is(errors.New("other"), ErrBroken) {
		t.Fatal("an unrelated error matches")
	}
}
