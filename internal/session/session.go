// Package session keeps the privileged-session state: which exact commands a
// person approved, for which task session id, and when the last privileged
// command ran.
//
// The state lives in ~/.openclaw/security/root-session-state.json, the file
// the original skill used. Every change is a locked read-modify-write through
// package safefile, so concurrent guards never lose an update and a crash
// leaves the previous valid state.
//
// # Rules
//
//   - An approval is for one exact argv (argv[0] as resolved to an absolute
//     path) and one session id; an extra argument needs a new approval.
//   - After [IdleTimeout] without privileged activity the whole state
//     expires: every approval is dropped and the next command needs a person
//     again.
//   - A state file that cannot be parsed is never guessed at: callers get an
//     error wrapping safefile.ErrInvalid and refuse (fail closed). A state
//     file in the original skill's format, which had no approvals list,
//     carries no approvals over.
package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// IdleTimeout is how long approvals survive without privileged activity.
const IdleTimeout = 30 * time.Minute

// Version is the state format version written by this package.
const Version = 1

// State is the content of the session state file.
type State struct {
	Version      int        `json:"version"`
	Elevated     bool       `json:"elevated"`
	LastActivity time.Time  `json:"last_activity,omitzero"`
	Approvals    []Approval `json:"approvals"`
}

// Approval is a person's approval of one exact command.
type Approval struct {
	Argv       []string  `json:"argv"`
	SudoArgs   []string  `json:"sudo_args,omitempty"` // sudo options approved with it (shim)
	SessionID  string    `json:"session_id,omitempty"`
	ApprovedAt time.Time `json:"approved_at"`
	Via        string    `json:"via"` // "terminal" or "pending:<request id>"
	RequestID  string    `json:"request_id,omitempty"`
}

// Store reads and updates the state file.
type Store struct {
	Path string
	Now  func() time.Time // injectable clock; time.Now when nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Parse decodes a state file. Empty or missing content is the zero state.
func Parse(data []byte, source string) (State, error) {
	var st State
	if len(bytes.TrimSpace(data)) == 0 {
		return State{Version: Version}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return State{}, fmt.Errorf("%s: %w: not valid JSON (%v); reset it with 'clawwarden session drop'", source, safefile.ErrInvalid, err)
	}
	if _, ok := raw["version"]; !ok {
		// The original skill's format: no approvals to carry over.
		return State{Version: Version}, nil
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return State{}, fmt.Errorf("%s: %w: %v; reset it with 'clawwarden session drop'", source, safefile.ErrInvalid, err)
	}
	if st.Version != Version {
		return State{}, fmt.Errorf("%s: %w: unsupported state version %d", source, safefile.ErrInvalid, st.Version)
	}
	for i, a := range st.Approvals {
		if len(a.Argv) == 0 || !filepath.IsAbs(a.Argv[0]) || a.ApprovedAt.IsZero() {
			return State{}, fmt.Errorf("%s: %w: approvals[%d] is incomplete; reset it with 'clawwarden session drop'", source, safefile.ErrInvalid, i)
		}
	}
	return st, nil
}

// Load reads the current state without locking. A missing file is the zero
// state.
func (s *Store) Load() (State, error) {
	data, err := safefile.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{Version: Version}, nil
	}
	if err != nil {
		return State{}, err
	}
	return Parse(data, s.Path)
}

// Update applies fn to the state under the file lock and writes the result
// atomically. fn decides whether to expire the state (see [State.Expire]).
// If fn returns an error nothing is written.
func (s *Store) Update(fn func(st *State, now time.Time) error) error {
	if err := safefile.EnsureDir(filepath.Dir(s.Path)); err != nil {
		return err
	}
	return safefile.Update(s.Path, func(old []byte) ([]byte, error) {
		st, err := Parse(old, s.Path)
		if err != nil {
			return nil, err
		}
		now := s.now()
		if err := fn(&st, now); err != nil {
			return nil, err
		}
		st.Version = Version
		st.Elevated = len(st.Approvals) > 0
		if st.Approvals == nil {
			st.Approvals = []Approval{}
		}
		out, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(out, '\n'), nil
	})
}

// Reset replaces the state with an empty one, keeping an unreadable old file
// aside as "<path>.corrupt-<unix time>" so nothing is lost. It reports whether
// a corrupt file was moved aside.
func (s *Store) Reset() (movedAside string, err error) {
	if err := safefile.EnsureDir(filepath.Dir(s.Path)); err != nil {
		return "", err
	}
	lock, err := safefile.LockFor(s.Path)
	if err != nil {
		return "", err
	}
	defer lock.Unlock()
	data, rerr := safefile.ReadFile(s.Path)
	if rerr == nil {
		if _, perr := Parse(data, s.Path); perr != nil {
			movedAside = fmt.Sprintf("%s.corrupt-%d", s.Path, s.now().Unix())
			if err := safefile.WriteFile(movedAside, data); err != nil {
				return "", err
			}
		}
	} else if !errors.Is(rerr, fs.ErrNotExist) && !errors.Is(rerr, safefile.ErrInvalid) {
		return "", rerr
	}
	empty := State{Version: Version, Approvals: []Approval{}}
	out, _ := json.MarshalIndent(empty, "", "  ")
	return movedAside, safefile.WriteFile(s.Path, append(out, '\n'))
}

// Expired reports whether the idle timeout has passed at now.
func (st *State) Expired(now time.Time) bool {
	return !st.LastActivity.IsZero() && now.Sub(st.LastActivity) > IdleTimeout
}

// Expire drops every approval when the idle timeout has passed, and reports
// whether it did so.
func (st *State) Expire(now time.Time) bool {
	if !st.Expired(now) || len(st.Approvals) == 0 {
		return false
	}
	st.Approvals = nil
	st.Elevated = false
	return true
}

// Find returns the approval for exactly argv with exactly sudoArgs and
// sessionID, if any.
func (st *State) Find(argv, sudoArgs []string, sessionID string) (Approval, bool) {
	for _, a := range st.Approvals {
		if a.SessionID == sessionID && slices.Equal(a.Argv, argv) && slices.Equal(a.SudoArgs, sudoArgs) {
			return a, true
		}
	}
	return Approval{}, false
}

// Grant records an approval, replacing an equal one.
func (st *State) Grant(a Approval) {
	st.Approvals = slices.DeleteFunc(st.Approvals, func(b Approval) bool {
		return a.SessionID == b.SessionID && slices.Equal(a.Argv, b.Argv) && slices.Equal(a.SudoArgs, b.SudoArgs)
	})
	st.Approvals = append(st.Approvals, a)
	st.Elevated = true
}

// Drop removes every approval.
func (st *State) Drop() {
	st.Approvals = nil
	st.Elevated = false
}

// Touch records privileged activity at now.
func (st *State) Touch(now time.Time) { st.LastActivity = now.UTC() }

// IdleRemaining is the time left before the state expires, zero when there
// are no approvals or it has expired.
func (st *State) IdleRemaining(now time.Time) time.Duration {
	if len(st.Approvals) == 0 || st.LastActivity.IsZero() {
		return 0
	}
	left := IdleTimeout - now.Sub(st.LastActivity)
	return max(left, 0)
}
