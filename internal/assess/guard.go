package assess

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/clawwarden/clawwarden/internal/hook"
)

// The checks of clawwarden's own guard: the runtime hook, the prompt and
// command policies, the session boundary and the approval factor.

// runtimeHook judges whether the agent's sudo goes through the shim.
func runtimeHook(ev *evidence) outcome {
	h := ev.Hook
	if h == nil {
		why := "no hook status"
		if ev.HookErr != nil {
			why = ev.HookErr.Error()
		}
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the hook's state cannot be read", Evidence: why,
			Gap: "unknown whether the agent's sudo goes through the guard", Mitigation: "Run `clawwarden hook status` and fix what it reports."}
	}
	var parts []string
	var fix string
	for _, l := range h.Layers {
		parts = append(parts, l.Layer+"="+l.State)
		if fix == "" && l.Fix != "" && l.State != "ok" {
			fix = l.Fix
		}
	}
	evText := "clawwarden hook status: " + strings.Join(parts, ", ")
	bypasses := hookBypasses(h)
	sameUser := ev.Enforced == nil || !ev.Enforced.Enforced
	switch {
	case h.Effective:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the sudo shim at " + h.Shim + " is first on the gateway's PATH", Evidence: evText}
	case h.Installed && sameUser && len(bypasses) > 0:
		// Installed, but undone from where the agent can reach: the agent
		// can run `openclaw config unset tools.exec.pathPrepend` or add an
		// alias to ~/.bashrc. In enforced mode root is behind the helper,
		// so this no longer matters for root.
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the hook is installed but the agent's sudo skips the shim", Evidence: evText + "; " + strings.Join(bypasses, "; "),
			Gap:        "the agent's sudo reaches the real sudo, with no policy, approval of the exact command or audit; the agent itself can undo the hook this way",
			Mitigation: "Run `" + orDefault(fix, "clawwarden hook install") + "` (see `clawwarden hook status`). The fix that holds against a hostile agent is enforced mode: `clawwarden enforce install`."}
	case h.Installed:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "the hook is installed but not effective", Evidence: evText,
			Gap: "the agent's sudo may bypass the guard", Mitigation: "Run `" + orDefault(fix, "clawwarden hook install") + "` (see `clawwarden hook status`)."}
	default:
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "the sudo shim is not installed", Evidence: evText,
			Gap:        "the agent's sudo calls go straight to sudo, with no policy, approval of the exact command or audit",
			Mitigation: "Run `clawwarden hook install` and restart the gateway."}
	}
}

// hookBypasses returns, for a hook that is not effective, the layers that
// let the agent's sudo skip the shim: pathPrepend not putting the shim first
// (unset, say by `openclaw config unset tools.exec.pathPrepend`) while no
// service layer does instead, and an alias or function named sudo that the
// exec shell loads.
func hookBypasses(h *hook.Status) []string {
	layer := func(name string) hook.LayerStatus { l, _ := h.Layer(name); return l }
	var out []string
	service := (layer(hook.LayerSystemd).State == hook.StateOK || layer(hook.LayerLaunchd).State == hook.StateOK) &&
		layer(hook.LayerRestart).State == hook.StateOK
	if p := layer(hook.LayerPathPrepend); !service && (p.State == hook.StateMissing || p.State == hook.StatePartial) {
		out = append(out, "pathPrepend: "+p.Detail)
	}
	if a := layer(hook.LayerShellAliases); a.State == hook.StateOverridden {
		out = append(out, "shell_aliases: "+a.Detail)
	}
	return out
}

// promptInjection judges the prompt policy and OpenClaw's exec policy:
// what content the agent reads can make it run.
func promptInjection(ev *evidence) outcome {
	path, pp, found, err := ev.promptPath, ev.prompt, ev.promptFound, ev.promptErr
	untrusted := "OPENCLAW_UNTRUSTED_SOURCE is not set in this environment"
	if ev.Env.UntrustedSource {
		untrusted = "OPENCLAW_UNTRUSTED_SOURCE=1 in this environment"
	}
	// OpenClaw's own exec policy: security full with ask off runs any host
	// command the model asks for, injected or not.
	var open, scopes []string
	for _, s := range ev.ExecPolicy {
		scopes = append(scopes, fmt.Sprintf("%s: security=%s ask=%s", s.AgentID, s.Security, s.Ask))
		if s.Security == "full" && s.Ask == "off" {
			open = append(open, s.AgentID)
		}
	}
	execEv := "OpenClaw exec policy not read: " + orDefault(ev.ExecPolicyNote, "unknown")
	if ev.ExecPolicy != nil {
		execEv = "openclaw approvals get: " + orNone(scopes)
	}
	evText := path + "; " + untrusted + "; " + execEv
	switch {
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the prompt policy is unusable", Evidence: err.Error() + "; " + execEv,
			Gap:        "the guard refuses to run with a malformed prompt policy, and untrusted content is not handled as intended",
			Mitigation: `Fix ` + path + `: {"require_confirmation_for_untrusted": true}, mode 0600.`}
	case found && !pp.RequireConfirmationForUntrusted:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "require_confirmation_for_untrusted is false", Evidence: evText,
			Gap:        "a privileged command prompted by untrusted content (web pages, email, chat) can reuse earlier approvals",
			Mitigation: `Set "require_confirmation_for_untrusted": true in ` + path + `.`}
	case len(open) > 0:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "OpenClaw runs host commands without asking for agent(s) " + strings.Join(open, ", ") + " (exec security full, ask off)", Evidence: evText,
			Gap:        "instructions injected through content the agent reads can run any unprivileged command; only sudo goes through the guard",
			Mitigation: "Run `openclaw exec-policy preset cautious` (or set tools.exec.security to \"allowlist\" and tools.exec.ask to \"on-miss\"), see OpenClaw's docs/tools/exec-approvals.md."}
	case !found:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "no prompt policy file; the built-in default (confirm untrusted) applies", Evidence: path + " does not exist; " + untrusted + "; " + execEv,
			Gap:        "the default is not recorded in a reviewed policy file",
			Mitigation: `Create ` + path + ` with {"require_confirmation_for_untrusted": true} and have it reviewed.`}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "untrusted content needs an extra CONFIRM before privileged commands", Evidence: evText}
	}
}

// commandPolicy judges the command policy that narrows what may be
// approved.
func commandPolicy(ev *evidence) outcome {
	path, err := ev.commandPath, ev.commandErr
	req := "OPENCLAW_REQUIRE_POLICY_FILES is not 1 in this environment"
	if ev.Env.RequirePolicyFiles {
		req = "OPENCLAW_REQUIRE_POLICY_FILES=1 in this environment"
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "no command policy; only the built-in rules apply", Evidence: path + " does not exist; " + req,
			Gap:        "no reviewed allow/deny list narrows what may be approved",
			Mitigation: `Create ` + path + ` ({"allow":[…],"deny":[…],"allow_exact":[[…]],"deny_exact":[[…]]}), have it reviewed, and set OPENCLAW_REQUIRE_POLICY_FILES=1 for the gateway.`}
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the command policy is unusable", Evidence: err.Error(),
			Gap:        "the guard refuses every privileged command while the policy is malformed or unsafe",
			Mitigation: "Fix " + path + " (`clawwarden policy check --file " + path + " -- true` shows the error)."}
	}
	n := 0
	var parts []string
	for _, k := range []string{"allow", "deny", "allow_exact", "deny_exact"} {
		n += ev.commandCounts[k]
		parts = append(parts, fmt.Sprintf("%s %d", k, ev.commandCounts[k]))
	}
	evText := path + ": " + strings.Join(parts, ", ") + "; " + req
	if n == 0 {
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "the command policy has no rules", Evidence: evText,
			Gap: "only the built-in rules apply", Mitigation: "Add allow/deny rules for the commands agents need to " + path + "."}
	}
	return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("a command policy with %d rules applies", n), Evidence: evText}
}

// sessionBoundary judges whether approvals are bound to a task session and
// expire.
func sessionBoundary(ev *evidence) outcome {
	path := ev.sessionPath
	evText := "OPENCLAW_REQUIRE_SESSION_ID is not 1 in this environment"
	if ev.Env.RequireSessionID {
		evText = "OPENCLAW_REQUIRE_SESSION_ID=1 in this environment"
	}
	st := ev.session
	switch err := ev.sessionErr; {
	case err != nil && ev.sessionCorrupt:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the session state is corrupt", Evidence: err.Error(),
			Gap: "approvals cannot be trusted", Mitigation: "Run `clawwarden session drop` (it moves a corrupt state aside)."}
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the session state is unsafe or unreadable", Evidence: err.Error(),
			Gap: "approvals cannot be trusted", Mitigation: "Run `clawwarden session drop` (it moves a corrupt state aside)."}
	case !ev.sessionFound:
		evText += "; no session state at " + path
	default:
		evText += fmt.Sprintf("; %s: %d approval(s) held", path, len(st.Approvals))
	}
	unscoped := 0
	for _, a := range st.Approvals {
		if a.SessionID == "" {
			unscoped++
		}
	}
	switch {
	case len(st.Approvals) > 0 && st.Expired(ev.Now):
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: fmt.Sprintf("%d approval(s) past the 30-minute idle limit are still stored", len(st.Approvals)), Evidence: evText,
			Gap: "they are refused when used, but should have been dropped", Mitigation: "Run `clawwarden session drop`."}
	case !ev.Env.RequireSessionID:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "approvals are not required to carry a task session id", Evidence: evText,
			Gap:        "an approval given for one task can be reused by another task of the same agent within the idle window",
			Mitigation: "Set OPENCLAW_REQUIRE_SESSION_ID=1 in the gateway's environment and pass OPENCLAW_TASK_SESSION_ID per task."}
	case unscoped > 0:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: fmt.Sprintf("%d stored approval(s) have no session id", unscoped), Evidence: evText,
			Gap: "approvals from before the requirement are not scoped", Mitigation: "Run `clawwarden session drop`."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "approvals are bound to a task session id", Evidence: evText}
	}
}

// multiFactor judges what an approval needs besides a keypress: a
// passphrase in same-user mode, signatures with hardware keys in enforced
// mode.
func multiFactor(ev *evidence) outcome {
	if en := ev.Enforced; en != nil {
		evText := fmt.Sprintf("enforced mode: %d approver key(s) in /etc/clawwarden/allowed_signers, %d hardware-backed (sk-)", en.Keys, en.HardwareKeys)
		switch {
		case en.Keys > 0 && en.HardwareKeys == en.Keys:
			return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "every approver signs with a hardware key that needs a touch", Evidence: evText}
		default:
			return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "approvers sign with SSH keys, not all of them hardware keys that need a touch", Evidence: evText,
				Gap:        "a stolen key file, or an ssh-agent forwarded to a compromised host, can sign an approval",
				Mitigation: "Register a FIDO key per approver (ssh-keygen -t ed25519-sk), or add keys with `ssh-add -c` so each signature asks; sign locally, not through a forwarded agent."}
		}
	}
	path, p, err := ev.passphrasePath, ev.passphrase, ev.passphraseErr
	token := ev.Env.ApprovalToken != ""
	tokenEv := "OPENCLAW_APPROVAL_TOKEN is not set in this environment"
	if token {
		tokenEv = "OPENCLAW_APPROVAL_TOKEN is set in this environment"
	}
	switch {
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the approval passphrase record is unusable", Evidence: err.Error() + "; " + tokenEv,
			Gap: "approvals that need the passphrase fail", Mitigation: "Set it again with `clawwarden approval set-passphrase`."}
	case p != nil:
		obs := "an approval passphrase is set (stored as a salted Argon2id-derived key)"
		if token {
			obs += "; the environment token is also set (weak on its own)"
		}
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: obs, Evidence: path + "; " + tokenEv}
	case token:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "approval relies on OPENCLAW_APPROVAL_TOKEN only", Evidence: path + " does not exist; " + tokenEv,
			Gap:        "the token lives in the agent's environment, so the agent can read and type it: it proves little",
			Mitigation: "Run `clawwarden approval set-passphrase` on the person's own terminal; the passphrase is never stored in the agent's reach."}
	default:
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "approval needs only a keypress on the terminal", Evidence: path + " does not exist; " + tokenEv,
			Gap:        "no second factor: whoever controls the approving terminal approves",
			Mitigation: "Run `clawwarden approval set-passphrase` on the person's own terminal."}
	}
}
