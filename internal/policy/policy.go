package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Policy is a parsed command policy (command-policy.json). Its regexes are
// compiled once, by [Parse]. A nil *Policy stands for "no policy file": only
// the built-in rules apply to it.
type Policy struct {
	source     string
	allow      []regexRule
	deny       []regexRule
	allowExact [][]string
	denyExact  [][]string
}

type regexRule struct {
	pattern string
	re      *regexp.Regexp
}

// Decision is the outcome of [Policy.DecideIn] and [Policy.Decide].
type Decision struct {
	// Allowed reports whether the policy lets the command go on to the
	// approval step. It never means the command runs without approval.
	Allowed bool
	// Rule names the rule that decided: `deny[2] "^rm "`, `deny_exact[0]`,
	// `allow_exact[1]`, `allow[0] "^systemctl "`, `builtin:<kind>`,
	// `not in allow list`, `allow (no allow list)` or `empty command`.
	Rule string
	// Reason is one sentence for people: why, and what to change where.
	Reason string
	// Subject is the shell-quoted command (see [ShellJoin]) the deciding
	// rule matched; when no rule matched, the form with the resolved path.
	Subject string
}

// Load reads the policy file at path through safefile (no symlinks, no
// foreign owner, not group or other writable) and parses it. A missing file
// yields a nil *Policy and an error satisfying errors.Is(err, fs.ErrNotExist);
// the caller decides whether that is acceptable.
func Load(path string) (*Policy, error) {
	data, err := safefile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse parses a command policy. source names it in messages (normally the
// file's path). Every error about the content wraps [safefile.ErrInvalid].
func Parse(data []byte, source string) (*Policy, error) {
	if source == "" {
		source = "command policy"
	}
	p := &Policy{source: source}
	top, err := object(data)
	if err != nil {
		return nil, invalidf("%s: %v", source, jsonError(data, err))
	}
	if top == nil {
		return nil, invalidf("%s: want a JSON object such as {\"allow_exact\": [[\"systemctl\", \"restart\", \"nginx\"]]}", source)
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report problems in a stable order
	for _, k := range keys {
		raw := top[k]
		switch k {
		case "allow":
			p.allow, err = parseRegexList(source, k, raw)
		case "deny":
			p.deny, err = parseRegexList(source, k, raw)
		case "allow_exact":
			p.allowExact, err = parseExactList(source, k, raw)
		case "deny_exact":
			p.denyExact, err = parseExactList(source, k, raw)
		case "comment", "_comment":
			if kindOf(raw) != "string" {
				err = invalidf("%s: %q must be a string, not %s", source, k, kindOf(raw))
			}
		case "version":
			if kd := kindOf(raw); kd != "string" && kd != "number" {
				err = invalidf("%s: \"version\" must be a string or a number, not %s", source, kd)
			}
		default:
			err = invalidf("%s: unknown key %q (known keys: allow, deny, allow_exact, deny_exact, comment, _comment, version)", source, k)
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, safefile.ErrInvalid)...)
}

// object decodes a JSON object into its raw members. A JSON value that is not
// an object gives (nil, nil).
func object(data []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, nil
		}
		return nil, err
	}
	if m == nil { // JSON null
		return nil, nil
	}
	return m, nil
}

// jsonError adds a line and column to a JSON syntax error.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 && se.Offset <= int64(len(data)) {
		before := data[:se.Offset-1] // Offset counts the offending byte
		line := bytes.Count(before, []byte("\n")) + 1
		col := len(before) - bytes.LastIndexByte(before, '\n')
		return fmt.Errorf("not valid JSON: line %d, column %d: %v", line, col, err)
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

// kindOf names the JSON type of raw for messages.
func kindOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func array(source, where string, raw json.RawMessage, want string) ([]json.RawMessage, error) {
	if kd := kindOf(raw); kd != "array" {
		return nil, invalidf("%s: %s must be an array of %s, not %s", source, where, want, kd)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalidf("%s: %s: %v", source, where, err)
	}
	return items, nil
}

// members decodes an entry object and checks that it has only the keys
// named in allowed.
func members(source, where string, raw json.RawMessage, allowed ...string) (map[string]json.RawMessage, error) {
	m, err := object(raw)
	if err != nil || m == nil {
		return nil, invalidf("%s: %s: not a valid object", source, where)
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			return nil, invalidf("%s: %s: unknown key %q (known keys: %s)", source, where, k, strings.Join(allowed, ", "))
		}
	}
	if c, ok := m["comment"]; ok && kindOf(c) != "string" {
		return nil, invalidf("%s: %s: \"comment\" must be a string, not %s", source, where, kindOf(c))
	}
	return m, nil
}

func parseRegexList(source, list string, raw json.RawMessage) ([]regexRule, error) {
	items, err := array(source, strconv.Quote(list), raw, `regexes (strings or {"pattern": …, "comment": …} objects)`)
	if err != nil {
		return nil, err
	}
	rules := make([]regexRule, 0, len(items))
	for i, item := range items {
		where := fmt.Sprintf("%s[%d]", list, i)
		var pat string
		switch kindOf(item) {
		case "string":
			json.Unmarshal(item, &pat) // a string token always decodes
		case "object":
			m, err := members(source, where, item, "pattern", "comment")
			if err != nil {
				return nil, err
			}
			p, ok := m["pattern"]
			if !ok {
				return nil, invalidf("%s: %s: missing \"pattern\"", source, where)
			}
			if kindOf(p) != "string" {
				return nil, invalidf("%s: %s: \"pattern\" must be a string, not %s", source, where, kindOf(p))
			}
			json.Unmarshal(p, &pat)
		default:
			return nil, invalidf("%s: %s: want a regex string or {\"pattern\": …} object, not %s", source, where, kindOf(item))
		}
		if pat == "" {
			return nil, invalidf("%s: %s: empty pattern matches every command (write \".*\" if that is meant)", source, where)
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, invalidf("%s: %s %q: %v (RE2 syntax: lookarounds and backreferences are not supported%s)", source, where, pat, err, regexHint(pat))
		}
		rules = append(rules, regexRule{pattern: pat, re: re})
	}
	return rules, nil
}

// regexHint suggests the RE2 spelling of common Python-only syntax.
func regexHint(pat string) string {
	if strings.Contains(pat, `\Z`) {
		return `; write \z for Python's \Z`
	}
	return ""
}

func parseExactList(source, list string, raw json.RawMessage) ([][]string, error) {
	items, err := array(source, strconv.Quote(list), raw, `argv arrays (["prog", "arg", …] or {"argv": […], "comment": …} objects)`)
	if err != nil {
		return nil, err
	}
	out := make([][]string, 0, len(items))
	for i, item := range items {
		where := fmt.Sprintf("%s[%d]", list, i)
		switch kindOf(item) {
		case "array":
		case "object":
			m, err := members(source, where, item, "argv", "comment")
			if err != nil {
				return nil, err
			}
			a, ok := m["argv"]
			if !ok {
				return nil, invalidf("%s: %s: missing \"argv\"", source, where)
			}
			item, where = a, where+".argv"
		default:
			return nil, invalidf("%s: %s: want an argv array such as [\"systemctl\", \"restart\", \"nginx\"], not %s", source, where, kindOf(item))
		}
		args, err := array(source, where, item, "strings")
		if err != nil {
			return nil, err
		}
		if len(args) == 0 {
			return nil, invalidf("%s: %s: empty argv", source, where)
		}
		argv := make([]string, len(args))
		for j, a := range args {
			if kindOf(a) != "string" {
				return nil, invalidf("%s: %s[%d]: want a string, not %s", source, where, j, kindOf(a))
			}
			json.Unmarshal(a, &argv[j])
		}
		if argv[0] == "" {
			return nil, invalidf("%s: %s: empty program name", source, where)
		}
		out = append(out, argv)
	}
	return out, nil
}

// forms holds the up to three spellings of argv[0] a rule is matched
// against: as given, the resolved path, and the resolved path's base name.
type forms struct {
	argv0 [3]string
	n     int
	shown int // index of the form with the resolved path
	rest  []string
	// subjects are ShellJoin of each form, built on first use.
	subjects [3]string
	tail     string
	joined   bool
}

func newForms(argv []string, resolved string) *forms {
	f := &forms{rest: argv[1:]}
	f.add(argv[0])
	if resolved != "" {
		f.shown = f.add(resolved)
		f.add(filepath.Base(resolved))
	}
	return f
}

// add appends a form unless it is there already, and returns its index.
func (f *forms) add(a string) int {
	for i := range f.n {
		if f.argv0[i] == a {
			return i
		}
	}
	f.argv0[f.n] = a
	f.n++
	return f.n - 1
}

// exact returns the index of the first form equal to want, or -1.
func (f *forms) exact(want []string) int {
	if len(want) != len(f.rest)+1 || !slices.Equal(want[1:], f.rest) {
		return -1
	}
	for i := range f.n {
		if f.argv0[i] == want[0] {
			return i
		}
	}
	return -1
}

func (f *forms) subject(i int) string {
	if !f.joined {
		f.joined = true
		f.tail = ShellJoin(f.rest)
		for j := range f.n {
			var b strings.Builder
			b.Grow(quotedLen(f.argv0[j]) + 1 + len(f.tail))
			writeQuoted(&b, f.argv0[j])
			if len(f.rest) > 0 {
				b.WriteByte(' ')
				b.WriteString(f.tail)
			}
			f.subjects[j] = b.String()
		}
	}
	return f.subjects[i]
}

// search returns the index of the first rule matching any form, and the
// form it matched. (One regex joining a list's patterns with | was tried:
// RE2 then runs its slower NFA and loses the literal-prefix and anchored
// fast paths, which made Decide 5-10 times slower on realistic policies.)
func (f *forms) search(rules []regexRule) (rule, form int) {
	for r := range rules {
		for i := range f.n {
			if rules[r].re.MatchString(f.subject(i)) {
				return r, i
			}
		}
	}
	return -1, -1
}

// display is the form shown when no rule matched: the resolved path when
// there is one.
func (f *forms) display() string {
	return f.subject(f.shown)
}

func (p *Policy) where() string {
	if p == nil {
		return "command-policy.json (there is none yet)"
	}
	return p.source
}

// Decide is [Policy.DecideIn] with an unknown working directory, for
// callers that do not know where the command runs. The built-in rules then
// judge a relative path by its name alone.
func (p *Policy) Decide(argv []string, resolved string) Decision {
	return p.DecideIn("", argv, resolved)
}

// DecideIn applies the policy to argv, the command as the caller gave it,
// run in the working directory cwd (absolute; "" means unknown), whose
// argv[0] the guard resolved to the absolute path resolved (which may equal
// argv[0]; "" means unknown). The built-in rules about privilege files read
// relative paths in cwd. A nil *Policy applies only the built-in rules. The
// order is the package's decision order: deny_exact, deny, allow_exact,
// built-in rules, allow.
func (p *Policy) DecideIn(cwd string, argv []string, resolved string) Decision {
	if len(argv) == 0 || argv[0] == "" {
		return Decision{Rule: "empty command", Reason: "no command was given"}
	}
	f := newForms(argv, resolved)
	if p != nil {
		if d, denied := p.denied(f); denied {
			return d
		}
		for i, e := range p.allowExact {
			if form := f.exact(e); form >= 0 {
				return Decision{
					Allowed: true,
					Rule:    fmt.Sprintf("allow_exact[%d]", i),
					Reason:  fmt.Sprintf("the exact command is listed in allow_exact[%d] in %s", i, p.source),
					Subject: f.subject(form),
				}
			}
		}
	}
	if kind, reason := builtin(cwd, argv, resolved); kind != "" {
		return Decision{
			Rule:    "builtin:" + kind,
			Reason:  fmt.Sprintf("%s; to allow this very command, name its exact argv in allow_exact in %s", reason, p.where()),
			Subject: f.display(),
		}
	}
	if p != nil && (len(p.allow) > 0 || len(p.allowExact) > 0) {
		if r, form := f.search(p.allow); r >= 0 {
			rule := fmt.Sprintf("allow[%d] %q", r, p.allow[r].pattern)
			return Decision{
				Allowed: true,
				Rule:    rule,
				Reason:  fmt.Sprintf("the command matches %s in %s", rule, p.source),
				Subject: f.subject(form),
			}
		}
		return Decision{
			Rule:    "not in allow list",
			Reason:  fmt.Sprintf("the command matches no allow or allow_exact entry in %s; add its exact argv to allow_exact (or a regex to allow) there", p.source),
			Subject: f.display(),
		}
	}
	reason := fmt.Sprintf("%s has no allow list, so any command it does not deny may go on to approval", p.where())
	if p == nil {
		reason = "there is no command policy file, so any command the built-in rules do not refuse may go on to approval"
	}
	return Decision{Allowed: true, Rule: "allow (no allow list)", Reason: reason, Subject: f.display()}
}

// Denies applies only the deny rules (deny_exact, then deny) to argv, whose
// argv[0] resolved to resolved, and returns the refusal when one matches.
// Deny wins over everything: a command the policy denies stays denied even
// when allow_exact names a whole sudo command line that runs it.
func (p *Policy) Denies(argv []string, resolved string) (Decision, bool) {
	if p == nil || len(argv) == 0 {
		return Decision{}, false
	}
	return p.denied(newForms(argv, resolved))
}

func (p *Policy) denied(f *forms) (Decision, bool) {
	for i, e := range p.denyExact {
		if form := f.exact(e); form >= 0 {
			return Decision{
				Rule:    fmt.Sprintf("deny_exact[%d]", i),
				Reason:  fmt.Sprintf("the command is listed in deny_exact[%d] in %s; remove that entry to allow it", i, p.source),
				Subject: f.subject(form),
			}, true
		}
	}
	if r, form := f.search(p.deny); r >= 0 {
		rule := fmt.Sprintf("deny[%d] %q", r, p.deny[r].pattern)
		return Decision{
			Rule:    rule,
			Reason:  fmt.Sprintf("the command matches %s in %s; remove or narrow that pattern to allow it", rule, p.source),
			Subject: f.subject(form),
		}, true
	}
	return Decision{}, false
}

// NamesExactly reports whether the policy's allow_exact lists argv exactly
// as given (element by element, argv[0] included) and no deny or deny_exact
// rule matches it. Callers use it to let through a command that a check of
// their own would refuse, such as sudo options that change identity; deny
// still wins. A nil *Policy names nothing.
func (p *Policy) NamesExactly(argv []string) bool {
	if p == nil || len(argv) == 0 {
		return false
	}
	f := newForms(argv, "")
	for _, e := range p.denyExact {
		if f.exact(e) >= 0 {
			return false
		}
	}
	if r, _ := f.search(p.deny); r >= 0 {
		return false
	}
	for _, e := range p.allowExact {
		if f.exact(e) >= 0 {
			return true
		}
	}
	return false
}
