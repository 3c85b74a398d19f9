package cli

import (
	"errors"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/guard"
)

// domainCode maps the sentinel errors of the domain packages to exit
// statuses. It is consulted by exitCode after the generic cases.
func domainCode(err error) (int, bool) {
	for _, m := range []struct {
		err  error
		code int
	}{
		{guard.ErrNoCommand, ExitNoCommand},
		{guard.ErrPolicyBlock, ExitPolicyBlock},
		{approval.ErrBadToken, ExitBadToken},
		{approval.ErrUntrustedRefused, ExitUntrustedRefused},
		{guard.ErrSessionIDMissing, ExitSessionIDMissing},
		{guard.ErrPolicyFilesMissing, ExitPolicyFilesMissing},
		{guard.ErrInvalidCommand, ExitInvalidCommand},
		{guard.ErrInvalidSudo, ExitInvalidSudo},
		{approval.ErrDenied, ExitDenied},
		{approval.ErrNoTerminal, ExitDenied},
	} {
		if errors.Is(err, m.err) {
			return m.code, true
		}
	}
	return 0, false
}
