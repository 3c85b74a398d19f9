package approval

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Request is a pending out-of-band approval request, written by the guard
// into the pending directory as "<id>.request.json".
type Request struct {
	ID        string    `json:"id"`
	Argv      []string  `json:"argv"`
	Command   string    `json:"command"`
	Reason    string    `json:"reason,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	Cwd       string    `json:"cwd"`
	Rule      string    `json:"rule,omitempty"`
	Untrusted bool      `json:"untrusted"`
	NeedToken bool      `json:"need_token"`
	UID       int       `json:"uid"`
	PID       int       `json:"pid"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
}

// Prompt returns what a person is shown for r.
func (r Request) Prompt() Prompt {
	return Prompt{Argv: r.Argv, Command: r.Command, Reason: r.Reason, SessionID: r.SessionID,
		Cwd: r.Cwd, Rule: r.Rule, Untrusted: r.Untrusted, RequestID: r.ID}
}

// Digest binds a decision to every field a person saw.
func (r Request) Digest() []byte {
	canon, _ := json.Marshal(struct {
		ID, Command, Reason, SessionID, Cwd string
		Argv                                []string
		Untrusted                           bool
		Expires                             int64
	}{r.ID, r.Command, r.Reason, r.SessionID, r.Cwd, r.Argv, r.Untrusted, r.Expires.Unix()})
	sum := sha256.Sum256(canon)
	return sum[:]
}

// Decision is a person's answer, written by `clawwarden approve|deny` as
// "<id>.decision.json".
type Decision struct {
	ID                 string    `json:"id"`
	Approved           bool      `json:"approved"`
	UntrustedConfirmed bool      `json:"untrusted_confirmed,omitempty"`
	TokenProof         string    `json:"token_proof,omitempty"` // hex SHA-256(id, token)
	Signature          []byte    `json:"signature,omitempty"`   // Ed25519 over SignedMessage
	DecidedAt          time.Time `json:"decided_at"`
	UID                int       `json:"uid"`
}

// SignedMessage is what the passphrase key signs for a decision on r.
func SignedMessage(r Request, approved bool) []byte {
	verdict := "deny"
	if approved {
		verdict = "approve"
	}
	return append([]byte("clawwarden-approval-v1\x00"+verdict+"\x00"), r.Digest()...)
}

// TokenProof binds the approval token to one request without writing the
// token anywhere.
func TokenProof(id, token string) string {
	sum := sha256.Sum256([]byte("clawwarden-token-v1\x00" + id + "\x00" + token))
	return hex.EncodeToString(sum[:])
}

// Queue is the pending-approval directory.
type Queue struct {
	Dir string
	Now func() time.Time
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// NewID returns a fresh random request id.
func NewID() string { return strings.ToLower(rand.Text()[:12]) }

// ValidID reports whether id has the form NewID produces.
func ValidID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

func (q *Queue) requestPath(id string) string  { return filepath.Join(q.Dir, id+".request.json") }
func (q *Queue) decisionPath(id string) string { return filepath.Join(q.Dir, id+".decision.json") }

// Submit files r. Requests that expired more than an hour ago are removed
// from the directory on the way (their outcome is in the audit log).
func (q *Queue) Submit(r Request) error {
	if !ValidID(r.ID) {
		return fmt.Errorf("invalid request id %q", r.ID)
	}
	if err := safefile.EnsureDir(q.Dir); err != nil {
		return err
	}
	q.collect()
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(q.requestPath(r.ID), append(data, '\n'))
}

// Remove deletes a request and its decision.
func (q *Queue) Remove(id string) {
	if !ValidID(id) {
		return
	}
	os.Remove(q.decisionPath(id))
	os.Remove(q.requestPath(id))
}

func (q *Queue) collect() {
	reqs, _ := q.List()
	for _, r := range reqs {
		if q.now().Sub(r.Expires) > time.Hour {
			q.Remove(r.ID)
		}
	}
}

// Get reads one request.
func (q *Queue) Get(id string) (Request, error) {
	if !ValidID(id) {
		return Request{}, fmt.Errorf("%q is not a request id (see 'clawwarden pending')", id)
	}
	data, err := safefile.ReadFile(q.requestPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return Request{}, fmt.Errorf("no pending request %s (see 'clawwarden pending'): %w", id, fs.ErrNotExist)
	}
	if err != nil {
		return Request{}, err
	}
	var r Request
	if err := json.Unmarshal(data, &r); err != nil || r.ID != id {
		return Request{}, fmt.Errorf("%s: %w: not a valid request", q.requestPath(id), safefile.ErrInvalid)
	}
	return r, nil
}

// List returns the filed requests, oldest first. Unreadable entries are
// skipped.
func (q *Queue) List() ([]Request, error) {
	ents, err := os.ReadDir(q.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Request
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".request.json")
		if !ok || !ValidID(id) {
			continue
		}
		if r, err := q.Get(id); err == nil {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Request) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// Decide records a person's decision on a filed, unexpired request.
func (q *Queue) Decide(d Decision) error {
	r, err := q.Get(d.ID)
	if err != nil {
		return err
	}
	if q.now().After(r.Expires) {
		return fmt.Errorf("request %s expired at %s", d.ID, r.Expires.Local().Format(time.TimeOnly))
	}
	if _, err := os.Lstat(q.decisionPath(d.ID)); err == nil {
		return fmt.Errorf("request %s was already decided", d.ID)
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(q.decisionPath(d.ID), append(data, '\n'))
}

// Wait polls for a decision on r until it arrives, r expires or ctx ends,
// then removes the request. It checks the decision against the factors and
// returns nil only for a valid approval.
func (q *Queue) Wait(ctx context.Context, r Request, f Factors, poll time.Duration) error {
	defer q.Remove(r.ID)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		data, err := safefile.ReadFile(q.decisionPath(r.ID))
		switch {
		case err == nil:
			var d Decision
			if err := json.Unmarshal(data, &d); err != nil || d.ID != r.ID {
				return fmt.Errorf("%w: the decision file for %s is not valid", ErrDenied, r.ID)
			}
			return check(r, d, f)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%w: %v", ErrDenied, err)
		}
		if q.now().After(r.Expires) {
			return fmt.Errorf("%w: nobody approved request %s before it expired", ErrDenied, r.ID)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: interrupted while waiting for approval", ErrDenied)
		case <-tick.C:
		}
	}
}

func check(r Request, d Decision, f Factors) error {
	if f.Passphrase != nil && !f.Passphrase.Verify(SignedMessage(r, d.Approved), d.Signature) {
		if d.Approved {
			return fmt.Errorf("%w: the approval of %s is not signed with the approval passphrase", ErrBadToken, r.ID)
		}
	}
	if !d.Approved {
		return fmt.Errorf("%w: request %s was refused", ErrDenied, r.ID)
	}
	if f.Token != "" && !Equal(d.TokenProof, TokenProof(r.ID, f.Token)) {
		return fmt.Errorf("%w: the approval of %s did not carry the approval token", ErrBadToken, r.ID)
	}
	if r.Untrusted && !d.UntrustedConfirmed {
		return ErrUntrustedRefused
	}
	return nil
}

// AskApprove asks the person at t to approve the pending request r and
// returns the decision to record. pass is the stored passphrase record (nil
// when none is set); when set, the decision is signed with the key the
// typed passphrase derives.
func AskApprove(t *Terminal, r Request, pass *Passphrase, now time.Time, uid int) (Decision, error) {
	d := Decision{ID: r.ID, DecidedAt: now.UTC(), UID: uid}
	t.Printf("\n%s", r.Prompt().Describe())
	ans, err := t.Line("Approve running this exact command as root? [y/N] ")
	if err != nil {
		return d, fmt.Errorf("%w: no answer from the terminal: %v", ErrDenied, err)
	}
	if a := strings.ToLower(strings.TrimSpace(ans)); a != "y" && a != "yes" {
		return d, fmt.Errorf("%w: not approved", ErrDenied)
	}
	if r.Untrusted {
		c, err := t.Line("Untrusted content: type " + ConfirmWord + " to run it anyway: ")
		if err != nil || strings.TrimSpace(c) != ConfirmWord {
			return d, ErrUntrustedRefused
		}
		d.UntrustedConfirmed = true
	}
	if r.NeedToken {
		tok, err := t.Secret("Approval token: ")
		if err != nil {
			return d, ErrBadToken
		}
		d.TokenProof = TokenProof(r.ID, tok)
	}
	if pass != nil {
		p, err := t.Secret("Approval passphrase: ")
		if err != nil {
			return d, ErrBadToken
		}
		key, err := pass.Key(p)
		if err != nil {
			return d, err
		}
		d.Signature = ed25519.Sign(key, SignedMessage(r, true))
	}
	d.Approved = true
	return d, nil
}
