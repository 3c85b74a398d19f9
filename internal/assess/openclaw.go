package assess

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/ports"
)

// The checks of OpenClaw's configuration: chat channels, the gateway's
// bind and auth, and the permissions of its state.

// configUnknown is the outcome of an OpenClaw configuration check when
// openclaw.json cannot be read; false when it was read.
func configUnknown(ev *evidence) (outcome, bool) {
	if ev.cfg != nil {
		return outcome{}, false
	}
	if errors.Is(ev.cfgErr, fs.ErrNotExist) {
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "no OpenClaw configuration",
			Evidence: ev.ConfigPath + " does not exist", Gap: "OpenClaw's settings cannot be checked",
			Mitigation: "Point OPENCLAW_CONFIG_PATH (or OPENCLAW_STATE_DIR) at the gateway's openclaw.json and assess again."}, true
	}
	return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the OpenClaw configuration cannot be read", Evidence: ev.cfgErr.Error(),
		Gap: "OpenClaw's settings cannot be checked", Mitigation: "Fix " + ev.ConfigPath + " (`openclaw doctor` validates it), then assess again."}, true
}

// channelSummary is what the enabled chat channels of openclaw.json allow.
type channelSummary struct {
	names      []string // enabled channels
	open       []string // channels anyone can message
	pairing    []string // channels where unknown senders can request pairing
	noMention  []string // groups where mention gating is off
	openGroups []string // channels whose groupPolicy is open
	evidence   string
}

// summarizeChannels reads the enabled channels of cfg.
func summarizeChannels(cfg *openclaw.Config) channelSummary {
	var c channelSummary
	for _, ch := range cfg.Channels() {
		if !ch.Enabled {
			continue
		}
		c.names = append(c.names, ch.ID)
		desc := fmt.Sprintf("channels.%s (dmPolicy %s, groupPolicy %s, allowFrom %d entries)", ch.ID, ch.DMPolicy, ch.GroupPolicy, len(ch.AllowFrom))
		switch {
		case ch.DMPolicy == "open" || ch.GroupPolicy == "open" || ch.Wildcard:
			c.open = append(c.open, desc)
		case ch.DMPolicy == "pairing":
			c.pairing = append(c.pairing, desc)
		}
		for _, g := range ch.NoMention {
			c.noMention = append(c.noMention, "channels."+ch.ID+"."+g)
		}
		if ch.GroupPolicy == "open" {
			c.openGroups = append(c.openGroups, ch.ID)
		}
	}
	c.evidence = fmt.Sprintf("%s: enabled channels: %s", cfg.Path, orNone(c.names))
	return c
}

// channelAllowlist judges who can message the agent.
func channelAllowlist(ev *evidence) outcome {
	if out, ok := configUnknown(ev); ok {
		return out
	}
	c := summarizeChannels(ev.cfg)
	evText := c.evidence
	switch {
	case len(c.names) == 0:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "no chat channel is configured", Evidence: evText}
	case len(c.open) > 0:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "anyone can message the agent on " + strings.Join(c.open, "; "), Evidence: evText,
			Gap:        "open DM or group policy or a \"*\" allowFrom lets strangers instruct the agent",
			Mitigation: "In " + ev.cfg.Path + " set channels.<channel>.dmPolicy to \"allowlist\" and groupPolicy to \"allowlist\", list trusted senders in allowFrom, and remove \"*\" (`openclaw config set channels.<channel>.dmPolicy allowlist`)."}
	case len(c.pairing) > 0:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "unknown senders can request pairing on " + strings.Join(c.pairing, "; "), Evidence: evText,
			Gap:        "pairing lets unknown senders ask the owner for access; an explicit allowlist does not",
			Mitigation: "Set channels.<channel>.dmPolicy to \"allowlist\" with the trusted senders in allowFrom in " + ev.cfg.Path + "."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "every channel accepts only allowlisted senders", Evidence: evText}
	}
}

// groupMentions judges whether group messages need a mention.
func groupMentions(ev *evidence) outcome {
	if out, ok := configUnknown(ev); ok {
		return out
	}
	c := summarizeChannels(ev.cfg)
	switch {
	case len(c.noMention) > 0:
		status, risk := StatusPartial, RiskMedium
		if len(c.openGroups) > 0 {
			status, risk = StatusViolation, RiskHigh
		}
		return outcome{Status: status, Risk: risk, Observed: "mention gating is off for " + strings.Join(c.noMention, ", "), Evidence: c.evidence,
			Gap:        "the agent acts on every group message there, including injected instructions from any member",
			Mitigation: "Set requireMention: true (or remove requireMention: false) for these groups in " + ev.cfg.Path + "."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "group messages need a mention (OpenClaw's default; no group turns it off)", Evidence: c.evidence}
	}
}

// gatewayMitigation is the fix for a gateway reachable from other hosts.
const gatewayMitigation = "Run `openclaw config set gateway.bind loopback` and restart the gateway; reach it remotely through an SSH tunnel or Tailscale Serve."

// gatewayLoopback judges where the gateway listens. What it listens on now
// outranks what the configuration says: a gateway started with other
// flags, or without a configuration file, binds where it was told.
func gatewayLoopback(ev *evidence) outcome {
	var live, exposed []string
	if g := ev.Gateway; g != nil {
		for _, l := range g.Listeners {
			s := fmt.Sprintf("pid %d (%s) listens on %s %s", l.PID, l.Process, l.Proto, l.Address)
			live = append(live, s)
			if l.BeyondLoopback() {
				exposed = append(exposed, s)
			}
		}
	}
	if len(exposed) > 0 {
		return gatewayExposed(ev, exposed)
	}
	if ev.cfg == nil && len(live) > 0 && errors.Is(ev.cfgErr, fs.ErrNotExist) {
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the running gateway listens on loopback only (no OpenClaw configuration to check its auth)",
			Evidence: strings.Join(live, "; ") + " (live socket scan); " + ev.ConfigPath + " does not exist"}
	}
	if out, ok := configUnknown(ev); ok {
		return out
	}
	return gatewayConfigured(ev, live)
}

// gatewayExposed judges a gateway process the live scan found listening
// beyond loopback, naming what the configuration says.
func gatewayExposed(ev *evidence, exposed []string) outcome {
	var cfgSays string
	switch {
	case ev.cfg != nil:
		bind, set := ev.cfg.Bind()
		cfgSays = fmt.Sprintf("%s says gateway.bind=%s", ev.cfg.Path, bind)
		if !set {
			cfgSays += " (unset: loopback)"
		}
	case errors.Is(ev.cfgErr, fs.ErrNotExist):
		cfgSays = fmt.Sprintf("there is no OpenClaw configuration (%s does not exist), so nothing says loopback", ev.ConfigPath)
	default:
		cfgSays = fmt.Sprintf("the configuration %s cannot be read: %v", ev.ConfigPath, ev.cfgErr)
	}
	risk := RiskHigh
	if ev.cfg != nil && ev.cfg.Auth().Mode == "none" {
		risk = RiskCritical
	}
	return outcome{Status: StatusViolation, Risk: risk, Observed: "the running gateway listens beyond loopback: " + strings.Join(exposed, "; "),
		Evidence:   strings.Join(exposed, "; ") + "; " + cfgSays + " (live socket scan)",
		Gap:        "the gateway's WebSocket and HTTP API are reachable from other hosts, whatever the configuration says",
		Mitigation: gatewayMitigation + " If the gateway was started by hand with --bind or without a configuration file, restart it with --bind loopback."}
}

// gatewayConfigured judges openclaw.json's gateway settings, with the live
// scan (live: what gateway processes listen on, all on loopback) and the
// latest port report as evidence.
func gatewayConfigured(ev *evidence, live []string) outcome {
	bind, set := ev.cfg.Bind()
	port := 18789
	if v, ok := ev.cfg.Get("gateway.port"); ok {
		if f, ok := v.(float64); ok {
			port = int(f)
		}
	}
	auth := ev.cfg.Auth()
	evText := fmt.Sprintf("%s: gateway.bind=%s", ev.cfg.Path, bind)
	if !set {
		evText += " (unset; OpenClaw's default)"
	}
	evText += fmt.Sprintf(", gateway.port=%d, gateway.auth.mode=%s", port, orDefault(auth.Mode, "unset"))
	switch g := ev.Gateway; {
	case g == nil:
	case len(live) > 0:
		evText += "; live: " + strings.Join(live, "; ")
	case g.Note != "":
		evText += "; live scan: " + g.Note
	default:
		evText += "; live: no gateway process is listening"
	}
	var public []string
	if ev.portsRep != nil {
		for _, l := range ev.portsRep.Listeners {
			if int(l.Port) == port && l.Protocol == "tcp" && slices.Contains(l.Flags, "public") {
				public = append(public, fmt.Sprintf("%s:%d (%s)", l.BindAddress, l.Port, l.Process))
			}
		}
		evText += fmt.Sprintf("; %s (generated %s)", ports.ReportFile, ev.portsRep.GeneratedAt)
	}
	switch {
	case !openclaw.BindIsLoopback(bind):
		risk := RiskHigh
		if auth.Mode == "none" {
			risk = RiskCritical
		}
		return outcome{Status: StatusViolation, Risk: risk, Observed: "the gateway binds " + bind + ", not loopback", Evidence: evText,
			Gap: "the gateway's WebSocket and HTTP API are reachable from other hosts", Mitigation: gatewayMitigation}
	case len(public) > 0:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "a process listens publicly on the gateway port: " + strings.Join(public, ", "), Evidence: evText,
			Gap: "the configuration says loopback, but the port is exposed", Mitigation: gatewayMitigation + " Check for an older gateway or a proxy on that port."}
	case auth.Mode == "none" || (auth.Mode != "trusted-proxy" && !auth.HasToken && !auth.HasPassword):
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "the gateway is on loopback but openclaw.json configures no gateway auth secret", Evidence: evText,
			Gap:        "any local process or user can drive the gateway",
			Mitigation: "Set gateway.auth.mode to \"token\" with gateway.auth.token from a secret reference or ${OPENCLAW_GATEWAY_TOKEN} in " + ev.cfg.Path + " (`openclaw configure` generates one)."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the gateway binds loopback only", Evidence: evText}
	}
}

// secretsPermissions judges the modes of OpenClaw's state, configuration
// and credentials, and whether gateway.auth keeps a plaintext secret.
func secretsPermissions(ev *evidence) outcome {
	state := ev.Paths.StateDir
	if ev.stateErr != nil {
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the OpenClaw state directory cannot be read", Evidence: ev.stateErr.Error(),
			Gap: "no evidence about file permissions", Mitigation: "Point OPENCLAW_STATE_DIR at the gateway's state directory and assess again."}
	}
	if ev.openclawFiles == 0 {
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium,
			Observed:   "no OpenClaw files under " + state + " (no " + filepath.Base(ev.ConfigPath) + ", credentials or agents); only clawwarden's own files are there",
			Evidence:   fmt.Sprintf("checked %d paths under %s", len(ev.stateFiles), state),
			Gap:        "no evidence about how OpenClaw keeps its secrets",
			Mitigation: "Point OPENCLAW_STATE_DIR (or OPENCLAW_CONFIG_PATH) at the gateway's state and assess again."}
	}
	var loose []string
	for _, f := range ev.stateFiles {
		if f.mode&fs.ModeSymlink == 0 && f.mode.Perm()&0o077 != 0 {
			loose = append(loose, fmt.Sprintf("%s is %04o", f.path, f.mode.Perm()))
		}
	}
	auth := gatewayAuthOf(ev.cfg)
	evText := fmt.Sprintf("checked %d paths under %s", len(ev.stateFiles), state)
	switch {
	case len(loose) > 0:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "OpenClaw files are readable by group or others: " + strings.Join(loose, ", "), Evidence: evText,
			Gap:        "other local users can read tokens, credentials and session data",
			Mitigation: "Run `chmod 700 " + state + "` and `chmod 600` on the files listed (or `openclaw security audit --fix`)."}
	case auth.Plaintext:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "gateway.auth holds a plaintext token or password in " + ev.ConfigPath, Evidence: evText + "; permissions are owner-only",
			Gap:        "the secret is stored in the config file itself and copied into backups",
			Mitigation: "Move gateway.auth.token/password to a secret reference or ${OPENCLAW_GATEWAY_TOKEN} (`openclaw secrets`), then rotate it."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "OpenClaw state, config and credentials are owner-only", Evidence: evText}
	}
}

// gatewayAuthOf returns the gateway auth settings of cfg; the zero value
// when cfg is nil.
func gatewayAuthOf(cfg *openclaw.Config) openclaw.GatewayAuth {
	if cfg == nil {
		return openclaw.GatewayAuth{}
	}
	return cfg.Auth()
}
