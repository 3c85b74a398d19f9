package cli

import (
	"errors"
	"io/fs"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Exit statuses. The guard's own refusals (1–9) keep the original skill's
// numbers; otherwise `exec` returns the command's own status. README.md's
// "Exit status" table lists the same values; TestExitTableInReadme keeps the
// two in agreement.
const (
	ExitOK                 = 0
	ExitDenied             = 1  // approval refused, timed out or not possible
	ExitNoCommand          = 2  // exec without a command (empty argv)
	ExitPolicyBlock        = 3  // command policy or built-in rule refused the command
	ExitBadToken           = 4  // wrong approval token or passphrase
	ExitUntrustedRefused   = 5  // untrusted source without the extra confirmation
	ExitSessionIDMissing   = 6  // OPENCLAW_REQUIRE_SESSION_ID=1 without a session id
	ExitPolicyFilesMissing = 7  // OPENCLAW_REQUIRE_POLICY_FILES=1 with a policy file missing
	ExitInvalidCommand     = 8  // command not found, relative, or not a safe root-owned file
	ExitInvalidSudo        = 9  // the sudo binary is missing or unsafe
	ExitFindings           = 10 // a check found problems (flagged ports/egress, assess --fail-on, hook not effective)
	ExitAuditBroken        = 11 // the audit chain does not verify
	ExitBadState           = 12 // state, policy or report file unsafe, corrupt or malformed
	ExitNoRequest          = 13 // approve/deny: no such pending request, or it expired
	ExitUnsupported        = 14 // not supported here (enforced mode off Linux or without root; socket listing)
	ExitUsage              = 64 // bad flags, arguments or environment settings
	ExitInternal           = 70 // unexpected internal error
)

// exitTable is the documented table, in order, used by the README test.
var exitTable = []struct {
	Code    int
	Meaning string
}{
	{ExitOK, "success; for `exec`, the command's own exit status is returned instead"},
	{ExitDenied, "approval refused, timed out, or impossible (no terminal a person uses and no pending approval granted); or approved but not run (sudo refused the password)"},
	{ExitNoCommand, "`exec` without a command"},
	{ExitPolicyBlock, "command policy or a built-in rule refused the command; for `notify`, the notifier is not allowlisted"},
	{ExitBadToken, "wrong approval token or passphrase"},
	{ExitUntrustedRefused, "untrusted source (`OPENCLAW_UNTRUSTED_SOURCE=1`) without the extra confirmation"},
	{ExitSessionIDMissing, "`OPENCLAW_REQUIRE_SESSION_ID=1` but no session id"},
	{ExitPolicyFilesMissing, "`OPENCLAW_REQUIRE_POLICY_FILES=1` and a policy file is missing"},
	{ExitInvalidCommand, "command not found, relative, or not a root-owned, non-writable, non-setuid regular file"},
	{ExitInvalidSudo, "the sudo binary is missing or unsafe"},
	{ExitFindings, "a check found problems: flagged ports or egress, failed preflight, hook or schedule not effective, notifier failed; `assess` only with `--fail-on violation\\|partial` (a completed assessment exits 0)"},
	{ExitAuditBroken, "the audit chain does not verify"},
	{ExitBadState, "a state, policy or report file is unsafe (symlink, foreign owner, writable by others), corrupt or malformed"},
	{ExitNoRequest, "`approve`/`deny`: no such pending request, or it expired"},
	{ExitUnsupported, "not supported here: enforced mode (it needs Linux, and root), or listing sockets on this system"},
	{ExitUsage, "bad flags, arguments or settings (e.g. a relative `OPENCLAW_STATE_DIR`)"},
	{ExitInternal, "unexpected internal error"},
}

// codedError carries an explicit exit status.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// withCode attaches an exit status to err.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// usageError marks bad command-line input.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errUsage is matched with errors.Is by any *usageError.
var errUsage = &usageError{msg: "usage error"}

func (e *usageError) Is(target error) bool { return target == errUsage }

// exitCode maps an error to the documented exit status. It is the only place
// that does so.
func exitCode(err error) int {
	var ce *codedError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, errUsage):
		return ExitUsage
	case errors.Is(err, safefile.ErrUnsafe), errors.Is(err, safefile.ErrInvalid):
		return ExitBadState
	case errors.Is(err, fs.ErrPermission):
		return ExitBadState
	}
	if c, ok := domainCode(err); ok {
		return c
	}
	return ExitInternal
}
