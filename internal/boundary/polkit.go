package boundary

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// polkitRuleDirs are where polkitd reads JavaScript rules.
var polkitRuleDirs = []string{"/etc/polkit-1/rules.d", "/run/polkit-1/rules.d", "/usr/local/share/polkit-1/rules.d", "/usr/share/polkit-1/rules.d"}

// polkitPklaDirs are where the legacy local authority reads .pkla files
// (one level of subdirectories: 10-vendor.d, 50-local.d, ...).
var polkitPklaDirs = []string{"/etc/polkit-1/localauthority", "/var/lib/polkit-1/localauthority"}

// polkitRootActions are polkit actions that amount to root; a rule that
// returns YES for them to everyone is reported.
var polkitRootActions = []string{
	"org.freedesktop.policykit.exec", "org.freedesktop.systemd1.manage-unit", "org.freedesktop.packagekit.package-install",
	"org.freedesktop.accounts.user-administration", "org.freedesktop.machine1.shell", "org.freedesktop.machine1.host-shell",
	"org.freedesktop.udisks2.modify-device", "org.libvirt.unix.manage", "org.freedesktop.import1.", "org.freedesktop.portable1.",
}

var (
	jsString   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'`) })
	jsIdentity = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`subject\s*\.\s*(user|groups|isInGroup|isInNetGroup)|unix-(user|group|netgroup):`)
	})
	jsActionTest = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`action\s*\.\s*(id|lookup)`) })
	jsSession    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`subject\s*\.\s*(active|local)`) })
	jsRuleStart  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`polkit\s*\.\s*add(Admin)?Rule\s*\(`) })
)

// checkPolkit reads polkit's rules as text: a heuristic, since they are
// JavaScript. A rule (from one polkit.addRule to the next) that returns
// polkit.Result.YES and holds a string naming the account or one of its
// groups is a finding; so is an addAdminRule naming them, and a rule that
// returns YES for a root-equivalent action without testing who asks.
func (c *checker) checkPolkit() {
	nRules, nPkla := 0, 0
	for _, dir := range polkitRuleDirs {
		ents, err := os.ReadDir(c.full(dir))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".rules") || e.IsDir() {
				continue
			}
			p := path.Join(dir, e.Name())
			b, err := os.ReadFile(c.full(p))
			if err != nil {
				c.incomplete("polkit: %v", err)
				continue
			}
			nRules++
			c.polkitRules(p, string(b))
		}
	}
	for _, dir := range polkitPklaDirs {
		subs, err := os.ReadDir(c.full(dir))
		if err != nil {
			continue
		}
		for _, s := range subs {
			if !s.IsDir() {
				continue
			}
			ents, _ := os.ReadDir(c.full(path.Join(dir, s.Name())))
			for _, e := range ents {
				if !strings.HasSuffix(e.Name(), ".pkla") {
					continue
				}
				p := path.Join(dir, s.Name(), e.Name())
				b, err := os.ReadFile(c.full(p))
				if err != nil {
					c.incomplete("polkit: %v", err)
					continue
				}
				nPkla++
				c.polkitPkla(p, string(b))
			}
		}
	}
	c.evidence("polkit: read %d .rules file(s) in %s as text (a heuristic: a rule is the text from one polkit.addRule to the next) and %d .pkla file(s)",
		nRules, strings.Join(polkitRuleDirs, ", "), nPkla)
}

// polkitMention returns what a string literal names of the account ("" when
// nothing): the account, "unix-user:" it, one of its groups' names, or
// "unix-group:" one; group is the group's name.
func (c *checker) polkitMention(lit string) (who, group string) {
	if lit == c.acct.name || lit == "unix-user:"+c.acct.name {
		return c.acct.name, ""
	}
	lit = strings.TrimPrefix(lit, "unix-group:")
	for _, g := range c.acct.groupList() {
		if g.name == lit {
			return "group " + lit, lit
		}
	}
	return "", ""
}

func (c *checker) polkitRules(p, text string) {
	starts := jsRuleStart().FindAllStringSubmatchIndex(text, -1)
	for i, m := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		block := text[m[0]:end]
		admin := m[2] >= 0
		line := 1 + strings.Count(text[:m[0]], "\n")
		where := fmt.Sprintf("%s:%d", c.host(p), line)
		yes := strings.Contains(block, "polkit.Result.YES")
		var names []string
		var onlyBad = true
		for _, lm := range jsString().FindAllStringSubmatch(block, -1) {
			lit := lm[1] + lm[2]
			who, g := c.polkitMention(lit)
			if who == "" || slices.Contains(names, who) {
				continue
			}
			names = append(names, who)
			if g == "" || !c.bad[g] {
				onlyBad = false
			}
		}
		fix := fmt.Sprintf("edit %s: remove the rule at line %d, or make it stop matching %s", c.host(p), line, c.acct.name)
		switch {
		case len(names) > 0 && (yes || admin) && onlyBad:
			c.evidence("polkit: the rule at %s names %s, already reported as a group", where, strings.Join(names, ", "))
		case len(names) > 0 && yes:
			c.find(KindPolkit, fmt.Sprintf("the polkit rule at %s returns polkit.Result.YES and names %s: polkit then allows its actions (pkexec, systemd units, packages, ...) without asking anyone (found by a text heuristic)",
				where, strings.Join(names, ", ")), fix)
		case len(names) > 0 && admin:
			c.find(KindPolkit, fmt.Sprintf("the polkit rule at %s makes %s a polkit administrator: actions that need auth_admin, pkexec among them, then accept %s's own password (found by a text heuristic)",
				where, strings.Join(names, ", "), c.acct.name), fix)
		case yes && !jsIdentity().MatchString(block):
			root := !jsActionTest().MatchString(block)
			for _, a := range polkitRootActions {
				root = root || strings.Contains(block, a)
			}
			if root && !jsSession().MatchString(block) {
				c.find(KindPolkit, fmt.Sprintf("the polkit rule at %s returns polkit.Result.YES for a root-equivalent action without testing who asks, so %s gets it too (found by a text heuristic)", where, c.acct.name),
					fmt.Sprintf("edit %s: remove the rule at line %d, or limit it to the accounts that need it", c.host(p), line))
			} else {
				c.evidence("polkit: the rule at %s returns YES without testing who asks, limited to an action or an active local session", where)
			}
		}
	}
}

// polkitPkla reads one .pkla file: INI sections with Identity=,
// Action=, ResultAny=, ResultInactive=, ResultActive=.
func (c *checker) polkitPkla(p, text string) {
	type section struct {
		name     string
		line     int
		identity string
		results  []string
	}
	var secs []*section
	for i, raw := range strings.Split(text, "\n") {
		t := strings.TrimSpace(raw)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
			continue
		}
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			secs = append(secs, &section{name: t, line: i + 1})
			continue
		}
		if len(secs) == 0 {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		s := secs[len(secs)-1]
		switch k = strings.TrimSpace(k); k {
		case "Identity":
			s.identity = strings.TrimSpace(v)
		case "ResultAny", "ResultInactive", "ResultActive":
			if strings.TrimSpace(v) == "yes" {
				s.results = append(s.results, k+"=yes")
			}
		}
	}
	for _, s := range secs {
		if len(s.results) == 0 {
			continue
		}
		var who []string
		onlyBad := true
		for id := range strings.SplitSeq(s.identity, ";") {
			id = strings.TrimSpace(id)
			if pat, ok := strings.CutPrefix(id, "unix-user:"); ok {
				if m, _ := path.Match(pat, c.acct.name); m {
					who, onlyBad = append(who, id), false
				}
			} else if pat, ok := strings.CutPrefix(id, "unix-group:"); ok {
				for _, g := range c.acct.groupList() {
					if m, _ := path.Match(pat, g.name); m {
						who = append(who, id)
						onlyBad = onlyBad && c.bad[g.name]
						break
					}
				}
			}
		}
		where := fmt.Sprintf("%s:%d", c.host(p), s.line)
		switch {
		case len(who) == 0:
		case onlyBad:
			c.evidence("polkit: %s %s authorizes %s, already reported as a group", where, s.name, strings.Join(who, ";"))
		default:
			c.find(KindPolkit, fmt.Sprintf("the polkit authorization %s at %s gives %s %s: polkit then allows those actions without asking anyone",
				s.name, where, strings.Join(who, ";"), strings.Join(s.results, ", ")),
				fmt.Sprintf("edit %s: remove the section %s at line %d, or set its Result keys to auth_admin", c.host(p), s.name, s.line))
		}
	}
}
