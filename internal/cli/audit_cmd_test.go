package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
)

// auditEnv returns an environment for clawwarden with a fresh state
// directory, and the audit log's path there (not created).
func auditEnv(t *testing.T) (env []string, path string) {
	t.Helper()
	dir := t.TempDir()
	env = []string{"HOME=" + dir, "OPENCLAW_STATE_DIR=" + filepath.Join(dir, ".openclaw")}
	return env, filepath.Join(dir, ".openclaw", "security", config.AuditLogFile)
}

func appendRecords(t *testing.T, path string, recs ...audit.Record) {
	t.Helper()
	if err := (&audit.Log{Path: path}).Append(recs...); err != nil {
		t.Fatal(err)
	}
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func sha(line string) string {
	h := sha256.Sum256([]byte(line))
	return hex.EncodeToString(h[:])
}

const legacyAuditLine = `{"timestamp":"2025-01-01T00:00:00Z","event":"exec","command":"id"}`

func TestAuditVerifyCommand(t *testing.T) {
	t.Parallel()
	three := []audit.Record{{Event: "request"}, {Event: "policy", Decision: "allow"}, {Event: "result"}}
	tests := []struct {
		name     string
		setup    func(t *testing.T, path string) // nil: no log
		args     []string
		wantCode int
		wantOut  string // "HEAD" is replaced by the hash of the last line
		wantErr  string // substring of stderr
	}{
		{
			name: "no log yet", args: []string{"audit", "verify"},
			wantOut: "no audit log yet at PATH\n",
		},
		{
			name:  "ok",
			setup: func(t *testing.T, path string) { appendRecords(t, path, three...) },
			args:  []string{"audit", "verify"}, wantOut: "ok, 3 records\nhead HEAD\nhead file ok\n",
		},
		{
			name: "one record and legacy lines",
			setup: func(t *testing.T, path string) {
				writeAuditFile(t, path, legacyAuditLine+"\n"+legacyAuditLine+"\n")
				appendRecords(t, path, audit.Record{Event: "request"})
			},
			args:    []string{"audit", "verify"},
			wantOut: "ok, 1 record, 2 legacy records from the original skill\nhead HEAD\nhead file ok\n",
		},
		{
			name: "empty file",
			setup: func(t *testing.T, path string) {
				writeAuditFile(t, path, "")
			},
			args: []string{"audit", "verify"}, wantOut: "ok, 0 records\nhead file missing\n",
			wantErr: "clawwarden: warning: no head file PATH.head (log written by an older version, or the head was removed): removal of the last records cannot be detected; the next privileged command writes one\n",
		},
		{
			name: "broken",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				ls := fileLines(t, path)
				ls[0] = strings.Replace(ls[0], `"request"`, `"requesT"`, 1)
				writeAuditFile(t, path, strings.Join(ls, "\n")+"\n")
			},
			args:     []string{"audit", "verify"},
			wantCode: ExitAuditBroken,
			wantOut:  "broken at line 2: line 2's prev does not match line 1: one of them was altered, or lines were inserted or removed\n",
			wantErr: "clawwarden: audit log PATH does not verify: broken at line 2\n" +
				"clawwarden: hint: no line verified: line 1 or line 2 was changed, or lines between them were removed or inserted (line 2 does not follow from line 1)\n" +
				"clawwarden: hint: keep the files as evidence; to start a new chain, move the log and its head file aside (mv PATH PATH.broken && mv PATH.head PATH.broken.head); the next privileged command starts a new log\n",
		},
		{
			name: "broken at line 1",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				writeAuditFile(t, path, strings.Join(fileLines(t, path)[1:], "\n")+"\n")
			},
			args:     []string{"audit", "verify"},
			wantCode: ExitAuditBroken,
			wantOut:  "broken at line 1: line 1's prev is not 64 zeros, as the first line of a log must have: lines before it were removed, or it was altered\n",
			wantErr:  "clawwarden: hint: no line verified: line 1 was changed, or lines before it were removed\n",
		},
		{
			name: "broken at line 5",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, append(three, three...)...)
				ls := fileLines(t, path)
				ls[3] = strings.Replace(ls[3], `"request"`, `"requesT"`, 1)
				writeAuditFile(t, path, strings.Join(ls, "\n")+"\n")
			},
			args:     []string{"audit", "verify"},
			wantCode: ExitAuditBroken,
			wantOut:  "broken at line 5: line 5's prev does not match line 4: one of them was altered, or lines were inserted or removed\n",
			wantErr:  "clawwarden: hint: lines 1-3 verified; line 4 or line 5 was changed, or lines between them were removed or inserted (line 5 does not follow from line 4)\n",
		},
		{
			name: "last records removed",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				writeAuditFile(t, path, fileLines(t, path)[0]+"\n")
			},
			args:     []string{"audit", "verify"},
			wantCode: ExitAuditBroken,
			wantOut:  "broken at line 2: the log has 1 record but its head file says 3: records were removed from the end\n",
			wantErr: "clawwarden: audit log PATH does not match its head file PATH.head: broken at line 2\n" +
				"clawwarden: hint: the log was truncated or rewritten at its end after its last append, which wrote the head file\n" +
				"clawwarden: hint: keep the files as evidence; to start a new chain, move the log and its head file aside (mv PATH PATH.broken && mv PATH.head PATH.broken.head); the next privileged command starts a new log\n",
		},
		{
			name: "last record edited",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				ls := fileLines(t, path)
				ls[2] = strings.Replace(ls[2], `"result"`, `"resulT"`, 1)
				writeAuditFile(t, path, strings.Join(ls, "\n")+"\n")
			},
			args:     []string{"audit", "verify"},
			wantCode: ExitAuditBroken,
			wantOut:  "broken at line 3: the last record does not match the head file: the log was rewritten after its last append\n",
			wantErr:  "does not match its head file PATH.head: broken at line 3\n",
		},
		{
			name: "log deleted, head file left",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				os.Remove(path)
			},
			args:     []string{"audit", "verify"},
			wantCode: ExitAuditBroken,
			wantOut:  "broken at line 1: the log is missing but its head file says it had 3 records: it was deleted or moved\n",
			wantErr: "clawwarden: hint: the log was deleted or moved after its last append, which wrote the head file\n" +
				"clawwarden: hint: keep the head file as evidence; to start a new chain, move it aside (mv PATH.head PATH.head.broken); the next privileged command starts a new log\n",
		},
		{
			name: "head file older than the log",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three[0])
				old, _ := os.ReadFile(path + ".head")
				appendRecords(t, path, three[1:]...)
				writeAuditFile(t, path+".head", string(old))
			},
			args: []string{"audit", "verify"}, wantOut: "ok, 3 records\nhead HEAD\nhead file ok\n",
		},
		{
			name: "head file missing",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				os.Remove(path + ".head")
			},
			args: []string{"audit", "verify"}, wantOut: "ok, 3 records\nhead HEAD\nhead file missing\n",
			wantErr: "clawwarden: warning: no head file PATH.head",
		},
		{
			name: "head file invalid",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				writeAuditFile(t, path+".head", "{")
			},
			args: []string{"audit", "verify"}, wantOut: "ok, 3 records\nhead HEAD\nhead file invalid\n",
			wantErr: "clawwarden: warning: head file PATH.head cannot be read (a crash while it was written, or it was altered): removal of the last records cannot be detected; the next privileged command replaces it\n",
		},
		{
			name: "symlinked head file",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				other := filepath.Join(filepath.Dir(path), "real.head")
				os.Rename(path+".head", other)
				if err := os.Symlink(other, path+".head"); err != nil {
					t.Fatal(err)
				}
			},
			args: []string{"audit", "verify"}, wantCode: ExitBadState,
			wantErr: "PATH.head: unsafe path: is a symbolic link",
		},
		{
			name: "torn tail",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				data, _ := os.ReadFile(path)
				writeAuditFile(t, path, string(data[:len(data)-10]))
			},
			args:     []string{"audit", "verify"},
			wantCode: ExitAuditBroken,
			wantOut:  "broken at line 3: the last line has no newline at the end: the file was truncated, or a write was interrupted\n",
			wantErr:  "clawwarden: hint: line 1 verified; line 2 or line 3 was changed, or lines between them were removed or inserted (line 3 does not follow from line 2)\n",
		},
		{
			name: "other file",
			setup: func(t *testing.T, path string) {
				appendRecords(t, filepath.Join(filepath.Dir(path), "copy.jsonl"), three[0])
			},
			args: []string{"audit", "verify", "--file", "DIR/copy.jsonl"}, wantOut: "ok, 1 record\nhead HEAD\nhead file ok\n",
		},
		{
			name: "group-writable log",
			setup: func(t *testing.T, path string) {
				appendRecords(t, path, three...)
				os.Chmod(path, 0o620)
			},
			args: []string{"audit", "verify"}, wantCode: ExitBadState,
			wantErr: "group or other writable",
		},
		{
			name: "symlinked log",
			setup: func(t *testing.T, path string) {
				other := filepath.Join(filepath.Dir(path), "real.jsonl")
				appendRecords(t, other, three...)
				if err := os.Symlink(other, path); err != nil {
					t.Fatal(err)
				}
			},
			args: []string{"audit", "verify"}, wantCode: ExitBadState,
			wantErr: "symbolic link",
		},
		{name: "extra argument", args: []string{"audit", "verify", "now"}, wantCode: ExitUsage},
		{name: "unknown flag", args: []string{"audit", "verify", "--fix"}, wantCode: ExitUsage},
		{name: "bad anchor", args: []string{"audit", "verify", "--anchor", "xyz"}, wantCode: ExitUsage, wantErr: "--anchor must be"},
		{
			name: "anchor of a deleted log", args: []string{"audit", "verify", "--anchor", strings.Repeat("ab", 32)},
			wantCode: ExitAuditBroken, wantOut: "no audit log yet at PATH\n", wantErr: "the log was deleted or moved",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, path := auditEnv(t)
			dir := filepath.Dir(path)
			if tt.setup != nil {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				tt.setup(t, path)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			code, out, errOut := run(env, args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			want := strings.ReplaceAll(tt.wantOut, "PATH", path)
			if strings.Contains(want, "HEAD") {
				file := path
				if i := len(args) - 1; args[i-1] == "--file" {
					file = args[i]
				}
				ls := fileLines(t, file)
				want = strings.ReplaceAll(want, "HEAD", sha(ls[len(ls)-1]))
			}
			if tt.wantOut != "" && out != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
			}
			if w := strings.ReplaceAll(tt.wantErr, "PATH", path); !strings.Contains(errOut, w) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", errOut, w)
			}
			if tt.wantCode == ExitOK && tt.wantErr == "" && errOut != "" {
				t.Errorf("stderr on success: %s", errOut)
			}
		})
	}
}

func writeAuditFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAuditVerifyJSON(t *testing.T) {
	t.Parallel()
	env, path := auditEnv(t)
	appendRecords(t, path, audit.Record{Event: "request"}, audit.Record{Event: "result"})

	type result struct {
		Path     string `json:"path"`
		Exists   bool   `json:"exists"`
		OK       bool   `json:"ok"`
		Records  int    `json:"records"`
		Legacy   int    `json:"legacy"`
		Head     string `json:"head"`
		HeadFile string `json:"head_file"`
		Broken   *struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"broken"`
		AnchorLine int `json:"anchor_line"`
	}
	decode := func(out string) result {
		t.Helper()
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return r
	}

	code, out, _ := run(env, "audit", "verify", "--json")
	got := decode(out)
	ls := fileLines(t, path)
	if code != 0 || !got.OK || !got.Exists || got.Records != 2 || got.Head != sha(ls[1]) || got.HeadFile != "ok" || got.Broken != nil || got.Path != path {
		t.Errorf("exit %d, %+v", code, got)
	}
	if !strings.Contains(out, `"broken": null`) {
		t.Errorf("broken not null in\n%s", out)
	}

	// The head noted now anchors the first two lines after more appends.
	anchor := got.Head
	appendRecords(t, path, audit.Record{Event: "session"})
	code, out, _ = run(env, "audit", "verify", "--json", "--anchor", anchor)
	if got := decode(out); code != 0 || !got.OK || got.AnchorLine != 2 || got.Records != 3 {
		t.Errorf("anchored: exit %d, %+v", code, got)
	}
	code, out, _ = run(env, "audit", "verify", "--anchor", strings.ToUpper(anchor))
	if code != 0 || !strings.Contains(out, "anchor found at line 2: nothing up to it has changed\n") {
		t.Errorf("anchored, text: exit %d\n%s", code, out)
	}

	// A rewrite that recomputes the hashes verifies, once the head file is
	// gone too, but loses the anchor.
	var buf bytes.Buffer
	prev := strings.Repeat("0", 64)
	for _, line := range fileLines(t, path) {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		r.Prev = prev
		r.Detail = "rewritten"
		data, _ := json.Marshal(r)
		buf.Write(data)
		buf.WriteByte('\n')
		prev = sha(string(data))
	}
	writeAuditFile(t, path, buf.String())
	code, out, _ = run(env, "audit", "verify", "--json")
	if got := decode(out); code != ExitAuditBroken || got.OK || got.HeadFile != "mismatch" || got.Broken == nil || got.Broken.Line != 3 || got.Head != "" {
		t.Errorf("rewritten, head file kept: exit %d, %+v", code, got)
	}
	os.Remove(path + ".head")
	code, out, errOut := run(env, "audit", "verify", "--anchor", anchor)
	if code != ExitAuditBroken || !strings.Contains(out, "ok, 3 records\n") || !strings.Contains(out, "anchor "+anchor+" not found\n") ||
		!strings.Contains(errOut, "does not contain the anchor") {
		t.Errorf("rewritten: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	code, out, errOut = run(env, "audit", "verify", "--json", "--anchor", anchor)
	if got := decode(out); code != ExitAuditBroken || got.OK || got.AnchorLine != 0 || got.HeadFile != "missing" {
		t.Errorf("rewritten, JSON: exit %d, %+v", code, got)
	}
	if strings.Contains(errOut, "warning") {
		t.Errorf("warning with --json: %s", errOut)
	}

	// Broken.
	ls = fileLines(t, path)
	writeAuditFile(t, path, ls[0]+"\n"+ls[2]+"\n")
	code, out, _ = run(env, "audit", "verify", "--json")
	if got := decode(out); code != ExitAuditBroken || got.OK || got.Broken == nil || got.Broken.Line != 2 || got.Head != "" || got.Records != 1 || got.HeadFile != "missing" {
		t.Errorf("broken: exit %d, %+v", code, got)
	}

	// Broken before the head file's line: the head is not compared.
	appendRecords(t, filepath.Join(filepath.Dir(path), "new.jsonl"), audit.Record{Event: "request"}, audit.Record{Event: "result"})
	os.Rename(filepath.Join(filepath.Dir(path), "new.jsonl.head"), path+".head")
	code, out, _ = run(env, "audit", "verify", "--json")
	if got := decode(out); code != ExitAuditBroken || got.Broken == nil || got.Broken.Line != 2 || got.HeadFile != "unchecked" {
		t.Errorf("broken, head file unchecked: exit %d, %+v", code, got)
	}

	// The log deleted, its head file left.
	os.Remove(path)
	code, out, _ = run(env, "audit", "verify", "--json")
	if got := decode(out); code != ExitAuditBroken || got.OK || got.Exists || got.HeadFile != "mismatch" || got.Broken == nil || got.Broken.Line != 1 {
		t.Errorf("deleted: exit %d, %+v", code, got)
	}
	os.Remove(path + ".head")
	code, out, _ = run(env, "audit", "verify", "--json")
	if got := decode(out); code != 0 || !got.OK || got.Exists || got.HeadFile != "missing" || got.Broken != nil {
		t.Errorf("no log: exit %d, %+v", code, got)
	}
}

func TestAuditTailCommand(t *testing.T) {
	t.Parallel()
	env, path := auditEnv(t)
	code, out, _ := run(env, "audit", "tail")
	if code != 0 || out != "no audit log yet at "+path+"\n" {
		t.Errorf("no log: exit %d, %q", code, out)
	}
	code, out, _ = run(env, "audit", "tail", "--json")
	if code != 0 || out != "[]\n" {
		t.Errorf("no log, JSON: exit %d, %q", code, out)
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	writeAuditFile(t, path, legacyAuditLine+"\n")
	at := time.Date(2025, 6, 1, 12, 30, 45, 123456789, time.UTC)
	zero := 0
	appendRecords(t, path,
		audit.Record{Time: at, Event: "request", Argv: []string{"/usr/bin/apt-get", "install", "-y", "it's"}, SessionID: "task-1", Reason: "install the web server", RequestID: "r1"},
		audit.Record{Time: at, Event: "policy", Decision: "allow", Rule: "allow_exact[0]", RequestID: "r1"},
		audit.Record{Time: at, Event: "result", Decision: "ran", ExitCode: &zero, Argv: []string{"/bin/echo", "\x1b[2J\nfake line", "\u202eevil"}, RequestID: "r1"},
	)
	code, out, errOut := run(env, "audit", "tail")
	want := `[legacy] ` + legacyAuditLine + `
2025-06-01T12:30:45.123Z  request  -  /usr/bin/apt-get install -y 'it'"'"'s'  session=task-1  reason='install the web server'  request=r1
2025-06-01T12:30:45.123Z  policy  allow  rule='allow_exact[0]'  request=r1
2025-06-01T12:30:45.123Z  result  ran  exit=0  /bin/echo $'\x1b[2J\nfake line' $'\u202eevil'  request=r1
`
	if code != 0 || out != want {
		t.Errorf("exit %d, stderr %q\nstdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Errorf("control characters reached the terminal: %q", out)
	}

	code, out, _ = run(env, "audit", "tail", "-n", "2")
	if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "policy  allow") {
		t.Errorf("-n 2: exit %d\n%s", code, out)
	}

	// A torn tail shows as invalid, with its offset.
	data, _ := os.ReadFile(path)
	writeAuditFile(t, path, string(data[:len(data)-20]))
	code, out, _ = run(env, "audit", "tail", "-n", "1")
	if m := regexp.MustCompile(`^\[invalid at byte \d+: not a valid JSON object: .*\] \{"prev":"[0-9a-f]{64}",.*\\u001b`).MatchString(out); code != 0 || !m {
		t.Errorf("torn tail: exit %d\n%s", code, out)
	}

	code, out, _ = run(env, "audit", "tail", "--json", "-n", "3")
	var arr []map[string]any
	if err := json.Unmarshal([]byte(out), &arr); err != nil || code != 0 {
		t.Fatalf("JSON: exit %d, %v\n%s", code, err, out)
	}
	if len(arr) != 3 || arr[0]["event"] != "request" || arr[0]["prev"] == nil || arr[1]["rule"] != "allow_exact[0]" || arr[2]["invalid"] == nil || arr[2]["offset"] == nil {
		t.Errorf("JSON entries: %v", arr)
	}
	code, out, _ = run(env, "audit", "tail", "--json", "-n", "100")
	arr = nil
	if err := json.Unmarshal([]byte(out), &arr); err != nil || code != 0 || len(arr) != 4 || arr[0]["command"] != "id" {
		t.Errorf("JSON with legacy: exit %d, %v, %v", code, err, arr)
	}

	for _, args := range [][]string{{"-n", "0"}, {"-n", "-3"}, {"-n", "x"}, {"extra"}} {
		if code, _, _ := run(env, append([]string{"audit", "tail"}, args...)...); code != ExitUsage {
			t.Errorf("audit tail %q: exit %d, want %d", args, code, ExitUsage)
		}
	}

	os.Chmod(path, 0o606)
	if code, _, errOut := run(env, "audit", "tail"); code != ExitBadState {
		t.Errorf("other-writable log: exit %d, want %d: %s", code, ExitBadState, errOut)
	}
}
