package assess

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/enforce"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

// GatherOptions say how [Gather] reads the running host: what the command
// line and the environment chose.
type GatherOptions struct {
	Paths  config.Paths
	Env    config.Env
	Getenv func(string) string // the environment the hook's status is read with
	Now    time.Time
	// Enforced says enforced mode is installed here; its status is then
	// read (see package enforce).
	Enforced bool
	// OpenClaw runs `openclaw security audit --json` and `openclaw
	// approvals get --json` when the openclaw command is on PATH; false
	// skips them (--no-openclaw-audit).
	OpenClaw        bool
	OpenClawTimeout time.Duration // for each openclaw command
}

// Gather reads the running host's evidence that [Run] does not read itself
// and returns the [Options] for it: the user, uid, groups and host name,
// `sudo -n -l` as the fallback for unreadable sudoers files, enforced
// mode's status, the live socket scan for gateway processes, the hook's
// status, and OpenClaw's exec policy and security audit. Each openclaw
// command is a Node start of several seconds, so the hook's status, the
// exec policy and the audit are read side by side.
func Gather(ctx context.Context, g GatherOptions) Options {
	name, uid, groups := currentUser()
	host, _ := os.Hostname()
	o := Options{
		Paths:      g.Paths,
		Env:        g.Env,
		ConfigPath: openclaw.ConfigPath(g.Env.ConfigPath, g.Paths.StateDir, g.Paths.Home),
		Now:        g.Now,
		Hostname:   host,
		User:       name,
		UID:        uid,
		Groups:     groups,
		SudoList:   sudoList(g.Env.RealSudo),
		Gateway:    liveGateway(ctx),
	}
	if g.Enforced {
		o.Enforced = enforcement(enforce.Check(ctx, enforce.Options{}))
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if h, err := hook.New(g.Paths, g.Getenv); err != nil {
			o.HookErr = err
		} else {
			o.Hook, o.HookErr = h.Status(ctx)
		}
	})
	exe, lookErr := exec.LookPath("openclaw")
	switch {
	case !g.OpenClaw:
		o.ExecPolicyNote = "skipped (--no-openclaw-audit)"
		o.OpenClawAuditNote = "skipped (--no-openclaw-audit)"
	case lookErr != nil:
		o.ExecPolicyNote = "the openclaw command is not on PATH"
		o.OpenClawAuditNote = "the openclaw command is not on PATH"
	default:
		wg.Go(func() { o.ExecPolicy, o.ExecPolicyNote = execPolicy(ctx, exe, g.OpenClawTimeout) })
		wg.Go(func() { o.OpenClawAudit, o.OpenClawAuditNote = openClawAudit(ctx, exe, g.OpenClawTimeout) })
	}
	wg.Wait()
	return o
}

// currentUser returns the name, uid and group names of the running user.
func currentUser() (name string, uid int, groups []string) {
	uid = os.Getuid()
	name = strconv.Itoa(uid)
	u, err := user.Current()
	if err != nil {
		return name, uid, nil
	}
	name = u.Username
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if g, err := user.LookupGroupId(id); err == nil {
			groups = append(groups, g.Name)
		}
	}
	return name, uid, groups
}

// sudoList returns the function that runs `sudo -n -l` (realSudo, or
// /usr/bin/sudo when empty) with a clean environment and a time limit.
func sudoList(realSudo string) func(context.Context) ([]byte, error) {
	if realSudo == "" {
		realSudo = "/usr/bin/sudo"
	}
	return func(ctx context.Context) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, realSudo, "-n", "-l")
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C"}
		var errb strings.Builder
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			if msg := strings.TrimSpace(errb.String()); msg != "" {
				return nil, fmt.Errorf("%s: %w", msg, err)
			}
			return nil, err
		}
		return out, nil
	}
}

// enforcement is what the assessment needs of enforced mode's status: the
// approvers' keys that need a touch are the FIDO (sk-) ones.
func enforcement(st enforce.Status) *Enforcement {
	en := &Enforcement{Enforced: st.Enforced, AgentUser: st.AgentUser, Reasons: st.Reasons, Evidence: st.Boundary.Evidence, Keys: len(st.Signers)}
	for _, s := range st.Signers {
		if strings.Contains(s, "hardware") {
			en.HardwareKeys++
		}
	}
	return en
}

// liveGateway scans the listening sockets for OpenClaw gateway processes.
func liveGateway(ctx context.Context) *LiveGateway {
	inv, err := sockets.List(ctx, sockets.Options{Listening: true})
	if err != nil {
		return &LiveGateway{Note: "the socket scan failed: " + err.Error()}
	}
	g := &LiveGateway{Listeners: openclaw.GatewayListeners(inv.Sockets, openclaw.Cmdline)}
	if inv.Partial {
		g.Note = inv.Note
	}
	return g
}

// execPolicy reads OpenClaw's exec policy; a nil policy comes with the
// reason.
func execPolicy(ctx context.Context, exe string, timeout time.Duration) ([]openclaw.ExecScope, string) {
	scopes, err := openclaw.RunApprovals(ctx, exe, timeout)
	if err != nil {
		return nil, err.Error()
	}
	if scopes == nil {
		scopes = []openclaw.ExecScope{}
	}
	return scopes, ""
}

// openClawAudit runs OpenClaw's security audit; the note names the command
// that ran, or says why it failed.
func openClawAudit(ctx context.Context, exe string, timeout time.Duration) (*openclaw.AuditReport, string) {
	r, err := openclaw.RunAudit(ctx, exe, timeout)
	if err != nil {
		return nil, err.Error()
	}
	return r, exe + " security audit --json"
}
