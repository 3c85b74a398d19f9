package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// journaldChildEnv makes TestJournaldChild run: inside the private mount
// namespace TestJournald sets up.
const journaldChildEnv = "CLAWWARDEN_TEST_JOURNALD_CHILD"

// TestJournald sends records to a real systemd-journald over its native
// socket and reads them back with journalctl: every field, the line whole.
// journald runs in a private mount namespace with its own /run/systemd and
// /run/log, so the host's journal (if any) is untouched.
func TestJournald(t *testing.T) {
	if os.Getuid() != 0 {
		testenv.Skip(t, "a private mount namespace for journald needs root")
	}
	for _, tool := range []string{"unshare", "journalctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Skip(t, "%s missing (scripts/test installs util-linux and systemd)", tool)
		}
	}
	if _, err := os.Stat(journaldPath); err != nil {
		testenv.Skip(t, "systemd-journald missing (Debian package systemd; scripts/test installs it)")
	}
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
		`mkdir -p /run/systemd /run/log && mount -t tmpfs tmpfs /run/systemd && mount -t tmpfs tmpfs /run/log && exec "$0" -test.run='^TestJournaldChild$' -test.v`, self)
	cmd.Env = append(os.Environ(), journaldChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child in its mount namespace failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestJournaldChild")) {
		t.Fatalf("the child did not run:\n%s", out)
	}

	local := lines(t, filepath.Join(dir, "security", "privileged-audit.jsonl"))
	data, err := os.ReadFile(filepath.Join(dir, "journal.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("journalctl -o json: %v\n%s", err, l)
		}
		entries = append(entries, e)
	}
	if len(entries) != len(local) {
		t.Fatalf("journald has %d entries, the local log %d:\n%s", len(entries), len(local), data)
	}
	t.Logf("journald's entry of the first record: %s", strings.SplitN(string(data), "\n", 2)[0])
	prev := strings.Repeat("0", 64)
	wantArgv := []string{quote.Argv(hostile), quote.Argv(hostile), "/bin/sh"}
	for i, e := range entries {
		sum := sha256.Sum256([]byte(local[i]))
		hash := hex.EncodeToString(sum[:])
		want := map[string]string{
			"SYSLOG_IDENTIFIER": "clawwarden-root",
			"SYSLOG_FACILITY":   "10",
			"CLAWWARDEN_RECORD": local[i],
			"CLAWWARDEN_HASH":   hash,
			"CLAWWARDEN_PREV":   prev,
			"CLAWWARDEN_ARGV":   wantArgv[i],
			"_UID":              "0",
			"_TRANSPORT":        "journal",
		}
		for k, v := range want {
			if got, _ := e[k].(string); got != v {
				t.Errorf("entry %d: %s = %#v, want %q", i, k, e[k], v)
			}
		}
		prev = hash
	}
	if p, _ := entries[2]["PRIORITY"].(string); p != "4" {
		t.Errorf("the refusal has PRIORITY %v, want 4 (warning)", entries[2]["PRIORITY"])
	}
	if d, _ := entries[0]["CLAWWARDEN_DECISION"]; d != nil {
		t.Errorf("the agent's argv added a field: CLAWWARDEN_DECISION=%v", d)
	}
}

const journaldPath = "/lib/systemd/systemd-journald"

// TestJournaldChild is TestJournald's helper process: it starts journald on
// the namespace's own /run/systemd/journal/socket, appends records to a log
// whose Forwarder uses the default (the host's) sockets, and writes what
// journalctl shows.
func TestJournaldChild(t *testing.T) {
	dir := os.Getenv(journaldChildEnv)
	if dir == "" {
		t.Skip("TestJournald's helper process")
	}
	jd := exec.Command(journaldPath)
	var jout bytes.Buffer
	jd.Stdout, jd.Stderr = &jout, &jout
	if err := jd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		jd.Process.Kill()
		jd.Wait()
		if t.Failed() {
			t.Logf("systemd-journald said:\n%s", jout.String())
		}
	}()
	testenv.Eventually(t, "journald's socket", func() bool {
		fi, err := os.Stat(JournalSocket)
		return err == nil && fi.Mode().Type() == os.ModeSocket
	})

	var warns []error
	l := &Log{Path: filepath.Join(dir, "security", "privileged-audit.jsonl"), Forward: &Forwarder{AppName: "clawwarden-root"},
		Warn: func(err error) { warns = append(warns, err) }}
	code := 0
	if err := l.Append(Record{Event: "request", Argv: hostile, RequestID: "r-9", Reason: "the agent's words"},
		Record{Event: "result", Decision: "ran", Argv: hostile, ExitCode: &code, RequestID: "r-9"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(Record{Event: "refused", Decision: "refused", Argv: []string{"/bin/sh"}, RequestID: "r-10"}); err != nil {
		t.Fatal(err)
	}
	if len(warns) > 0 {
		t.Fatal(warns)
	}
	var out []byte
	testenv.Eventually(t, "journalctl to show the records", func() bool {
		var err error
		out, err = exec.Command("journalctl", "-D", "/run/log/journal", "--no-pager", "-o", "json",
			"SYSLOG_IDENTIFIER=clawwarden-root", "_PID="+strconv.Itoa(os.Getpid())).Output()
		return err == nil && bytes.Count(out, []byte("\n")) == 3
	})
	if err := os.WriteFile(filepath.Join(dir, "journal.json"), out, 0o600); err != nil {
		t.Fatal(err)
	}
}
