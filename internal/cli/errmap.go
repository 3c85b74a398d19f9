package cli

import (
	"errors"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/enforce"
	"github.com/clawwarden/clawwarden/internal/guard"
	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/shim"
	"github.com/clawwarden/clawwarden/internal/sudo"
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
		{sudo.ErrInvalid, ExitInvalidSudo},
		{approval.ErrDenied, ExitDenied},
		{approval.ErrNoTerminal, ExitDenied},
		{approval.ErrNoRequest, ExitNoRequest},
		{rootside.ErrNoRequest, ExitNoRequest},
		{enforce.ErrUnsupported, ExitUnsupported},
		{enforce.ErrOtherRoutes, ExitFindings},
		{shim.ErrEnforced, ExitPolicyBlock},
		{guard.ErrNotRun, ExitDenied},
		{guard.ErrAgentTerminal, ExitDenied},
		{shim.ErrRiskyOptions, ExitPolicyBlock},
		{shim.ErrNoPerson, ExitDenied},
		{config.ErrBadSetting, ExitUsage},
		{guard.ErrPassphraseMismatch, ExitBadToken},
		{approval.ErrWeakPassphrase, ExitUsage},
	} {
		if errors.Is(err, m.err) {
			return m.code, true
		}
	}
	return 0, false
}
