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
//     path), with the same sudo options, in one working directory, of a
//     binary with one SHA-256, for one session id: an extra argument, another
//     directory or a replaced binary needs a new approval.
//   - Only the person keeps an approval (they are asked when the agent
//     requests it); otherwise it is dropped after its command.
//   - After [IdleTimeout] without privileged activity the whole state
//     expires: every approval is dropped and the next command needs a person
//     again. A state with approvals but no last activity, or one in the
//     future, is expired too (fail closed: the file is the agent's to edit).
//   - A state file that cannot be parsed is never guessed at: callers get an
//     error wrapping safefile.ErrInvalid and refuse (fail closed). A state
//     file in the original skill's format, which had no approvals list, or
//     in version 1 of this format, which did not bind directory and binary,
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
const Version = 2

// State is the content of the session state file.
type State struct {
	Version      int        `json:"version"`
	Elevated     bool       `json:"elevated"`
	LastActivity time.Time  `json:"last_activity,omitzero"`
	Approvals    []Approval `json:"approvals"`
}

// Key is what an approval is bound to: the same key, and only it, finds it.
type Key struct {
	Argv         []string `json:"argv"`                // argv[0] resolved; for sudoedit, the files
	SudoArgs     []string `json:"sudo_args,omitempty"` // sudo options approved with it (shim)
	Edit         bool     `json:"edit,omitempty"`      // sudoedit
	SessionID    string   `json:"session_id,omitempty"`
	Cwd          string   `json:"cwd"`
	BinarySHA256 string   `json:"binary_sha256,omitempty"`
}

// Equal reports whether k and o name the same command.
func (k Key) Equal(o Key) bool {
	return k.SessionID == o.SessionID && k.Cwd == o.Cwd && k.BinarySHA256 == o.BinarySHA256 &&
		k.Edit == o.Edit && slices.Equal(k.Argv, o.Argv) && slices.Equal(k.SudoArgs, o.SudoArgs)
}

// Approval is a person's approval of one exact command, kept for the
// session by the person's choice.
type Approval struct {
	Key
	// NoPassword records that sudo ran the command with no password when it
	// was approved (NOPASSWD): the kept approval can run without a terminal.
	NoPassword bool      `json:"no_password,omitempty"`
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
	if v, ok := raw["version"]; !ok || string(bytes.TrimSpace(v)) == "1" {
		// The original skill's format, or version 1 whose approvals were
		// not bound to a directory and a binary: none carried over.
		return State{Version: Version}, nil
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return State{}, fmt.Errorf("%s: %w: %v; reset it with 'clawwarden session drop'", source, safefile.ErrInvalid, err)
	}
	if st.Version != Version {
		return State{}, fmt.Errorf("%s: %w: unsupported state version %d", source, safefile.ErrInvalid, st.Version)
	}
	for i, a := range st.Approvals {
		if len(a.Argv) == 0 || !filepath.IsAbs(a.Argv[0]) || a.ApprovedAt.IsZero() || !filepath.IsAbs(a.Cwd) ||
			(!a.Edit && len(a.BinarySHA256) != 64) {
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

// Expired reports whether the state's approvals are void at now: the idle
// timeout has passed, or there are approvals with no last activity or a
// last activity in the future (which no guard writes).
func (st *State) Expired(now time.Time) bool {
	if len(st.Approvals) > 0 && (st.LastActivity.IsZero() || st.LastActivity.After(now)) {
		return true
	}
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

// Find returns the approval with exactly key k, if any. It finds nothing in
// an expired state.
func (st *State) Find(k Key, now time.Time) (Approval, bool) {
	if st.Expired(now) {
		return Approval{}, false
	}
	for _, a := range st.Approvals {
		if a.Key.Equal(k) {
			return a, true
		}
	}
	return Approval{}, false
}

// Grant records an approval, replacing an equal one.
func (st *State) Grant(a Approval) {
	st.Approvals = slices.DeleteFunc(st.Approvals, func(b Approval) bool { return a.Key.Equal(b.Key) })
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
	if len(st.Approvals) == 0 || st.Expired(now) {
		return 0
	}
	left := IdleTimeout - now.Sub(st.LastActivity)
	return max(left, 0)
}
