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

func TestGrantFindExactArgvAndSession(t *testing.T) {
	st := State{Version: Version}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st.Grant(Approval{Argv: []string{"/usr/bin/systemctl", "restart", "nginx"}, SessionID: "t1", ApprovedAt: now, Via: "terminal"})
	tests := []struct {
		argv []string
		sid  string
		want bool
	}{
		{[]string{"/usr/bin/systemctl", "restart", "nginx"}, "t1", true},
		{[]string{"/usr/bin/systemctl", "restart", "nginx", "--now"}, "t1", false},
		{[]string{"/usr/bin/systemctl", "restart"}, "t1", false},
		{[]string{"/usr/bin/systemctl", "restart", "nginx"}, "t2", false},
		{[]string{"/usr/bin/systemctl", "restart", "nginx"}, "", false},
		{[]string{"systemctl", "restart", "nginx"}, "t1", false},
	}
	for _, tt := range tests {
		if _, got := st.Find(tt.argv, nil, tt.sid); got != tt.want {
			t.Errorf("Find(%q, %q) = %v, want %v", tt.argv, tt.sid, got, tt.want)
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
		st.Grant(Approval{Argv: []string{"/usr/bin/id"}, ApprovedAt: t0})
		st.Touch(t0)
		if got := st.Expire(t0.Add(tt.idle)); got != tt.want {
			t.Errorf("idle %v: Expire = %v, want %v", tt.idle, got, tt.want)
		}
		if _, found := st.Find([]string{"/usr/bin/id"}, nil, ""); found == tt.want {
			t.Errorf("idle %v: approval still found = %v", tt.idle, found)
		}
	}
}

func TestStoreRoundTripWithInjectedClock(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := &Store{Path: filepath.Join(dir, "security", "root-session-state.json"), Now: func() time.Time { return now }}
	err := s.Update(func(st *State, at time.Time) error {
		st.Grant(Approval{Argv: []string{"/usr/bin/id"}, SessionID: "a", ApprovedAt: at, Via: "terminal"})
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
		"truncated":       `{"version":1,"approvals":[{"argv":["/usr/bin/id"]`,
		"not json":        `hello`,
		"wrong type":      `{"version":1,"approvals":{}}`,
		"future version":  `{"version":2,"approvals":[]}`,
		"relative argv":   `{"version":1,"approvals":[{"argv":["id"],"approved_at":"2026-01-01T00:00:00Z"}]}`,
		"missing time":    `{"version":1,"approvals":[{"argv":["/usr/bin/id"]}]}`,
		"empty argv list": `{"version":1,"approvals":[{"argv":[],"approved_at":"2026-01-01T00:00:00Z"}]}`,
	} {
		if _, err := Parse([]byte(in), "state.json"); !errors.Is(err, safefile.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// The original skill's state carries no approvals over.
	st, err := Parse([]byte(`{"elevated": true, "last_activity": 1700000000.5}`), "state.json")
	if err != nil || len(st.Approvals) != 0 {
		t.Errorf("legacy state: %+v, %v", st, err)
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
				st.Grant(Approval{Argv: []string{"/usr/bin/id", strconv.Itoa(i), strings.Repeat("x", 100)}, ApprovedAt: now, Via: fmt.Sprintf("gen-%d", gen)})
			}
			return nil
		})
	}
}
