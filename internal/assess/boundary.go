package assess

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// privilegeBoundary assesses what separates the person from the agent. In
// enforced mode that is the root helper and a signed decision. In same-user
// mode the only secret is the person's sudo password, asked for on every
// `sudo -k` clawwarden runs. That mode is advisory against a hostile agent,
// so the check is never compliant there; it is a violation where the
// password is void (NOPASSWD) or sudo's ticket of one terminal serves
// another, or where a process can type into its terminal (TIOCSTI).
func privilegeBoundary(ev *evidence) outcome {
	if en := ev.Enforced; en != nil {
		return enforcedBoundary(en)
	}
	b := &sameUser{user: ev.User, evidence: []string{"mode: same-user (the assessment does not detect enforced mode yet)"}}
	b.sudoRights(ev.sudo)
	b.terminalInjection(ev.tiocsti)
	b.ptraceScope(ev.ptrace, ev.goos == "linux" || ev.Root != "")
	touch, pamEv := touchFactor(ev.pam)
	b.evidence = append(b.evidence, pamEv)
	if !touch {
		b.fixes = append(b.fixes, "require a touch for sudo: `apt-get install libpam-u2f pamu2fcfg`, register the key in a root-owned list with `pamu2fcfg | sudo tee -a /etc/u2f_mappings` (a list in the home directory is the agent's to edit), then add `auth required pam_u2f.so cue authfile=/etc/u2f_mappings` to /etc/pam.d/sudo above `@include common-auth` (keep a root shell open until sudo works)")
	}
	return b.outcome(ev.sudo.Unknown != "", touch)
}

// enforcedBoundary judges enforced mode: compliant while it holds.
func enforcedBoundary(en *Enforcement) outcome {
	evText := "mode: enforced for " + en.AgentUser + "; " + strings.Join(en.Evidence, "; ")
	if en.Enforced {
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "enforced mode: " + en.AgentUser + "'s one sudo right is the root helper, and a person approves each command with a signed decision",
			Evidence: evText}
	}
	return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "enforced mode is installed for " + en.AgentUser + " but does not hold: " + strings.Join(en.Reasons, "; "), Evidence: evText,
		Gap:        "the agent account can reach root without a person's signed decision",
		Mitigation: "Close each route listed (the fix is named with it), then check with `clawwarden enforce status` as root."}
}

// sameUser collects what weakens same-user mode's boundary: one observed
// phrase, gap and fix per finding, and the evidence read.
type sameUser struct {
	user      string
	violation bool // a finding voids the password
	found     []string
	gaps      []string
	fixes     []string
	evidence  []string
}

// finding adds one finding; violation says it voids the password.
func (b *sameUser) finding(violation bool, obs, gap, fix string) {
	b.violation = b.violation || violation
	b.found, b.gaps, b.fixes = append(b.found, obs), append(b.gaps, gap), append(b.fixes, fix)
}

// sudoRights judges the sudo rules and the ticket settings.
func (b *sameUser) sudoRights(s SudoPosture) {
	u := b.user
	if s.Unknown != "" {
		b.evidence = append(b.evidence, "sudoers: "+s.Unknown)
		b.fixes = append(b.fixes, "let "+u+" list its own sudo rules (`Defaults:"+u+" listpw=never` in /etc/sudoers.d/clawwarden-assess, with visudo) and assess again")
		return
	}
	var nopw []SudoRule
	for _, r := range s.Rules {
		if r.NoPasswd {
			nopw = append(nopw, r)
		}
	}
	if len(nopw) > 0 {
		b.evidence = append(b.evidence, "NOPASSWD rules for "+u+": "+ruleList(nopw))
		b.finding(true, fmt.Sprintf("%d NOPASSWD sudo rule(s) for %s", len(nopw), u),
			"NOPASSWD: any process of "+u+" runs those commands as root with no password and without clawwarden",
			"remove NOPASSWD from the rules listed (`visudo -f FILE`)")
	} else {
		b.evidence = append(b.evidence, fmt.Sprintf("no NOPASSWD rule among the %d sudo rule(s) for %s in %s", len(s.Rules), u, s.Source))
	}
	noCache := s.TimestampTimeout != nil && *s.TimestampTimeout == 0
	b.ticketScope(s, noCache)
	b.ticketLifetime(s, noCache)
}

// ticketScope judges timestamp_type: who may use the person's ticket.
func (b *sameUser) ticketScope(s SudoPosture, noCache bool) {
	u := b.user
	switch ty := s.TimestampType; ty {
	case "global", "ppid":
		at := "timestamp_type=" + ty + " from " + s.TimestampTypeFrom
		if noCache {
			b.evidence = append(b.evidence, at+", moot while timestamp_timeout=0: sudo keeps no ticket")
			return
		}
		b.evidence = append(b.evidence, at)
		reach := "in any terminal or none"
		if ty == "ppid" {
			reach = "with the same parent process, terminal or not"
		}
		b.finding(true, "sudo tickets are not bound to a terminal (timestamp_type="+ty+")",
			"timestamp_type="+ty+": a ticket left by the person's own sudo lets any process of "+u+", "+reach+", run sudo with no password and without clawwarden",
			"remove the setting ("+s.TimestampTypeFrom+") with visudo, or add `Defaults:"+u+" timestamp_type=tty`")
	case "":
		b.evidence = append(b.evidence, "timestamp_type unset (sudo's default, tty: a ticket serves one terminal session)")
	default:
		b.evidence = append(b.evidence, "timestamp_type="+ty+" from "+s.TimestampTypeFrom)
	}
}

// ticketLifetime judges timestamp_timeout: whether the person's sudo
// leaves a ticket at all.
func (b *sameUser) ticketLifetime(s SudoPosture, noCache bool) {
	if noCache {
		b.evidence = append(b.evidence, "timestamp_timeout=0 from "+s.TimestampTimeoutFrom+": sudo keeps no ticket")
		return
	}
	t := s.TimestampTimeout
	val, at, valid := "timestamp_timeout unset, so 15 minutes", "timestamp_timeout unset (sudo's default, 15 minutes)", "valid 15 minutes"
	if t != nil {
		val = "timestamp_timeout=" + strconv.FormatFloat(*t, 'f', -1, 64)
		at = val + " from " + s.TimestampTimeoutFrom
		valid = "valid " + strconv.FormatFloat(*t, 'f', -1, 64) + " minutes"
		if *t < 0 {
			valid = "with no expiry"
		}
	}
	b.evidence = append(b.evidence, at)
	b.finding(false, "sudo caches the person's credentials ("+val+")",
		"the person's own `sudo` leaves a ticket ("+valid+") that any process in the same terminal session can use to run sudo with no password and without clawwarden",
		"set `Defaults:"+b.user+" timestamp_timeout=0` in /etc/sudoers.d/ with visudo (clawwarden runs `sudo -k` and needs no cached credentials)")
}

// terminalInjection judges dev.tty.legacy_tiocsti.
func (b *sameUser) terminalInjection(f fileRead) {
	switch {
	case errors.Is(f.err, fs.ErrNotExist):
		b.evidence = append(b.evidence, f.path+" not present (not Linux, or a kernel without the switch): TIOCSTI not checked")
		return
	case f.err != nil:
		b.evidence = append(b.evidence, "TIOCSTI not checked: "+f.err.Error())
		return
	}
	switch v := strings.TrimSpace(string(f.data)); v {
	case "1":
		b.evidence = append(b.evidence, f.path+": 1")
		b.finding(true, "processes can type into their terminal (dev.tty.legacy_tiocsti=1)",
			"TIOCSTI: a process can push keystrokes into the terminal it runs in, so an agent started from the person's shell can queue commands, sudo included, that the person's shell then runs",
			"run `sysctl -w dev.tty.legacy_tiocsti=0` and keep it across reboots with a file in /etc/sysctl.d/ (e.g. `echo dev.tty.legacy_tiocsti=0 > /etc/sysctl.d/60-legacy-tiocsti.conf`)")
	case "0":
		b.evidence = append(b.evidence, f.path+": 0 (TIOCSTI needs CAP_SYS_ADMIN)")
	default:
		b.evidence = append(b.evidence, fmt.Sprintf("%s: unexpected value %q: TIOCSTI not checked", f.path, v))
	}
}

// ptraceScope judges kernel.yama.ptrace_scope; an open scope is a finding
// only where Yama applies (Linux, or a test's filesystem root).
func (b *sameUser) ptraceScope(f fileRead, applies bool) {
	switch {
	case f.err != nil && !errors.Is(f.err, fs.ErrNotExist):
		b.evidence = append(b.evidence, "ptrace scope not checked: "+f.err.Error())
	case f.err != nil || strings.TrimSpace(string(f.data)) == "0":
		val := "the Yama LSM is not active (" + f.path + " not present)"
		if f.err == nil {
			val = f.path + ": 0"
		}
		b.evidence = append(b.evidence, val)
		if applies {
			b.finding(false, "any process can trace or rewrite the memory of the account's other processes ("+val+")",
				"a process of the account can attach to the person's shell or to `clawwarden approve` as it starts (before it makes itself non-dumpable) and change what runs",
				"set `kernel.yama.ptrace_scope=1` (a file in /etc/sysctl.d/; needs the Yama LSM in the kernel's lsm= list)")
		}
	default:
		b.evidence = append(b.evidence, f.path+": "+strings.TrimSpace(string(f.data)))
	}
}

// outcome sums the findings up; same-user mode is at best partial.
func (b *sameUser) outcome(sudoUnknown, touch bool) outcome {
	u := b.user
	status, risk := StatusPartial, RiskMedium
	if b.violation {
		status, risk = StatusViolation, RiskHigh
	}
	obs := "same-user mode: " + strings.Join(b.found, "; ")
	switch {
	case len(b.found) == 0 && sudoUnknown:
		obs = "same-user mode; the sudo rights of " + u + " could not be read"
	case len(b.found) == 0:
		obs = "same-user mode: sudo asks for the person's password on every command clawwarden runs, and nothing found weakens that"
	case sudoUnknown:
		obs += "; the sudo rights of " + u + " could not be read"
	}
	if touch {
		obs += "; sudo also needs a touch"
	}
	gap := "same-user mode is advisory against a hostile agent: the person's sudo password is the only thing that tells the person from the agent, and a process of " + u +
		" can alias sudo in the person's shell or type into a terminal multiplexer the person uses"
	if len(b.gaps) > 0 {
		gap += "; " + strings.Join(b.gaps, "; ")
	}
	mit := "Run `clawwarden enforce install` (enforced mode, the fix): the agent then runs as its own account whose only sudo right is clawwarden's root helper, and a person approves each command with a signed decision."
	if len(b.fixes) > 0 {
		mit += " Until then: " + strings.Join(b.fixes, "; ") + "."
	}
	return outcome{Status: status, Risk: risk, Observed: obs, Evidence: strings.Join(b.evidence, "; "), Gap: gap, Mitigation: mit}
}

// touchModules are PAM modules that need a person's touch or fingerprint.
var touchModules = []string{"pam_u2f.so", "pam_tid.so"}

// touchFactor reports whether the auth stack of /etc/pam.d/sudo needs a
// touch (pam_u2f, or Touch ID's pam_tid on macOS), and says where it looked.
// Includes (@include, include, substack) are followed one level deep.
func touchFactor(st pamStack) (bool, string) {
	switch {
	case errors.Is(st.sudo.err, fs.ErrNotExist):
		return false, st.sudo.path + " not present: no PAM touch factor for sudo"
	case st.sudo.err != nil:
		return false, "PAM touch factor not checked: " + st.sudo.err.Error()
	}
	read := []string{st.sudo.path}
	var unread []string
	var weak []string // touch modules that do not gate sudo
	for _, l := range st.sudo.lines {
		inc := pamInclude(l)
		if inc == "" {
			if strings.TrimPrefix(l.fields[0], "-") == "auth" && gatesSudo(l, &weak) {
				return true, fmt.Sprintf("PAM: %s at %s", filepath.Base(l.fields[2]), l.where)
			}
			continue
		}
		sub, ok := st.includes[inc]
		if !ok {
			continue // not read: as good as missing
		}
		if sub.err != nil {
			// A missing include breaks sudo's PAM stack rather than
			// weakening it; anything else is worth saying.
			if !errors.Is(sub.err, fs.ErrNotExist) {
				unread = append(unread, sub.err.Error())
			}
			continue
		}
		read = append(read, sub.path)
		for _, s := range sub.lines {
			if strings.TrimPrefix(s.fields[0], "-") == "auth" && gatesSudo(s, &weak) {
				return true, fmt.Sprintf("PAM: %s at %s (included from %s)", filepath.Base(s.fields[2]), s.where, l.where)
			}
		}
	}
	evText := "PAM: no touch factor (pam_u2f) in the auth stack of " + strings.Join(read, ", ")
	if len(weak) > 0 {
		evText += " that sudo requires: " + strings.Join(weak, "; ")
	}
	if len(unread) > 0 {
		evText += "; not read: " + strings.Join(unread, "; ")
	}
	return false, evText
}

// gatesSudo reports whether the auth rule l is a touch module that sudo
// requires; a touch module that does not gate sudo is added to weak.
func gatesSudo(l pamLine, weak *[]string) bool {
	if len(l.fields) < 3 || !slices.Contains(touchModules, filepath.Base(l.fields[2])) {
		return false
	}
	args := l.fields[3:]
	authfile := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "authfile="); ok {
			authfile = v
		}
	}
	switch {
	case l.fields[1] == "optional":
		*weak = append(*weak, l.where+" is optional")
	case slices.Contains(args, "alwaysok"):
		*weak = append(*weak, l.where+" has alwaysok")
	case slices.Contains(args, "nouserok") && !filepath.IsAbs(authfile):
		// The key list lives in the account's home: deleting it skips
		// the touch.
		*weak = append(*weak, l.where+" has nouserok with the key list in the home directory")
	default:
		return true
	}
	return false
}

// pamInclude returns the file a PAM rule includes (@include, auth include,
// auth substack), absolute under /etc/pam.d; "" when it includes none.
func pamInclude(l pamLine) string {
	kind := strings.TrimPrefix(l.fields[0], "-")
	var inc string
	switch {
	case kind == "@include" && len(l.fields) > 1:
		inc = l.fields[1]
	case kind == "auth" && len(l.fields) > 2 && (l.fields[1] == "include" || l.fields[1] == "substack"):
		inc = l.fields[2]
	default:
		return ""
	}
	if !filepath.IsAbs(inc) {
		inc = filepath.Join("/etc/pam.d", inc)
	}
	return inc
}

// pamLine is one PAM rule: type, control (a bracketed control is one
// field), module path and arguments, or @include and a file.
type pamLine struct {
	where  string // file:line
	fields []string
}

// parsePAM returns the rules of the PAM configuration file path, without
// comments and blank lines; backslash continuations are joined.
func parsePAM(path string, data []byte) []pamLine {
	var out []pamLine
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		no, text := i+1, lines[i]
		for strings.HasSuffix(text, "\\") && i+1 < len(lines) {
			i++
			text = strings.TrimSuffix(text, "\\") + " " + lines[i]
		}
		if c := strings.IndexByte(text, '#'); c >= 0 {
			text = text[:c]
		}
		var fields []string
		for _, f := range strings.Fields(text) {
			if n := len(fields); n > 0 && strings.HasPrefix(fields[n-1], "[") && !strings.HasSuffix(fields[n-1], "]") {
				fields[n-1] += " " + f
				continue
			}
			fields = append(fields, f)
		}
		if len(fields) > 0 {
			out = append(out, pamLine{where: fmt.Sprintf("%s:%d", path, no), fields: fields})
		}
	}
	return out
}
