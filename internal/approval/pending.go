package approval

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// MaxPending is how many requests one queue holds at a time; more are
// refused, so a loop of requests cannot bury the one that matters.
const MaxPending = 32

// MaxOutput bounds each of the standard output and standard error of an
// approved command that are relayed to the waiting guard; beyond it the
// relay is cut and says so (the person saw all of it on their terminal).
const MaxOutput = 8 << 20

// ErrNoRequest is wrapped when a request id names no pending request, or
// one that expired.
var ErrNoRequest = errors.New("no such pending request")

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

func (q *Queue) path(id, suffix string) string { return filepath.Join(q.Dir, id+suffix) }

// The files of one request.
const (
	requestSuffix  = ".request.json"
	decisionSuffix = ".decision.json"
	resultSuffix   = ".result.json"
	stdoutSuffix   = ".stdout"
	stderrSuffix   = ".stderr"
)

// Submit files r. Requests that expired more than an hour ago are removed
// on the way (their outcome is in the audit log); with [MaxPending] live
// requests already filed, r is refused.
func (q *Queue) Submit(r Request) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := safefile.EnsureDir(q.Dir); err != nil {
		return err
	}
	lock, err := safefile.LockFor(filepath.Join(q.Dir, "queue"))
	if err != nil {
		return err
	}
	defer lock.Unlock()
	reqs, _ := q.List()
	live := 0
	for _, old := range reqs {
		if q.now().Sub(old.Expires) > time.Hour {
			q.Remove(old.ID)
			continue
		}
		live++
	}
	if live >= MaxPending {
		return fmt.Errorf("%w: %d approval requests are already pending in %s; decide or let them expire first", ErrDenied, live, q.Dir)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(q.path(r.ID, requestSuffix), append(data, '\n'))
}

// Remove deletes a request and everything filed with it.
func (q *Queue) Remove(id string) {
	if !ValidID(id) {
		return
	}
	for _, s := range []string{decisionSuffix, resultSuffix, stdoutSuffix, stderrSuffix, requestSuffix, requestSuffix + ".lock"} {
		os.Remove(q.path(id, s))
	}
}

// Get reads one request. A missing request wraps [ErrNoRequest].
func (q *Queue) Get(id string) (Request, error) {
	if !ValidID(id) {
		return Request{}, fmt.Errorf("%w: %q is not a request id (see 'clawwarden pending')", ErrNoRequest, id)
	}
	data, err := safefile.ReadFile(q.path(id, requestSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return Request{}, fmt.Errorf("%w: %s (see 'clawwarden pending')", ErrNoRequest, id)
	}
	if err != nil {
		return Request{}, err
	}
	var r Request
	if err := json.Unmarshal(data, &r); err != nil || r.ID != id {
		return Request{}, fmt.Errorf("%s: %w: not a valid request", q.path(id, requestSuffix), safefile.ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return Request{}, fmt.Errorf("%s: %w: %v", q.path(id, requestSuffix), safefile.ErrInvalid, err)
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
		id, ok := strings.CutSuffix(e.Name(), requestSuffix)
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

// Decide records a person's decision on a filed, unexpired request, once.
func (q *Queue) Decide(d Decision) error {
	lock, err := safefile.LockFor(q.path(d.ID, requestSuffix))
	if err != nil {
		return err
	}
	defer lock.Unlock()
	r, err := q.Get(d.ID)
	if err != nil {
		return err
	}
	if q.now().After(r.Expires) {
		return fmt.Errorf("%w: request %s expired at %s", ErrNoRequest, d.ID, r.Expires.Local().Format(time.TimeOnly))
	}
	if _, err := os.Lstat(q.path(d.ID, decisionSuffix)); err == nil {
		return fmt.Errorf("%w: request %s was already decided", ErrNoRequest, d.ID)
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(q.path(d.ID, decisionSuffix), append(data, '\n'))
}

// OutputFiles creates the files the approved command's standard output and
// standard error are relayed through (0600, never over an existing file).
func (q *Queue) OutputFiles(id string) (stdout, stderr *os.File, err error) {
	open := func(suffix string) (*os.File, error) {
		return os.OpenFile(q.path(id, suffix), os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, safefile.FileMode)
	}
	if stdout, err = open(stdoutSuffix); err != nil {
		return nil, nil, err
	}
	if stderr, err = open(stderrSuffix); err != nil {
		stdout.Close()
		return nil, nil, err
	}
	return stdout, stderr, nil
}

// WriteResult records how the approved command went.
func (q *Queue) WriteResult(res Result) error {
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(q.path(res.ID, resultSuffix), append(data, '\n'))
}

// Waiter waits for the decision on one request and, once it is approved,
// for the result of the run.
type Waiter struct {
	Q       *Queue
	Request Request
	Factors Factors
	Poll    time.Duration
}

// Decision waits for a decision on the request until it arrives, the
// request expires or ctx ends, and checks it: it must name this very
// request by digest (so an edit of the request file after filing voids it),
// carry a valid signature when a passphrase is set and the token proof when
// a token is set, and confirm untrusted content. It returns the approving
// decision, or an error wrapping ErrDenied, ErrBadToken or
// ErrUntrustedRefused.
func (w *Waiter) Decision(ctx context.Context) (Decision, error) {
	r := w.Request
	for {
		data, err := safefile.ReadFile(w.Q.path(r.ID, decisionSuffix))
		switch {
		case err == nil:
			var d Decision
			if err := json.Unmarshal(data, &d); err != nil || d.ID != r.ID {
				return d, fmt.Errorf("%w: the decision file for %s is not valid", ErrDenied, r.ID)
			}
			return d, check(r, d, w.Factors)
		case !errors.Is(err, fs.ErrNotExist):
			return Decision{}, fmt.Errorf("%w: %v", ErrDenied, err)
		}
		if w.Q.now().After(r.Expires) {
			return Decision{}, fmt.Errorf("%w: nobody approved request %s before it expired", ErrDenied, r.ID)
		}
		if err := w.sleep(ctx); err != nil {
			return Decision{}, err
		}
	}
}

// Result waits for the result of the approved run that d's process
// performs, until it arrives, that process is gone without writing one, or
// ctx ends. The result must name the request by digest.
func (w *Waiter) Result(ctx context.Context, d Decision) (Result, error) {
	r := w.Request
	for {
		data, err := safefile.ReadFile(w.Q.path(r.ID, resultSuffix))
		switch {
		case err == nil:
			var res Result
			if err := json.Unmarshal(data, &res); err != nil || res.ID != r.ID {
				return res, fmt.Errorf("the result file for %s is not valid", r.ID)
			}
			if !Equal(res.RequestSHA256, r.Digest()) {
				return res, fmt.Errorf("%w: the result of %s is for another request than the one filed (the request file was changed)", ErrDenied, r.ID)
			}
			return res, nil
		case !errors.Is(err, fs.ErrNotExist):
			return Result{}, err
		}
		if !alive(d.PID) {
			// It may have written the result just before exiting.
			if _, err := os.Lstat(w.Q.path(r.ID, resultSuffix)); err == nil {
				continue
			}
			return Result{}, fmt.Errorf("the approving process (pid %d) ended without reporting whether the command ran", d.PID)
		}
		if err := w.sleep(ctx); err != nil {
			return Result{}, err
		}
	}
}

// CopyOutput copies the relayed standard output and standard error of the
// request's run to stdout and stderr.
func (q *Queue) CopyOutput(id string, stdout, stderr io.Writer) error {
	for _, c := range []struct {
		suffix string
		w      io.Writer
	}{{stdoutSuffix, stdout}, {stderrSuffix, stderr}} {
		f, err := safefile.Open(q.path(id, c.suffix))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		_, err = io.Copy(c.w, io.LimitReader(f, MaxOutput))
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *Waiter) sleep(ctx context.Context) error {
	poll := w.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	t := time.NewTimer(poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: interrupted while waiting for approval", ErrDenied)
	case <-t.C:
		return nil
	}
}

// alive reports whether a process with pid exists (it may belong to us or
// not; EPERM means it exists).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Check verifies decision d against request r and the factors: see
// [Waiter.Decision].
func check(r Request, d Decision, f Factors) error {
	if !Equal(d.RequestSHA256, r.Digest()) {
		return fmt.Errorf("%w: the decision on %s was given for a different request than the one filed (the request file was changed after filing)", ErrDenied, r.ID)
	}
	if f.Passphrase != nil && !f.Passphrase.Verify(SignedMessage(d), d.Signature) {
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
	if d.Keep && !r.KeepRequested {
		return fmt.Errorf("%w: the decision on %s keeps an approval nobody asked to keep", ErrDenied, r.ID)
	}
	return nil
}

// Sign signs d with the passphrase key when one is given.
func Sign(d *Decision, key ed25519.PrivateKey) {
	if key != nil {
		d.Signature = ed25519.Sign(key, SignedMessage(*d))
	}
}
