package guard

import (
	"errors"
	"fmt"
	"os"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/session"
)

// ErrPassphraseMismatch: the new passphrase was typed differently the
// second time; nothing changed.
var ErrPassphraseMismatch = errors.New("the two passphrases differ; nothing changed")

// record appends one of the person's own actions (not tied to a request) to
// the audit log. The action is done already, so a failure is returned for
// the caller to report, not to undo it.
func (a *Approver) record(rec audit.Record) error {
	rec.Time = a.now().UTC()
	if cwd, err := os.Getwd(); err == nil {
		rec.Cwd = cwd
	}
	if err := a.log().Append(rec); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// SetPassphrase asks on t for the current passphrase (when one is set) and
// a new one, twice, stores its verifier and records that it was set. The
// returned path is where the verifier is. An error after the verifier is
// stored wraps only the audit log's failure (done is true).
func (a *Approver) SetPassphrase(t *approval.Terminal) (path string, done bool, err error) {
	path = a.Paths.Security(config.PassphraseFile)
	old, err := approval.LoadPassphrase(path)
	if err != nil {
		return path, false, err
	}
	if old != nil {
		cur, err := t.Secret("Current approval passphrase: ")
		if err != nil {
			return path, false, approval.ErrBadToken
		}
		if _, err := old.Key(cur); err != nil {
			return path, false, err
		}
	}
	p1, err := t.Secret("New approval passphrase (at least 8 characters): ")
	if err != nil {
		return path, false, err
	}
	p2, err := t.Secret("Repeat it: ")
	if err != nil {
		return path, false, err
	}
	if p1 != p2 {
		return path, false, ErrPassphraseMismatch
	}
	p, err := approval.NewPassphrase(p1, approval.DefaultKDF, a.now())
	if err != nil {
		return path, false, err
	}
	if err := p.Save(path); err != nil {
		return path, false, err
	}
	return path, true, a.record(audit.Record{Event: "passphrase", Decision: "set", Detail: "approval passphrase set"})
}

// DropSession forgets every kept approval and records that the person did
// so. aside names where an unreadable state file was kept, if there was
// one. As with SetPassphrase, done says whether the drop happened when an
// error is returned.
func (a *Approver) DropSession() (aside string, done bool, err error) {
	store := &session.Store{Path: a.Paths.Security(config.SessionStateFile), Now: a.Now}
	if aside, err = store.Reset(); err != nil {
		return "", false, err
	}
	return aside, true, a.record(audit.Record{Event: "session", Decision: "dropped", Detail: "clawwarden session drop"})
}
