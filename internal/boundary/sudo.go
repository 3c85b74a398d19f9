package boundary

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/clawwarden/clawwarden/internal/rootfile"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

// realSudo runs the sudo found in rootfile.SecurePath with LC_ALL=C, so its
// listing is in the language sudo.ParseList reads.
func realSudo(ctx context.Context, args ...string) ([]byte, error) {
	bin := ""
	for _, dir := range filepath.SplitList(rootfile.SecurePath) {
		p := filepath.Join(dir, "sudo")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			bin = p
			break
		}
	}
	if bin == "" {
		return nil, fmt.Errorf("sudo not found in %s: %w", rootfile.SecurePath, exec.ErrNotFound)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"LC_ALL=C", "PATH=" + rootfile.SecurePath}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// checkSudo lists the account's sudo rights and reports every entry that
// is not (root) and the helper, and the Defaults that weaken the helper's
// rule.
func (c *checker) checkSudo(ctx context.Context) {
	run := c.o.Sudo
	if run == nil {
		run = realSudo
	}
	name := c.acct.name
	how := "-ll"
	out, err := run(ctx, how, "-U", name)
	if errors.Is(err, exec.ErrNotFound) {
		c.evidence("sudo: not installed (%v), so %s has no sudo rights", err, name)
		return
	}
	if err != nil {
		c.find(KindUnverified, fmt.Sprintf("`sudo -ll -U %s` failed, so %s's sudo rights are unknown: %v", name, name, err),
			fmt.Sprintf("run `sudo -ll -U %s` as root and fix what stops it", name))
		return
	}
	l, perr := sudo.ParseList(string(out))
	if perr != nil {
		if out2, err := run(ctx, "-l", "-U", name); err == nil {
			if l2, err := sudo.ParseList(string(out2)); err == nil {
				l, perr, how = l2, nil, "-l"
			}
		}
	}
	if perr != nil {
		c.find(KindUnverified, fmt.Sprintf("cannot read the output of `sudo -ll -U %s`, so %s's sudo rights are unknown: %v", name, name, perr),
			fmt.Sprintf("run `sudo -ll -U %s` as root and remove every rule for %s but the helper's", name, name))
		return
	}
	listing := "sudo " + how + " -U " + name
	original := len(l.Defaults) > 0 || len(l.ScopedDefaults) > 0
	flavor := "original sudo: it lists Defaults"
	if !original {
		flavor = "no Defaults listed: sudo-rs, or a sudoers without Defaults"
	}
	if len(l.Entries) == 0 {
		c.evidence("%s: no sudo rights (%s)", listing, flavor)
	} else {
		c.evidence("%s: %d entr%s (%s)", listing, len(l.Entries), map[bool]string{true: "y", false: "ies"}[len(l.Entries) == 1], flavor)
	}
	helperSeen := false
	for _, e := range l.Entries {
		helperSeen = c.sudoEntry(listing, l, e) || helperSeen
	}
	switch {
	case c.o.Helper == "":
		c.evidence("sudo: no helper given, so %s may have no sudo right at all", name)
	case helperSeen:
		c.evidence("sudo: the helper %s is allowed as (root)", c.o.Helper)
	default:
		c.evidence("sudo: no rule for the helper %s yet", c.o.Helper)
	}
	if c.o.Helper == "" {
		return
	}
	if original {
		c.sudoDefaults(listing, l)
	} else {
		c.sudoersDefaults()
	}
}

// sudoEntry reports what e allows beyond the helper; it returns whether e
// allows the helper as root.
func (c *checker) sudoEntry(listing string, l sudo.List, e sudo.Entry) (helper bool) {
	name := c.acct.name
	asRoot := len(e.RunAsGroups) == 0 && (len(e.RunAsUsers) == 1 && c.isRootName(e.RunAsUsers[0]) ||
		len(e.RunAsUsers) == 0 && c.runAsDefault(l) == "root")
	var bad []string
	for _, cmd := range e.Commands {
		s := strings.TrimSpace(cmd)
		if strings.HasPrefix(s, "!") || s == "list" {
			continue // grants nothing
		}
		if asRoot && c.isHelperSpec(s) {
			helper = true
			continue
		}
		bad = append(bad, s)
	}
	if len(bad) > 0 {
		where, groupVia := c.locateRule(bad[0])
		detail := fmt.Sprintf("%s lists %s, a sudo right other than the helper as (root): %s", listing, c.entryText(e, bad), c.entryWhy(e, asRoot, bad))
		fix := fmt.Sprintf("remove the rule with `visudo -f FILE` (find it with `grep -rn -e %s -e %% /etc/sudoers /etc/sudoers.d`), then check with `sudo -ll -U %s`", name, name)
		if len(where) > 0 {
			detail += fmt.Sprintf(" (from %s)", strings.Join(where, ", "))
			file := fileOf(where[0])
			fix = fmt.Sprintf("remove the rule at %s with `visudo -f %s`, then check with `sudo -ll -U %s`", where[0], file, name)
			if groupVia != "" {
				fix = fmt.Sprintf("gpasswd -d %s %s (the rule at %s is for group %s), or remove that rule with `visudo -f %s`", name, groupVia, where[0], groupVia, file)
			}
		}
		c.find(KindSudoRight, detail, fix)
	}
	if !helper {
		return false
	}
	for _, o := range e.Options {
		var why string
		switch {
		case o == "setenv":
			why = "SETENV lets the caller set any environment variable, LD_PRELOAD included, for the root helper"
		case strings.HasPrefix(o, "runchroot="):
			why = "CHROOT= makes the helper run in another root directory, where the files it trusts are not the real ones"
		default:
			continue
		}
		tag := map[bool]string{true: "SETENV", false: "CHROOT"}[o == "setenv"]
		where, _ := c.locateRule(c.o.Helper)
		fix := fmt.Sprintf("drop the %s tag from the helper's rule with visudo", tag)
		detail := fmt.Sprintf("%s lists the helper's rule with %s: %s", listing, o, why)
		if len(where) > 0 {
			file := fileOf(where[0])
			fix = fmt.Sprintf("drop the %s tag from the rule at %s with `visudo -f %s`", tag, where[0], file)
			detail += fmt.Sprintf(" (from %s)", strings.Join(where, ", "))
		}
		c.find(KindSudoDefaults, detail, fix)
	}
	return true
}

// entryText writes an entry the way `sudo -l` does: "(users : groups)
// OPTIONS cmd, cmd".
func (c *checker) entryText(e sudo.Entry, cmds []string) string {
	runas := strings.Join(e.RunAsUsers, ", ")
	if runas == "" && len(e.RunAsGroups) == 0 {
		runas = "default"
	}
	if len(e.RunAsGroups) > 0 {
		runas += " : " + strings.Join(e.RunAsGroups, ", ")
	}
	s := "(" + runas + ") "
	if len(e.Options) > 0 {
		s += "[" + strings.Join(e.Options, ", ") + "] "
	}
	return s + strings.Join(cmds, ", ")
}

// entryWhy says in a few words why the entry is a route.
func (c *checker) entryWhy(e sudo.Entry, asRoot bool, bad []string) string {
	all := slices.Contains(bad, "ALL")
	anyone := slices.Contains(e.RunAsUsers, "ALL") || slices.Contains(e.RunAsGroups, "ALL")
	switch {
	case all && anyone:
		return "any command as any user, root included"
	case anyone:
		return "these commands as any user, root included"
	case all && !asRoot:
		return "any command as another user or group"
	case all:
		return "any command as root"
	case !asRoot:
		return "commands as another user or group, outside the helper's approvals"
	}
	return "commands that run as root without the helper's approval"
}

// runAsDefault is the runas_default Default, root unless set.
func (c *checker) runAsDefault(l sudo.List) string {
	v := "root"
	for _, d := range l.Defaults {
		if n, val, ok := strings.Cut(d, "="); ok && strings.TrimSpace(n) == "runas_default" {
			v = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return v
}

// helperPaths returns the helper's path and, when it is a symbolic link,
// the file it resolves to (sudo-rs lists resolved paths).
func (c *checker) helperPaths() []string {
	if c.o.Helper == "" {
		return nil
	}
	out := []string{path.Clean(c.o.Helper)}
	if r, err := filepath.EvalSymlinks(c.full(c.o.Helper)); err == nil {
		if rel, ok := strings.CutPrefix(r, c.root); ok && rel != out[0] && c.root+rel == r {
			out = append(out, rel)
		}
	}
	return out
}

// isHelperSpec reports whether a listed command spec is the helper, with
// or without arguments and digests: "/path", "/path *", "/path \"\"",
// "sha256:… /path".
func (c *checker) isHelperSpec(spec string) bool {
	s := spec
	for {
		tok, rest, _ := strings.Cut(s, " ")
		tok = strings.TrimSuffix(tok, ",")
		if !strings.HasPrefix(tok, "sha224:") && !strings.HasPrefix(tok, "sha256:") &&
			!strings.HasPrefix(tok, "sha384:") && !strings.HasPrefix(tok, "sha512:") {
			break
		}
		s = strings.TrimSpace(rest)
	}
	p := s
	for k := 0; k < len(s); k++ {
		if s[k] == '\\' {
			k++
			continue
		}
		if s[k] == ' ' {
			p = s[:k]
			break
		}
	}
	p = strings.NewReplacer(`\,`, ",", `\:`, ":", `\=`, "=", `\#`, "#", `\ `, " ").Replace(p)
	return slices.Contains(c.helperPaths(), p)
}

// weakness is one Default that weakens the helper's rule.
type weakness struct {
	setting string // as written
	why     string
}

// dangerousEnv reports whether keeping the variable named v for root lets
// the caller change what code root runs.
func dangerousEnv(v string) bool {
	if strings.ContainsAny(v, "*?[") {
		return !strings.HasPrefix(v, "LC_")
	}
	for _, p := range []string{"LD_", "DYLD_", "PYTHON", "PERL", "RUBY", "NODE_", "JAVA_", "_JAVA_", "GCONV_", "GLIBC_", "MALLOC_", "BASH_FUNC", "GIT_", "GO"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	switch v {
	case "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "IFS", "LOCPATH", "NLSPATH", "HOSTALIASES",
		"RES_OPTIONS", "LOCALDOMAIN", "TERMINFO", "TERMCAP", "TERMPATH", "OPENSSL_CONF", "OPENSSL_ENGINES", "SSL_CERT_FILE", "SSL_CERT_DIR":
		return true
	}
	return false
}

// settingTokens splits a Defaults text into words at commas and spaces
// outside double quotes, keeping escapes.
func settingTokens(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	for k := 0; k < len(s); k++ {
		switch ch := s[k]; {
		case ch == '\\' && k+1 < len(s):
			cur.WriteByte(ch)
			cur.WriteByte(s[k+1])
			k++
		case ch == '"':
			quoted = !quoted
			cur.WriteByte(ch)
		case !quoted && (ch == ',' || ch == ' ' || ch == '\t'):
			flush()
		default:
			cur.WriteByte(ch)
		}
	}
	flush()
	return out
}

// isSetting reports whether a token looks like a Defaults setting.
func isSetting(t string) bool {
	t = strings.TrimLeft(t, "!")
	return t != "" && t[0] >= 'a' && t[0] <= 'z'
}

// weaknesses evaluates settings in order (the last setting of a flag wins)
// and returns those that weaken what root runs for the account.
func (c *checker) weaknesses(settings []string) []weakness {
	var out []weakness
	flags := map[string]bool{}
	flagText := map[string]string{}
	keep := map[string]string{} // env_keep variables in force → the setting that added them
	var keepOrder []string
	for _, s := range settings {
		neg := strings.HasPrefix(s, "!")
		body := strings.TrimLeft(s, "!")
		name, value, hasValue := strings.Cut(body, "=")
		op := ""
		if strings.HasSuffix(name, "+") || strings.HasSuffix(name, "-") {
			op, name = name[len(name)-1:], name[:len(name)-1]
		}
		value = strings.Trim(value, `"`)
		switch name {
		case "env_reset", "setenv", "closefrom_override":
			flags[name], flagText[name] = !neg, s
		case "env_keep":
			switch {
			case neg || !hasValue:
				clear(keep)
			case op == "-":
				for _, v := range strings.Fields(value) {
					delete(keep, v)
				}
			default:
				if op == "" {
					clear(keep)
				}
				for _, v := range strings.Fields(value) {
					if _, ok := keep[v]; !ok {
						keepOrder = append(keepOrder, v)
					}
					keep[v] = s
				}
			}
		case "runchroot":
			if value == "*" {
				out = append(out, weakness{s, "lets the caller choose the root directory the helper runs in (sudo -R)"})
			} else if hasValue && path.IsAbs(value) {
				if e := c.writable(value); e != nil {
					out = append(out, weakness{s, "runs root's commands in a root directory that the caller controls: " + c.describe(e)})
				}
			}
		case "env_file", "restricted_env_file", "logfile", "iolog_dir", "timestampdir":
			if !hasValue || !path.IsAbs(value) {
				continue
			}
			if e := c.writable(value); e != nil {
				what := map[string]string{
					"env_file": "sudo reads root's environment from it", "restricted_env_file": "sudo reads root's environment from it",
					"logfile": "sudo appends to it as root", "iolog_dir": "sudo writes its I/O logs there as root",
					"timestampdir": "sudo keeps its credential tickets there",
				}[name]
				out = append(out, weakness{s, what + ", and " + c.describe(e)})
			}
		}
	}
	if v, ok := flags["env_reset"]; ok && !v {
		out = append(out, weakness{flagText["env_reset"], "root's commands get the caller's whole environment (LD_*, PYTHONPATH, BASH_ENV and the like are filtered only by a list)"})
	}
	if flags["setenv"] {
		out = append(out, weakness{flagText["setenv"], "the caller may set any environment variable for root's commands, LD_PRELOAD included"})
	}
	if flags["closefrom_override"] {
		out = append(out, weakness{flagText["closefrom_override"], "the caller may hand its open file descriptors to root's commands (sudo -C)"})
	}
	for _, v := range keepOrder {
		if s, ok := keep[v]; ok && dangerousEnv(v) {
			out = append(out, weakness{s, fmt.Sprintf("root's commands keep the caller's %s, which changes what code they load", v)})
		}
	}
	return out
}

// sudoDefaults reports the weakening Defaults of the original sudo's
// listing: the matching Defaults (they apply to every command of the
// account) and the runas and command Defaults that may apply to the helper
// run as root.
func (c *checker) sudoDefaults(listing string, l sudo.List) {
	for _, w := range c.weaknesses(l.Defaults) {
		c.defaultsFinding(fmt.Sprintf("%s lists the Default %s for %s", listing, w.setting, c.acct.name), w)
	}
	for _, d := range l.ScopedDefaults {
		if c.scopedApplies(d) {
			for _, w := range c.weaknesses(c.scopedSettings(d)) {
				c.defaultsFinding(fmt.Sprintf("%s lists %q", listing, d), w)
			}
		}
	}
	c.evidence("sudo Defaults for %s: %d matching, %d runas/command-specific (listed by sudo)", c.acct.name, len(l.Defaults), len(l.ScopedDefaults))
}

// sudoersDefaults reads the Defaults from the sudoers files, for sudo-rs,
// which does not list them.
func (c *checker) sudoersDefaults() {
	lines := c.sudoersLines()
	if len(lines) == 0 {
		c.incomplete("sudo Defaults: the listing shows none and %s cannot be read", c.host("/etc/sudoers"))
		return
	}
	n := 0
	for _, ln := range lines {
		if !strings.HasPrefix(ln.text, "Defaults") {
			continue
		}
		n++
		if !c.scopedApplies(ln.text) {
			continue
		}
		for _, w := range c.weaknesses(c.scopedSettings(ln.text)) {
			c.defaultsFinding(fmt.Sprintf("%s: %q", ln.origin, ln.text), w)
		}
	}
	c.evidence("sudo Defaults: %d Defaults lines read from %s and its includes (the listing shows none)", n, c.host("/etc/sudoers"))
}

func (c *checker) defaultsFinding(where string, w weakness) {
	origin := ""
	for _, ln := range c.sudoersLines() {
		if strings.HasPrefix(ln.text, "Defaults") && strings.Contains(ln.text, w.setting) {
			origin = ln.origin
			break
		}
	}
	detail := fmt.Sprintf("%s: %s", where, w.why)
	fix := fmt.Sprintf("remove %s from the sudoers (find it with `grep -rn -- '%s' /etc/sudoers /etc/sudoers.d`, edit with `visudo -f FILE`)", w.setting, w.setting)
	if origin != "" {
		if !strings.Contains(where, origin) {
			detail += fmt.Sprintf(" (from %s)", origin)
		}
		file := fileOf(origin)
		fix = fmt.Sprintf("remove %s from %s with `visudo -f %s`", w.setting, origin, file)
	}
	c.find(KindSudoDefaults, detail, fix)
}

// scopedSettings returns the settings of a Defaults line ("Defaults",
// "Defaults:u", "Defaults>r", "Defaults!cmd", "Defaults@h").
func (c *checker) scopedSettings(d string) []string {
	var out []string
	for _, t := range settingTokens(strings.TrimPrefix(d, "Defaults")) {
		if isSetting(t) {
			out = append(out, t)
		}
	}
	return out
}

// scopedApplies reports whether a Defaults line may apply to the helper run
// as root by the account. Scopes it cannot evaluate (aliases, wildcards,
// regular expressions) count as applying.
func (c *checker) scopedApplies(d string) bool {
	rest := strings.TrimPrefix(d, "Defaults")
	if rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '@' {
		return true
	}
	kind, body := rest[0], strings.TrimLeft(rest[1:], " \t")
	if kind == ':' || kind == '>' {
		word, _, _ := strings.Cut(body, " ")
		for s := range strings.SplitSeq(word, ",") {
			if strings.HasPrefix(s, "!") {
				continue
			}
			if ok, _ := c.userItem(s); kind == ':' && ok || s == "ALL" || c.isAlias(s) || kind == '>' && c.isRootName(s) {
				return true
			}
		}
		return false
	}
	if kind != '!' {
		return true
	}
	for _, t := range settingTokens(body) {
		switch {
		case t == "ALL" || c.isAlias(t) || strings.HasPrefix(t, "^"):
			return true
		case strings.HasPrefix(t, "/"):
			if strings.ContainsAny(t, "*?[") {
				return true
			}
			for _, h := range c.helperPaths() {
				if t == h || strings.HasSuffix(t, "/") && strings.HasPrefix(h, t) {
					return true
				}
			}
		}
	}
	return false
}

// isAlias reports whether s looks like a sudoers alias name.
func (c *checker) isAlias(s string) bool {
	if s == "" || s == "ALL" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') }) < 0
}

// userItem reports whether a sudoers user-list item names the account;
// group is the group it names it through ("%docker").
func (c *checker) userItem(s string) (ok bool, group string) {
	switch {
	case strings.HasPrefix(s, "%:"), strings.HasPrefix(s, "%#"):
		if _, ok := c.groupOf(strings.TrimLeft(s, "%:")); ok {
			return true, strings.TrimLeft(s, "%:#")
		}
	case strings.HasPrefix(s, "%"):
		if _, ok := c.groupOf(s[1:]); ok {
			return true, s[1:]
		}
	default:
		return c.isAccount(s), ""
	}
	return false, ""
}

// sudoersLine is one logical line of a sudoers file.
type sudoersLine struct {
	origin string // FILE:LINE as named in messages
	text   string
}

// sudoersLines reads etc/sudoers and what it includes (read once).
func (c *checker) sudoersLines() []sudoersLine {
	if c.sudoers != nil {
		return *c.sudoers
	}
	var out []sudoersLine
	var read func(p string, depth int)
	read = func(p string, depth int) {
		b, err := os.ReadFile(c.full(p))
		if err != nil || depth > 8 {
			return
		}
		for _, ln := range logicalLines(string(b), false) {
			t := ln.text
			for _, kw := range []string{"@includedir ", "#includedir ", "@include ", "#include "} {
				arg, ok := strings.CutPrefix(t, kw)
				if !ok {
					continue
				}
				arg = strings.Trim(strings.TrimSpace(arg), `"`)
				if !path.IsAbs(arg) {
					arg = path.Join(path.Dir(p), arg)
				}
				if strings.Contains(kw, "dir") {
					ents, _ := os.ReadDir(c.full(arg))
					for _, e := range ents {
						if n := e.Name(); !strings.Contains(n, ".") && !strings.HasSuffix(n, "~") && !e.IsDir() {
							read(path.Join(arg, n), depth+1)
						}
					}
				} else {
					read(arg, depth+1)
				}
				t = ""
				break
			}
			if t = stripSudoersComment(t); t != "" {
				out = append(out, sudoersLine{origin: fmt.Sprintf("%s:%d", c.host(p), ln.no), text: t})
			}
		}
	}
	read("/etc/sudoers", 0)
	c.sudoers = &out
	return out
}

// stripSudoersComment removes a "#" comment; "#123" (a uid) is not one.
func stripSudoersComment(s string) string {
	t := strings.TrimSpace(s)
	for i := 0; i < len(t); i++ {
		if t[i] == '\\' {
			i++
			continue
		}
		if t[i] == '#' && (i+1 >= len(t) || t[i+1] < '0' || t[i+1] > '9') {
			return strings.TrimSpace(t[:i])
		}
	}
	return t
}

// numberedLine is one logical line (continuations joined) and the number of
// its first physical line.
type numberedLine struct {
	no   int
	text string
}

// logicalLines joins backslash continuations; blank lines are dropped, and
// with dropComments lines starting with "#" or ";" too.
func logicalLines(s string, dropComments bool) []numberedLine {
	var out []numberedLine
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(s, "\n") {
		if cur.Len() == 0 {
			start = i + 1
			if t := strings.TrimSpace(line); dropComments && (strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";")) {
				continue
			}
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, numberedLine{no: start, text: t})
		}
		cur.Reset()
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, numberedLine{no: start, text: t})
	}
	return out
}

// locateRule returns the origins of the sudoers rules that apply to the
// account and mention cmd's path (or ALL); group is the group a rule names
// the account through. A text heuristic: aliases of commands are not
// expanded, so when no rule mentions cmd, the account's rules other than
// the helper's are returned.
func (c *checker) locateRule(cmd string) (origins []string, group string) {
	userAliases := map[string][]string{}
	type rule struct {
		origin, cmds, group string
	}
	var rules []rule
	for _, ln := range c.sudoersLines() {
		t := ln.text
		if strings.HasPrefix(t, "Defaults") {
			continue
		}
		if rest, ok := strings.CutPrefix(t, "User_Alias"); ok {
			for def := range strings.SplitSeq(rest, ":") {
				if n, v, ok := strings.Cut(def, "="); ok {
					userAliases[strings.TrimSpace(n)] = strings.Split(v, ",")
				}
			}
			continue
		}
		if strings.HasSuffix(strings.Fields(t)[0], "_Alias") {
			continue
		}
		lhs, rhs, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		users := strings.Join(strings.Fields(lhs)[:max(1, len(strings.Fields(lhs))-1)], " ")
		applies, via := false, ""
		var items []string
		for u := range strings.SplitSeq(users, ",") {
			u = strings.TrimSpace(u)
			if vs, ok := userAliases[u]; ok {
				items = append(items, vs...)
			} else {
				items = append(items, u)
			}
		}
		for _, u := range items {
			u = strings.TrimSpace(u)
			if u == "ALL" {
				applies = true
			} else if ok, g := c.userItem(u); ok {
				applies = true
				if via == "" {
					via = g
				}
			}
		}
		if applies {
			rules = append(rules, rule{ln.origin, rhs, via})
		}
	}
	word, _, _ := strings.Cut(cmd, " ")
	mentions := func(r rule) bool {
		if word == "ALL" {
			for _, f := range strings.FieldsFunc(r.cmds, func(r rune) bool { return r == ',' || r == ' ' || r == ':' || r == ')' }) {
				if f == "ALL" {
					return true
				}
			}
			return false
		}
		return strings.Contains(r.cmds, word)
	}
	for _, r := range rules {
		if mentions(r) {
			origins = append(origins, r.origin)
			if group == "" {
				group = r.group
			}
		}
	}
	if len(origins) == 0 && word != "ALL" && !slices.Contains(c.helperPaths(), word) {
		for _, r := range rules {
			onlyHelper := false
			for _, h := range c.helperPaths() {
				onlyHelper = onlyHelper || strings.Contains(r.cmds, h)
			}
			if !onlyHelper {
				origins = append(origins, r.origin)
			}
		}
		group = ""
	}
	return origins, group
}
