package cli

import (
	"errors"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/command"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/enforce"
	"github.com/clawwarden/clawwarden/internal/guard"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/metrics"
	"github.com/clawwarden/clawwarden/internal/notify"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/oscal"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/rootfile"
	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/schedule"
	"github.com/clawwarden/clawwarden/internal/shim"
	"github.com/clawwarden/clawwarden/internal/skill"
	"github.com/clawwarden/clawwarden/internal/sockets"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

// sentinels maps the sentinel errors of the domain packages to exit
// statuses; exitCode consults it after the generic cases. Every exported
// sentinel of a domain package is here or in the exemptions of
// TestEverySentinelHasAnExitStatus, and every status here has a row in the
// README's exit table.
var sentinels = []struct {
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
	{approval.ErrTimeout, ExitDenied},
	{approval.ErrTooLong, ExitInvalidCommand},
	{rootfile.ErrUnsafe, ExitInvalidCommand},
	{rootside.ErrQueueFull, ExitDenied},
	{rootside.ErrNotEnforced, ExitUnsupported},
	{sockets.ErrUnsupported, ExitUnsupported},
	{assess.ErrBadFailOn, ExitUsage},
	{schedule.ErrBadEvery, ExitUsage},
	{schedule.ErrNoBackend, ExitFindings},
	{ports.ErrBaselineExists, ExitUsage},
	{skill.ErrModified, ExitUsage},
	{hook.ErrIncomplete, ExitFindings},
	{notify.ErrNotAllowlisted, ExitPolicyBlock},
	{notify.ErrConfig, ExitUsage},
	{notify.ErrNotifierFailed, ExitFindings},
	{openclaw.ErrNoCLI, ExitFindings},
	{command.ErrTimeout, ExitInternal},
	{audit.ErrBroken, ExitAuditBroken},
	{audit.ErrBadAnchor, ExitUsage},
	{metrics.ErrNoDir, ExitUsage},
	{oscal.ErrNoAssessment, ExitUsage},
}

// domainCode is the exit status of the first sentinel err wraps.
func domainCode(err error) (int, bool) {
	for _, m := range sentinels {
		if errors.Is(err, m.err) {
			return m.code, true
		}
	}
	return 0, false
}
