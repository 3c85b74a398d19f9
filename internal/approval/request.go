package approval

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/quote"
)

// RequestVersion is the format of requests this package writes. A request
// of another version is not read: an approval is never given to a request
// whose fields this version cannot show.
const RequestVersion = 2

// Request is a pending out-of-band approval request, written by the guard
// into the pending directory as "<id>.request.json". It is what the person
// is shown and what the decision names by digest.
type Request struct {
	Version  int      `json:"version"`
	ID       string   `json:"id"`
	Argv     []string `json:"argv"`                // argv[0] resolved; for sudoedit, the files
	SudoArgs []string `json:"sudo_args,omitempty"` // sudo options approved with it
	Edit     bool     `json:"edit,omitempty"`      // sudoedit: Argv are the files to edit
	// Named is the whole sudo command line the policy's allow_exact named,
	// when sudo options or sudoedit needed that.
	Named []string `json:"named,omitempty"`
	// BinarySHA256 is the hex SHA-256 of the file argv[0] named when the
	// request was filed; the command runs only while the file still has it.
	BinarySHA256 string `json:"binary_sha256,omitempty"`
	Cwd          string `json:"cwd"`
	Reason       string `json:"reason,omitempty"`     // the agent's words
	SessionID    string `json:"session_id,omitempty"` // the agent's words
	Rule         string `json:"rule,omitempty"`       // the policy rule that let it through
	Untrusted    bool   `json:"untrusted"`
	NeedToken    bool   `json:"need_token"`
	// KeepRequested: the agent asked to keep the approval for the session;
	// the person decides.
	KeepRequested bool `json:"keep_requested,omitempty"`
	// Advisory: sudo would run this command for the account with no
	// password, so the password is not the gate (see package sudo).
	Advisory       bool   `json:"advisory,omitempty"`
	AdvisoryDetail string `json:"advisory_detail,omitempty"`
	Agent          string `json:"agent,omitempty"` // why the requester was taken for an agent
	// CwdWritable is a fact the approver works out for the prompt: this
	// account can write the working directory. Not part of the request.
	CwdWritable bool `json:"-"`
	// Notes are more facts worked out by whoever shows the request (enforced
	// mode: the owning package, staged inputs, the scope asked for), shown
	// with the other facts. Not part of the request.
	Notes   []string  `json:"-"`
	UID     int       `json:"uid"`
	PID     int       `json:"pid"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Command is the request's command line as a person reads it, every
// element quoted for display (see package quote).
func (r Request) Command() string { return Display(r.Argv, r.SudoArgs, r.Edit) }

// Display renders a privileged command for a person: "sudoedit FILE…" for
// sudoedit, "sudo OPTS -- CMD…" when sudo options are part of it, else the
// command alone.
func Display(argv, sudoArgs []string, edit bool) string {
	switch {
	case edit:
		return "sudoedit " + quote.Argv(argv)
	case len(sudoArgs) > 0:
		return "sudo " + quote.Argv(sudoArgs) + " -- " + quote.Argv(argv)
	}
	return quote.Argv(argv)
}

// Digest is the SHA-256 of the request's canonical bytes: a magic and
// version line, then every field a person is shown or that decides what
// runs, each length-prefixed, in a fixed order. A decision names it, so an
// edit of the request file after the person saw it changes the digest and
// the decision no longer applies.
func (r Request) Digest() string {
	var c canon
	c.str("clawwarden-request")
	c.str(strconv.Itoa(r.Version))
	c.str(r.ID)
	c.list(r.Argv)
	c.list(r.SudoArgs)
	c.flag(r.Edit)
	c.list(r.Named)
	c.str(r.BinarySHA256)
	c.str(r.Cwd)
	c.str(r.Reason)
	c.str(r.SessionID)
	c.str(r.Rule)
	c.flag(r.Untrusted)
	c.flag(r.NeedToken)
	c.flag(r.KeepRequested)
	c.flag(r.Advisory)
	c.str(strconv.Itoa(r.UID))
	c.str(strconv.Itoa(r.PID))
	c.str(strconv.FormatInt(r.Created.UnixNano(), 10))
	c.str(strconv.FormatInt(r.Expires.UnixNano(), 10))
	sum := sha256.Sum256(c.b)
	return hex.EncodeToString(sum[:])
}

// canon builds length-prefixed canonical bytes: no two different field
// lists encode to the same bytes.
type canon struct{ b []byte }

func (c *canon) str(s string) {
	c.b = binary.AppendUvarint(c.b, uint64(len(s)))
	c.b = append(c.b, s...)
}

func (c *canon) list(l []string) {
	c.b = binary.AppendUvarint(c.b, uint64(len(l)))
	for _, s := range l {
		c.str(s)
	}
}

func (c *canon) flag(b bool) {
	if b {
		c.b = append(c.b, 1)
	} else {
		c.b = append(c.b, 0)
	}
}

// Validate checks what a request must hold before anyone is shown it.
func (r Request) Validate() error {
	switch {
	case r.Version != RequestVersion:
		return fmt.Errorf("request format version %d, want %d", r.Version, RequestVersion)
	case !ValidID(r.ID):
		return fmt.Errorf("invalid request id %q", r.ID)
	case len(r.Argv) == 0 || !strings.HasPrefix(r.Argv[0], "/"):
		return fmt.Errorf("request %s has no absolute command", r.ID)
	case !strings.HasPrefix(r.Cwd, "/"):
		return fmt.Errorf("request %s has no absolute working directory", r.ID)
	case !r.Edit && len(r.BinarySHA256) != 64:
		return fmt.Errorf("request %s does not name its binary's SHA-256", r.ID)
	case r.Expires.Before(r.Created):
		return fmt.Errorf("request %s expires before it was filed", r.ID)
	}
	return nil
}

// Decision is a person's answer, written by `clawwarden approve|deny` as
// "<id>.decision.json".
type Decision struct {
	ID string `json:"id"`
	// RequestSHA256 is [Request.Digest] of the request the person saw.
	RequestSHA256      string    `json:"request_sha256"`
	Approved           bool      `json:"approved"`
	Keep               bool      `json:"keep,omitempty"` // the person kept the approval for the session's idle window
	UntrustedConfirmed bool      `json:"untrusted_confirmed,omitempty"`
	TokenProof         string    `json:"token_proof,omitempty"` // hex SHA-256(id, token)
	Signature          []byte    `json:"signature,omitempty"`   // Ed25519 over SignedMessage
	DecidedAt          time.Time `json:"decided_at"`
	UID                int       `json:"uid"`
	// PID is the deciding process; in same-user mode it also runs the
	// approved command, and the waiting guard watches it.
	PID   int    `json:"pid"`
	Where string `json:"where,omitempty"` // the approver's terminal
}

// SignedMessage is what the passphrase key signs for d.
func SignedMessage(d Decision) []byte {
	verdict := "deny"
	if d.Approved {
		verdict = "approve"
	}
	keep := "once"
	if d.Keep {
		keep = "keep"
	}
	return []byte("clawwarden-decision-v2\x00" + verdict + "\x00" + keep + "\x00" + d.RequestSHA256)
}

// TokenProof binds the approval token to one request without writing the
// token anywhere.
func TokenProof(id, token string) string {
	sum := sha256.Sum256([]byte("clawwarden-token-v1\x00" + id + "\x00" + token))
	return hex.EncodeToString(sum[:])
}

// Result is how the approved command went, written as "<id>.result.json" by
// the process that ran it (in same-user mode, `clawwarden approve` on the
// person's terminal, where the person typed the sudo password). Its output
// is in "<id>.stdout" and "<id>.stderr".
type Result struct {
	ID            string `json:"id"`
	RequestSHA256 string `json:"request_sha256"`
	// Ran is false when the command never started: sudo refused (wrong
	// password, not allowed) or the approver could not run it; NotRun says
	// why.
	Ran             bool      `json:"ran"`
	ExitCode        int       `json:"exit_code"`
	NotRun          string    `json:"not_run,omitempty"`
	OutputTruncated bool      `json:"output_truncated,omitempty"`
	Started         time.Time `json:"started"`
	Ended           time.Time `json:"ended"`
	Where           string    `json:"where"`
	PID             int       `json:"pid"`
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
