package session

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"errors"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func key(sid string, argv ...string) Key {
	return Key{Argv: argv, SessionID: sid, Cwd: "/srv", BinarySHA256: sha}
}

func TestGrantFindExactKey(t *testing.T) {
	st := State{Version: Version}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st.Grant(Approval{Key: key("t1", "/usr/bin/systemctl", "restart", "nginx"), ApprovedAt: now, Via: "terminal"})
	st.Touch(now)
	other := func(edit func(*Key)) Key {
		k := key("t1", "/usr/bin/systemctl", "restart", "nginx")
		edit(&k)
		return k
	}
	tests := []struct {
		name string
		k    Key
		want bool
	}{
		{"same", key("t1", "/usr/bin/systemctl", "restart", "nginx"), true},
		{"extra argument", key("t1", "/usr/bin/systemctl", "restart", "nginx", "--now"), false},
		{"fewer arguments", key("t1", "/usr/bin/systemctl", "restart"), false},
		{"other session", key("t2", "/usr/bin/systemctl", "restart", "nginx"), false},
		{"no session", key("", "/usr/bin/systemctl", "restart", "nginx"), false},
		{"bare name", key("t1", "systemctl", "restart", "nginx"), false},
		{"other directory", other(func(k *Key) { k.Cwd = "/tmp" }), false},
		{"replaced binary", other(func(k *Key) { k.BinarySHA256 = strings.Repeat("f", 64) }), false},
		{"sudo options", other(func(k *Key) { k.SudoArgs = []string{"-B"} }), false},
		{"sudoedit", other(func(k *Key) { k.Edit = true }), false},
	}
	for _, tt := range tests {
		if _, got := st.Find(tt.k, now); got != tt.want {
			t.Errorf("%s: Find = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIdleExpiry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		idle time.Duration
		want bool
	}{{29 * time.Minute, false}, {30 * time.Minute, false}, {30*time.Minute + time.Second, true}, {2 * time.Hour, true}} {
		st := State{Version: Version}
		st.Grant(Approval{Key: key("", "/usr/bin/id"), ApprovedAt: t0})
		st.Touch(t0)
		if _, found := st.Find(key("", "/usr/bin/id"), t0.Add(tt.idle)); found == tt.want {
			t.Errorf("idle %v: approval found = %v", tt.idle, found)
		}
		if got := st.Expire(t0.Add(tt.idle)); got != tt.want {
			t.Errorf("idle %v: Expire = %v, want %v", tt.idle, got, tt.want)
		}
	}
}

// An approval with no last activity, or one in the future, is void: the
// state file is the agent's to write, and no guard writes either.
func TestMissingOrFutureLastActivityFailsClosed(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for name, last := range map[string]time.Time{"missing": {}, "future": now.Add(time.Minute), "far future": now.AddDate(100, 0, 0)} {
		st := State{Version: Version, LastActivity: last}
		st.Grant(Approval{Key: key("", "/usr/bin/id"), ApprovedAt: now})
		if _, found := st.Find(key("", "/usr/bin/id"), now); found {
			t.Errorf("%s last activity: approval found", name)
		}
		if !st.Expire(now) {
			t.Errorf("%s last activity: not expired", name)
		}
		if st.IdleRemaining(now) != 0 {
			t.Errorf("%s last activity: idle remaining %v", name, st.IdleRemaining(now))
		}
	}
}

func TestStoreRoundTripWithInjectedClock(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := &Store{Path: filepath.Join(dir, "security", "root-session-state.json"), Now: func() time.Time { return now }}
	err := s.Update(func(st *State, at time.Time) error {
		st.Grant(Approval{Key: key("a", "/usr/bin/id"), ApprovedAt: at, Via: "terminal"})
		st.Touch(at)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode: %v %v", fi, err)
	}
	if di, _ := os.Stat(filepath.Dir(s.Path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %v", di.Mode())
	}
	now = now.Add(31 * time.Minute)
	var expired bool
	s.Update(func(st *State, at time.Time) error { expired = st.Expire(at); return nil })
	if !expired {
		t.Fatal("state did not expire after 31 minutes")
	}
	st, err := s.Load()
	if err != nil || len(st.Approvals) != 0 || st.Elevated {
		t.Fatalf("after expiry: %+v %v", st, err)
	}
}

func TestParseRejectsCorruptState(t *testing.T) {
	for name, in := range map[string]string{
		"truncated":       `{"version":2,"approvals":[{"argv":["/usr/bin/id"]`,
		"not json":        `hello`,
		"wrong type":      `{"version":2,"approvals":{}}`,
		"future version":  `{"version":3,"approvals":[]}`,
		"relative argv":   `{"version":2,"approvals":[{"argv":["id"],"cwd":"/","binary_sha256":"` + sha + `","approved_at":"2026-01-01T00:00:00Z"}]}`,
		"missing time":    `{"version":2,"approvals":[{"argv":["/usr/bin/id"],"cwd":"/","binary_sha256":"` + sha + `"}]}`,
		"empty argv list": `{"version":2,"approvals":[{"argv":[],"cwd":"/","binary_sha256":"` + sha + `","approved_at":"2026-01-01T00:00:00Z"}]}`,
		"no cwd":          `{"version":2,"approvals":[{"argv":["/usr/bin/id"],"binary_sha256":"` + sha + `","approved_at":"2026-01-01T00:00:00Z"}]}`,
		"no binary hash":  `{"version":2,"approvals":[{"argv":["/usr/bin/id"],"cwd":"/","approved_at":"2026-01-01T00:00:00Z"}]}`,
	} {
		if _, err := Parse([]byte(in), "state.json"); !errors.Is(err, safefile.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// The original skill's state, and version 1 (approvals not bound to a
	// directory and a binary), carry no approvals over.
	for _, in := range []string{`{"elevated": true, "last_activity": 1700000000.5}`,
		`{"version":1,"elevated":true,"last_activity":"2026-01-01T00:00:00Z","approvals":[{"argv":["/usr/bin/id"],"approved_at":"2026-01-01T00:00:00Z","via":"terminal"}]}`} {
		st, err := Parse([]byte(in), "state.json")
		if err != nil || len(st.Approvals) != 0 {
			t.Errorf("older state %s: %+v, %v", in, st, err)
		}
	}
}

func TestResetKeepsCorruptFileAside(t *testing.T) {
	dir := t.TempDir()
	s := &Store{Path: filepath.Join(dir, "root-session-state.json")}
	os.WriteFile(s.Path, []byte(`{"version":1,"appro`), 0o600)
	aside, err := s.Reset()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(aside); string(got) != `{"version":1,"appro` {
		t.Errorf("corrupt content not kept: %q", got)
	}
	if st, err := s.Load(); err != nil || len(st.Approvals) != 0 {
		t.Errorf("after reset: %+v %v", st, err)
	}
}

// TestKilledWriterLeavesPreviousState kills a process that rewrites the
// state as fast as it can with SIGKILL at varying moments, and checks after
// each kill that the state is still a valid one the writer had completed.
func TestKilledWriterLeavesPreviousState(t *testing.T) {
	if os.Getenv("CW_SESSION_WRITER") != "" {
		writerLoop(os.Getenv("CW_SESSION_WRITER"))
		return
	}
	path := filepath.Join(t.TempDir(), "root-session-state.json")
	lastSeen := -1
	for round := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterLeavesPreviousState$")
		cmd.Env = append(os.Environ(), "CW_SESSION_WRITER="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 16)
		out.Read(buf) // the writer says "go" once it is in its loop
		time.Sleep(time.Duration(1+round*3) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		st, err := (&Store{Path: path}).Load()
		if err != nil {
			t.Fatalf("round %d: state unreadable after SIGKILL: %v", round, err)
		}
		n := len(st.Approvals)
		if n == 0 {
			continue
		}
		gen, _ := strconv.Atoi(strings.TrimPrefix(st.Approvals[n-1].Via, "gen-"))
		for i, a := range st.Approvals {
			if a.Via != fmt.Sprintf("gen-%d", gen) {
				t.Fatalf("round %d: approval %d from generation %q mixed into generation %d", round, i, a.Via, gen)
			}
		}
		if gen < lastSeen {
			t.Fatalf("round %d: state went back from generation %d to %d", round, lastSeen, gen)
		}
		lastSeen = gen
	}
	if lastSeen < 0 {
		t.Fatal("the writer never completed a write")
	}
}

// writerLoop rewrites the state with 200 approvals per generation forever.
func writerLoop(path string) {
	s := &Store{Path: path}
	fmt.Println("go")
	for gen := 0; ; gen++ {
		s.Update(func(st *State, now time.Time) error {
			// Keep the generation counter monotonic across restarts.
			if n := len(st.Approvals); n > 0 {
				prev, _ := strconv.Atoi(strings.TrimPrefix(st.Approvals[n-1].Via, "gen-"))
				if prev >= gen {
					gen = prev + 1
				}
			}
			st.Drop()
			for i := range 200 {
				st.Grant(Approval{Key: key("", "/usr/bin/id", strconv.Itoa(i), strings.Repeat("x", 100)), ApprovedAt: now, Via: fmt.Sprintf("gen-%d", gen)})
			}
			return nil
		})
	}
}
