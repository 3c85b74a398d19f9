package rootside

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Facts are what the root helper worked out about a request, shown to the
// approver before anything the agent wrote. They are not part of the
// signed request: the approver's decision names the request's bytes.
type Facts struct {
	ID          string    `json:"id"`
	HelperPID   int       `json:"helper_pid"`
	Filed       time.Time `json:"filed"`
	Rule        string    `json:"rule"`               // the policy rule that let it through
	Risk        string    `json:"risk"`               // the policy's risk class
	Package     string    `json:"package,omitempty"`  // the Debian package owning the binary
	Manifest    string    `json:"manifest,omitempty"` // "matches", "differs", or why unknown
	Staged      int       `json:"staged,omitempty"`   // inputs copied to root-owned staging
	KeepAllowed bool      `json:"keep_allowed"`       // whether a kept approval (--for) may be granted
	Warnings    []string  `json:"warnings,omitempty"` // for the approver, worked out by the helper
}

// MaxDecisionBytes bounds a decision or signature file in the inbox.
const MaxDecisionBytes = 16 << 10

// maxInboxFiles bounds how many candidate decisions of one request are
// read on each look: those dropped by the agent's own account count
// against maxAgentFiles only, so the agent cannot crowd out an approver's.
const (
	maxInboxFiles = 256
	maxAgentFiles = 16
)

var (
	// ErrQueueFull is wrapped when the account already has the most pending
	// requests the settings allow.
	ErrQueueFull = errors.New("too many pending requests")
	// ErrNoRequest is wrapped when no pending request has the id.
	ErrNoRequest = errors.New("no such pending request")
)

// ValidID reports whether id is a request id: 32 lowercase hex digits.
func ValidID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

func (l Layout) requestPath(id string) string { return filepath.Join(l.PendingDir(), id+".request") }
func (l Layout) factsPath(id string) string   { return filepath.Join(l.PendingDir(), id+".facts.json") }

// approversGID is the group id of ApproversGroup, or -1 without one.
func approversGID() int {
	g, err := user.LookupGroup(ApproversGroup)
	if err != nil {
		return -1
	}
	gid, _ := strconv.Atoi(g.Gid)
	return gid
}

// WritePending files a request (its canonical bytes) with its facts,
// readable by the approvers' group only, refusing beyond max pending
// requests. Root only.
func (l Layout) WritePending(id string, request []byte, f Facts, max int) error {
	if !ValidID(id) {
		return fmt.Errorf("invalid request id %q", id)
	}
	// Counting and filing hold the queue's lock (briefly; never while a
	// request waits), so concurrent requests cannot all see room.
	lock, err := safefile.LockFor(filepath.Join(l.StateDir(), "queue"))
	if err != nil {
		return err
	}
	defer lock.Unlock()
	l.collectVoid()
	if n := len(l.pendingIDs()); n >= max {
		return fmt.Errorf("%w: %d are waiting (at most %d); ask the approver to decide them, or wait for them to expire", ErrQueueFull, n, max)
	}
	facts, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := writeShared(l.factsPath(id), append(facts, '\n')); err != nil {
		return err
	}
	return writeShared(l.requestPath(id), request)
}

// writeShared writes path atomically, 0640 root:clawwarden-approvers.
func writeShared(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if gid := approversGID(); gid >= 0 {
		tmp.Chown(0, gid)
	}
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// RemovePending removes a request, its facts and every decision dropped for
// it.
func (l Layout) RemovePending(id string) {
	if !ValidID(id) {
		return
	}
	os.Remove(l.requestPath(id))
	os.Remove(l.factsPath(id))
	for _, p := range l.inboxFiles(id) {
		os.Remove(p)
	}
}

func (l Layout) pendingIDs() []string {
	ents, _ := os.ReadDir(l.PendingDir())
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".request"); ok && ValidID(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// Pending is one filed request as an approver reads it.
type Pending struct {
	ID      string
	Request []byte // the canonical bytes the decision names
	Facts   Facts
}

// ListPending reads the pending queue (for approvers: members of the
// approvers' group, or root), oldest first.
func (l Layout) ListPending() ([]Pending, error) {
	if _, err := os.ReadDir(l.PendingDir()); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w: reading %s needs membership of the %s group (see 'clawwarden enforce status')", err, l.PendingDir(), ApproversGroup)
		}
		return nil, err
	}
	var out []Pending
	for _, id := range l.pendingIDs() {
		if p, err := l.GetPending(id); err == nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Pending) int { return a.Facts.Filed.Compare(b.Facts.Filed) })
	return out, nil
}

// GetPending reads one request. Both files must be root's.
func (l Layout) GetPending(id string) (Pending, error) {
	if !ValidID(id) {
		return Pending{}, fmt.Errorf("%w: %q is not a request id (see 'clawwarden pending')", ErrNoRequest, id)
	}
	req, err := ReadRootFile(l.requestPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return Pending{}, fmt.Errorf("%w: %s (see 'clawwarden pending')", ErrNoRequest, id)
	}
	if err != nil {
		return Pending{}, err
	}
	fdata, err := ReadRootFile(l.factsPath(id))
	if err != nil {
		return Pending{}, err
	}
	p := Pending{ID: id, Request: req}
	if err := json.Unmarshal(fdata, &p.Facts); err != nil || p.Facts.ID != id {
		return Pending{}, fmt.Errorf("%s: %w: facts do not parse", l.factsPath(id), safefile.ErrInvalid)
	}
	return p, nil
}

// SubmitDecision drops a decision and its signature for request id into the
// inbox, as files only their writer may replace. Any account may: the root
// helper trusts nothing but the signature.
func (l Layout) SubmitDecision(id string, decision, sig []byte) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: %q is not a request id", ErrNoRequest, id)
	}
	if len(decision) > MaxDecisionBytes || len(sig) > MaxDecisionBytes {
		return fmt.Errorf("decision or signature larger than %d bytes", MaxDecisionBytes)
	}
	tag := make([]byte, 8)
	rand.Read(tag)
	base := filepath.Join(l.InboxDir(), id+"."+hex.EncodeToString(tag))
	for _, f := range []struct {
		path string
		data []byte
	}{{base + ".sig", sig}, {base + ".decision", decision}} {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
		if err != nil {
			return err
		}
		_, err = fh.Write(f.data)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Candidate is a decision and signature found in the inbox.
type Candidate struct {
	Decision, Sig []byte
	Owner         int // uid of the account that dropped it
}

func (l Layout) inboxFiles(id string) []string {
	matches, _ := filepath.Glob(filepath.Join(l.InboxDir(), id+".*"))
	return matches
}

// Decisions returns the decisions dropped for id (root only), each read
// through O_NOFOLLOW from a regular file of bounded size; anything else is
// skipped. Files of other accounts come first; at most maxAgentFiles of the
// agent's own account (agentUID) are read, so that it cannot bury an
// approver's decision under its own.
func (l Layout) Decisions(id string, agentUID int) []Candidate {
	var mine, others []Candidate
	for _, p := range l.inboxFiles(id) {
		base, ok := strings.CutSuffix(p, ".decision")
		if !ok {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		agents := st != nil && int(st.Uid) == agentUID
		if (agents && len(mine) == maxAgentFiles) || (!agents && len(others) == maxInboxFiles) {
			continue
		}
		d, owner, err1 := readBounded(p)
		s, _, err2 := readBounded(base + ".sig")
		if err1 != nil || err2 != nil {
			continue
		}
		c := Candidate{Decision: d, Sig: s, Owner: owner}
		if agents {
			mine = append(mine, c)
		} else {
			others = append(others, c)
		}
	}
	return append(others, mine...)
}

func readBounded(path string) ([]byte, int, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > MaxDecisionBytes {
		return nil, 0, fmt.Errorf("%s: not a regular file of at most %d bytes", path, MaxDecisionBytes)
	}
	owner := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(st.Uid)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxDecisionBytes+1))
	return data, owner, err
}

// MarkConsumed records, durably, that the request id was accepted and its
// command is about to start; IsConsumed is true for it from then on.
func (l Layout) MarkConsumed(id string, now time.Time) error {
	f, err := os.OpenFile(l.ConsumedFile(), os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%s %s\n", id, now.UTC().Format(time.RFC3339Nano)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// IsConsumed reports whether id was ever accepted.
func (l Layout) IsConsumed(id string) bool {
	data, err := os.ReadFile(l.ConsumedFile())
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, id+" ") {
			return true
		}
	}
	return false
}

// Alive reports whether process pid exists (EPERM means it does, as another
// user's).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// collectVoid removes requests whose filing helper is gone: nobody else can
// run them.
func (l Layout) collectVoid() {
	for _, id := range l.pendingIDs() {
		data, err := os.ReadFile(l.factsPath(id))
		if err != nil {
			continue
		}
		var f Facts
		if json.Unmarshal(data, &f) == nil && !Alive(f.HelperPID) {
			l.RemovePending(id)
		}
	}
}
