package signed

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

const decisionMagic = "clawwarden-decision v1\n"

// Outcomes of Decision.Check that callers branch on.
var (
	// ErrDenied means the decision is valid for the request and says deny.
	ErrDenied = errors.New("the approver denied this request")
	// ErrExpired means the decision's not-after time has passed.
	ErrExpired = errors.New("decision has expired")
	// ErrOtherHost means the decision names another host's install id.
	ErrOtherHost = errors.New("decision is for another host")
	// ErrOtherRequest means the decision names other request bytes.
	ErrOtherRequest = errors.New("decision is for another request")
)

// Decision is what an approver signs: approve or deny one request, by the
// SHA-256 of its canonical bytes, on one host, until NotAfter.
type Decision struct {
	InstallID     string
	RequestSHA256 string // hex SHA-256 of the request's canonical bytes
	Approve       bool   // false is deny
	// Scope is what the approver grants; a deny is always Once.
	Scope    Scope
	NotAfter time.Time
}

// Marshal returns the canonical bytes of d (see the package doc): the bytes
// `clawwarden decision draft` prints and the approver signs. Call Validate
// first: only valid decisions are guaranteed to parse back.
func (d Decision) Marshal() []byte {
	e := encoder{b: []byte(decisionMagic)}
	e.field("install-id", d.InstallID)
	e.field("request-sha256", d.RequestSHA256)
	verdict := "deny"
	if d.Approve {
		verdict = "approve"
	}
	e.field("verdict", verdict)
	e.field("scope", d.Scope.String())
	e.field("not-after", formatTime(d.NotAfter))
	return e.b
}

// Validate reports whether d is complete.
func (d Decision) Validate() error {
	if err := d.validate(); err != nil {
		return fmt.Errorf("decision: %w", err)
	}
	return nil
}

func (d Decision) validate() error {
	if err := checkToken("install id", d.InstallID); err != nil {
		return err
	}
	if err := checkSHA256("request sha256", d.RequestSHA256); err != nil {
		return err
	}
	if err := d.Scope.Validate(); err != nil {
		return err
	}
	if !d.Approve && !d.Scope.Once {
		return fmt.Errorf("a deny cannot be kept: its scope must be once, not %s", d.Scope)
	}
	return checkTime("not-after", d.NotAfter)
}

// ParseDecision reads canonical decision bytes. It refuses anything Marshal
// would not have produced from a valid Decision, including request bytes.
func ParseDecision(b []byte) (Decision, error) {
	if len(b) > MaxMessage {
		return Decision{}, fmt.Errorf("decision: %w: %d bytes, more than the %d allowed", ErrMalformed, len(b), MaxMessage)
	}
	dec := decoder{b: b}
	dec.magic(decisionMagic)
	var d Decision
	d.InstallID = dec.field("install-id")
	d.RequestSHA256 = dec.field("request-sha256")
	switch v := dec.field("verdict"); {
	case dec.err != nil:
	case v == "approve":
		d.Approve = true
	case v == "deny":
		d.Approve = false
	default:
		dec.fail("verdict %q: want approve or deny", v)
	}
	if s := dec.field("scope"); dec.err == nil {
		var err error
		if d.Scope, err = parseScope(s); err != nil {
			dec.fail("%v", err)
		}
	}
	d.NotAfter = dec.time("not-after")
	if err := dec.end(); err != nil {
		return Decision{}, fmt.Errorf("decision: %w", err)
	}
	if err := d.Validate(); err != nil {
		return Decision{}, err
	}
	if !bytes.Equal(d.Marshal(), b) {
		return Decision{}, fmt.Errorf("decision: %w: not in canonical form", ErrMalformed)
	}
	return d, nil
}

// Check reports whether d approves the request whose canonical bytes are
// request, on the host with installID, at now. It returns nil only for an
// approval; a valid deny returns ErrDenied. It does not verify the
// signature (see Verify), nor whether the request id was already used:
// that record is the root helper's.
func (d Decision) Check(installID string, request []byte, now time.Time) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if d.InstallID != installID {
		return fmt.Errorf("%w: it names install id %q, this host is %q", ErrOtherHost, d.InstallID, installID)
	}
	if got := sha256Hex(sha256.Sum256(request)); d.RequestSHA256 != got {
		return fmt.Errorf("%w: it names request sha256 %s, the pending request is %s", ErrOtherRequest, d.RequestSHA256, got)
	}
	if !now.Before(d.NotAfter) {
		return fmt.Errorf("%w: not after %s", ErrExpired, formatTime(d.NotAfter))
	}
	if !d.Approve {
		return ErrDenied
	}
	return nil
}
