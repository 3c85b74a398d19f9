package boundary

import (
	"fmt"
	"os"
	"strings"
)

// doasFiles are OpenDoas's configuration (Debian, Alpine, Arch) and the
// BSD ports' location.
var doasFiles = []string{"/etc/doas.conf", "/usr/local/etc/doas.conf"}

// doasBinaries are where doas is installed.
var doasBinaries = []string{"/usr/bin/doas", "/usr/local/bin/doas", "/bin/doas"}

// doasRule is one rule of doas.conf(5): permit|deny [options] identity [as
// target] [cmd command [args ...]].
type doasRule struct {
	origin   string
	text     string
	permit   bool
	identity string
	target   string // "" means root
	cmd      string // "" means any command
}

// parseDoas parses doas.conf text; lines it cannot read are skipped.
func parseDoas(name, text string) []doasRule {
	var out []doasRule
	for _, ln := range logicalLines(text, true) {
		t := ln.text
		if i := strings.IndexByte(t, '#'); i >= 0 {
			t = t[:i]
		}
		words := doasWords(t)
		if len(words) < 2 || words[0] != "permit" && words[0] != "deny" {
			continue
		}
		r := doasRule{origin: fmt.Sprintf("%s:%d", name, ln.no), text: strings.TrimSpace(t), permit: words[0] == "permit"}
		k := 1
		for k < len(words) {
			w := words[k]
			switch {
			case w == "nopass" || w == "nolog" || w == "persist" || w == "keepenv":
				k++
				continue
			case w == "setenv":
				for k < len(words) && words[k] != "}" {
					k++
				}
				k++
				continue
			}
			break
		}
		if k >= len(words) {
			continue
		}
		r.identity = words[k]
		k++
		for k+1 < len(words) {
			switch words[k] {
			case "as":
				r.target = words[k+1]
			case "cmd":
				r.cmd = words[k+1]
			}
			k += 2
			if r.cmd != "" {
				break
			}
		}
		out = append(out, r)
	}
	return out
}

// doasWords splits a doas.conf line into words, keeping quoted strings and
// the braces of setenv as words.
func doasWords(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for k := 0; k < len(s); k++ {
		switch ch := s[k]; {
		case ch == '\\' && k+1 < len(s):
			cur.WriteByte(s[k+1])
			k++
		case ch == '"':
			quoted = !quoted
		case !quoted && (ch == ' ' || ch == '\t'):
			flush()
		case !quoted && (ch == '{' || ch == '}'):
			flush()
			out = append(out, string(ch))
		default:
			cur.WriteByte(ch)
		}
	}
	flush()
	return out
}

// checkDoas reports doas rules that permit the account. doas applies the
// last matching rule: a permit followed by a deny of everything for the
// same identity is not reported.
func (c *checker) checkDoas() {
	bin := ""
	for _, b := range doasBinaries {
		if _, err := os.Stat(c.full(b)); err == nil {
			bin = b
			break
		}
	}
	read := 0
	for _, f := range doasFiles {
		b, err := os.ReadFile(c.full(f))
		if err != nil {
			continue
		}
		read++
		rules := parseDoas(c.host(f), string(b))
		for i, r := range rules {
			if !r.permit || !c.doasMatches(r.identity) {
				continue
			}
			denied := false
			for _, later := range rules[i+1:] {
				if !later.permit && c.doasMatches(later.identity) && later.target == "" && later.cmd == "" {
					denied = true
				}
			}
			if denied {
				c.evidence("doas: %s %q is overridden by a later deny", r.origin, r.text)
				continue
			}
			target := r.target
			if target == "" {
				target = "root"
			}
			what := "any command"
			if r.cmd != "" {
				what = r.cmd
			}
			installed := "doas is installed at " + bin
			if bin == "" {
				installed = "doas is not installed now, and the rule takes effect once it is"
			}
			c.find(KindDoas, fmt.Sprintf("%s %q lets %s run %s as %s with doas (%s)", r.origin, r.text, c.acct.name, what, target, installed),
				fmt.Sprintf("edit %s: remove line %s", fileOf(r.origin), r.origin[len(fileOf(r.origin))+1:]))
		}
	}
	if read == 0 {
		c.evidence("doas: no %s", strings.Join(doasFiles, " or "))
	}
}

// doasMatches reports whether a doas identity ("name" or ":group") is the
// account.
func (c *checker) doasMatches(id string) bool {
	if g, ok := strings.CutPrefix(id, ":"); ok {
		_, in := c.groupOf(g)
		return in
	}
	return c.isAccount(id)
}
