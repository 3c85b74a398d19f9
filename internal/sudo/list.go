package sudo

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// The helpers of this file are methods of List, Entry and Match so that the
// package name space, shared with the rest of package sudo, holds only the
// exported names below.

// List is what sudo lists for one account (`sudo -l`, `sudo -ll`, either of
// them with -U user): the matching Defaults and the entries, in order.
//
// The original sudo (1.9) prints a "Matching Defaults entries" section (the
// generic, host and user Defaults that apply to the account) and, when the
// sudoers have any, a "Runas and Command-specific defaults" section (all
// Defaults>runas and Defaults!cmnd lines, whether they apply or not). sudo-rs
// prints neither, so a List without any Defaults is what sudo-rs shows (or an
// original sudo configured without a single Defaults line): Lookup then
// cannot tell what an entry without a PASSWD/NOPASSWD tag needs.
type List struct {
	User           string   // the account named in the header, when shown
	Defaults       []string // "Matching Defaults entries" items, one per setting (split on commas that are not escaped or quoted)
	ScopedDefaults []string // "Runas and Command-specific defaults" lines as listed, e.g. "Defaults!/usr/bin/x !authenticate", "Defaults>root authenticate"
	Entries        []Entry
}

// Entry is one sudoers entry: one "Sudoers entry:" (or "LDAP Role:") block of
// the long format, or the commands of one "(runas) TAGS: cmds" line of the
// short format that share their tags. Like the long format, the short format
// starts a new Entry where the tags change within a line ("(root) NOPASSWD:
// /a, PASSWD: /b" gives two entries), so both formats of one configuration
// give the same entries.
type Entry struct {
	RunAsUsers  []string // e.g. ["root"], ["ALL"], ["!ferris", "root"]; empty means the runas_default Default (root unless set)
	RunAsGroups []string // e.g. ["ALL"]; sudo prints the listed account as RunAsUsers for "(: group)"
	// Options as listed in the long format ("!authenticate", "setenv", ...),
	// plus its other header lines as option=value ("runcwd=/tmp" from
	// "Cwd: /tmp", "command_timeout=300" from "Timeout: 300", "notbefore=…",
	// "notafter=…", "runchroot=…", "role=…", "type=…", "privs=…",
	// "limitprivs=…", "apparmor_profile=…", "order=…" from LDAP). The short
	// format's tags are mapped to the same: NOPASSWD→!authenticate,
	// PASSWD→authenticate, SETENV→setenv, NOSETENV→!setenv, NOEXEC→noexec,
	// EXEC→!noexec, LOG_INPUT→log_input, LOG_OUTPUT→log_output (NO… negated),
	// MAIL→mail_all_cmnds, FOLLOW→sudoedit_follow, INTERCEPT→intercept,
	// CWD=x→runcwd=x, CHROOT=x→runchroot=x, TIMEOUT=x→command_timeout=x,
	// NOTBEFORE/NOTAFTER/ROLE/TYPE/PRIVS/LIMITPRIVS/APPARMOR_PROFILE=x→
	// lower-case name=x; they are kept in the order of the long format's
	// Options line (setenv, noexec, authenticate, log_input, log_output, ...).
	// The long format does not show MAIL, FOLLOW or INTERCEPT.
	Options  []string
	Commands []string // as listed, e.g. "/usr/bin/true", "ALL", "/usr/bin/systemctl restart nginx", "!/usr/bin/su", "sha256:… /usr/bin/x"
}

// Match is the answer of List.Lookup.
type Match struct {
	Entry      Entry  // the entry of the command spec that decided (zero when none matched)
	Command    string // that command spec, as listed
	Allowed    bool   // sudo would run the command as the requested user
	NoPassword bool   // ... without asking for a password (only when Allowed)
	// Unknown means the list holds something Lookup cannot evaluate
	// safely; Reason says what. Allowed and NoPassword are then the worst
	// case over the readings Lookup could not rule out (true when any of
	// them allows, or allows without a password), and Entry and Command
	// name the spec in doubt.
	Unknown bool
	Reason  string
}

// ParseList parses the standard output of `sudo -l` or `sudo -ll` (optionally
// with -U user) of the original sudo (1.9) or sudo-rs. It detects the long
// format by its "Sudoers entry:" blocks and the short one by its "(runas)"
// lines; it joins the lines sudo wraps at the terminal width (continuations
// are indented by 8 spaces). The original sudo is recognised by its Defaults
// sections, which sudo-rs never prints (see List). "User X is not allowed to
// run sudo on H." and "Sorry, user X may not run sudo on H." give a List
// without entries. It returns an error naming the first line it does not
// recognise; an empty or partial text is an error too.
func ParseList(out string) (List, error) {
	var l List
	lines := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")
	errAt := func(i int, what string) error {
		return fmt.Errorf("sudo list line %d: %s: %q", i+1, what, lines[i])
	}
	// block returns the lines from i on up to the next blank line.
	block := func(i int) (start, end int) {
		end = i
		for end < len(lines) && strings.TrimSpace(lines[end]) != "" {
			end++
		}
		return i, end
	}
	i := 0
	for i < len(lines) {
		line := lines[i]
		switch {
		case strings.TrimSpace(line) == "":
			i++
		case strings.HasPrefix(line, "Matching Defaults entries for ") && strings.HasSuffix(line, ":"):
			l.User, _, _ = strings.Cut(strings.TrimPrefix(line, "Matching Defaults entries for "), " ")
			start, end := block(i + 1)
			if start == end {
				return List{}, errAt(i, "no Defaults after")
			}
			var text []string
			for j := start; j < end; j++ {
				if !strings.HasPrefix(lines[j], "    ") {
					return List{}, errAt(j, "not a Defaults line")
				}
				text = append(text, strings.TrimSpace(lines[j]))
			}
			l.Defaults = append(l.Defaults, l.splitSettings(strings.Join(text, " "))...)
			i = end
		case strings.HasPrefix(line, "Runas and Command-specific defaults for ") && strings.HasSuffix(line, ":"):
			start, end := block(i + 1)
			if start == end {
				return List{}, errAt(i, "no Defaults after")
			}
			var text []string
			for j := start; j < end; j++ {
				if !strings.HasPrefix(lines[j], "    ") {
					return List{}, errAt(j, "not a Defaults line")
				}
				text = append(text, strings.TrimSpace(lines[j]))
			}
			// sudo 1.9 runs the last Defaults>runas line and the first
			// Defaults!cmnd line together on one line; split before
			// each "Defaults" binding instead of at line ends.
			joined := strings.Join(text, " ")
			binding := func(k int) bool { // "Defaults>", "Defaults!", ... at joined[k]
				return strings.HasPrefix(joined[k:], "Defaults") && len(joined) > k+len("Defaults")+1 &&
					strings.IndexByte(">!@:", joined[k+len("Defaults")]) >= 0
			}
			if !binding(0) {
				return List{}, errAt(start, "not a Defaults binding")
			}
			from := 0
			for k := 1; k <= len(joined); k++ {
				if k == len(joined) || joined[k-1] == ' ' && binding(k) {
					l.ScopedDefaults = append(l.ScopedDefaults, strings.TrimSpace(joined[from:k]))
					from = k
				}
			}
			i = end
		case strings.HasPrefix(line, "User ") && strings.HasSuffix(line, ":") && strings.Contains(line, " may run the following commands on "):
			l.User, _, _ = strings.Cut(strings.TrimPrefix(line, "User "), " ")
			if err := l.parseEntries(lines, i+1); err != nil {
				return List{}, err
			}
			return l, nil
		case strings.HasPrefix(line, "User ") && strings.Contains(line, " is not allowed to run sudo on "),
			strings.HasPrefix(line, "Sorry, user ") && strings.Contains(line, " may not run sudo on "):
			name := strings.TrimPrefix(strings.TrimPrefix(line, "User "), "Sorry, user ")
			l.User, _, _ = strings.Cut(name, " ")
			l.Defaults, l.ScopedDefaults = nil, nil
			for j := i + 1; j < len(lines); j++ {
				if strings.TrimSpace(lines[j]) != "" {
					return List{}, errAt(j, "text after the refusal")
				}
			}
			return l, nil
		default:
			return List{}, errAt(i, "not a line of sudo -l")
		}
	}
	if len(strings.TrimSpace(out)) == 0 {
		return List{}, fmt.Errorf("sudo list is empty")
	}
	return List{}, fmt.Errorf("sudo list has no %q line", "User ... may run the following commands on ...:")
}

// parseEntries parses the lines after the "User X may run" header.
func (l *List) parseEntries(lines []string, i int) error {
	errAt := func(i int, what string) error {
		return fmt.Errorf("sudo list line %d: %s: %q", i+1, what, lines[i])
	}
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	if i == len(lines) {
		return nil
	}
	if strings.HasPrefix(lines[i], "Sudoers entry:") || strings.HasPrefix(lines[i], "LDAP Role:") {
		return l.parseLong(lines, i, errAt)
	}
	// Short format: "    (runas) ..." with 8-space continuation lines.
	var logical [][]string
	var at []int
	for ; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case strings.HasPrefix(line, "        ") && len(logical) > 0:
			logical[len(logical)-1] = append(logical[len(logical)-1], strings.TrimSpace(line))
		case strings.HasPrefix(line, "    ("):
			logical = append(logical, []string{strings.TrimSpace(line)})
			at = append(at, i)
		default:
			return errAt(i, "not a sudoers entry")
		}
	}
	for k, parts := range logical {
		if err := l.parseShort(strings.Join(parts, " ")); err != nil {
			return fmt.Errorf("sudo list line %d: %w", at[k]+1, err)
		}
	}
	return nil
}

// parseShort parses one "(runas) TAGS: cmd, cmd, TAGS: cmd" line, wrapped
// lines joined.
func (l *List) parseShort(text string) error {
	end := -1
	for k := 1; k < len(text); k++ {
		if text[k] == '\\' {
			k++
			continue
		}
		if text[k] == ')' {
			end = k
			break
		}
	}
	if end < 0 || end+1 >= len(text) || text[end+1] != ' ' {
		return fmt.Errorf("no \"(runas) \" in %q", text)
	}
	var e Entry
	users, groups, hasGroups := strings.Cut(text[1:end], " : ")
	e.RunAsUsers = l.splitNames(users)
	if hasGroups {
		e.RunAsGroups = l.splitNames(groups)
	}
	runas := e
	rest := text[end+2:]
	items := l.splitItems(rest)
	if len(items) == 0 {
		return fmt.Errorf("no command in %q", text)
	}
	var opts []string // the tags in force, as options
	for _, item := range items {
		changed := false
		for {
			item = strings.TrimLeft(item, " ")
			tok, _, _ := strings.Cut(item, " ")
			if name, value, ok := strings.Cut(tok, "="); ok && l.isTagName(name) && len(tok) < len(item) {
				opt, err := e.tagOption(name, value)
				if err != nil {
					return err
				}
				opts, changed = e.setOption(opts, opt), true
				item = item[len(tok)+1:]
				continue
			}
			if name, after, ok := strings.Cut(item, ": "); ok && l.isTagName(name) {
				opt, err := e.tagOption(name, "")
				if err != nil {
					return err
				}
				opts, changed = e.setOption(opts, opt), true
				item = after
				continue
			}
			break
		}
		if name, ok := strings.CutSuffix(item, ":"); item == "" || ok && l.isTagName(name) {
			return fmt.Errorf("tags without a command in %q", text)
		}
		if changed && !slices.Equal(opts, e.Options) || len(e.Commands) == 0 {
			if len(e.Commands) > 0 {
				l.Entries = append(l.Entries, e)
			}
			e = Entry{RunAsUsers: runas.RunAsUsers, RunAsGroups: runas.RunAsGroups, Options: slices.Clone(opts)}
		}
		e.Commands = append(e.Commands, item)
	}
	l.Entries = append(l.Entries, e)
	return nil
}

// parseLong parses "Sudoers entry:" blocks from lines[i] on.
func (l *List) parseLong(lines []string, i int, errAt func(int, string) error) error {
	type block struct {
		users, groups, opts []string // the header value and its continuation lines
		extra               []string
		cmds                [][]string // each command and its continuation lines
		seen                map[string]bool
		inCommands          bool
	}
	names := map[string]string{
		"cwd": "runcwd", "chroot": "runchroot", "timeout": "command_timeout",
		"notbefore": "notbefore", "notafter": "notafter", "role": "role", "type": "type",
		"privs": "privs", "limitprivs": "limitprivs", "apparmorprofile": "apparmor_profile",
		"apparmor_profile": "apparmor_profile", "order": "order",
	}
	var blocks []*block
	var cur *block
	var cont *[]string // the value a continuation line extends
	for ; i < len(lines); i++ {
		line := lines[i]
		text := strings.TrimSpace(line)
		switch {
		case text == "":
			cont = nil
		case strings.HasPrefix(line, "Sudoers entry:") || strings.HasPrefix(line, "LDAP Role:"):
			if cur != nil && len(cur.cmds) == 0 {
				return errAt(i, "entry without commands before")
			}
			cur, cont = &block{seen: map[string]bool{}}, nil
			blocks = append(blocks, cur)
		case cur == nil:
			return errAt(i, "not in a sudoers entry")
		case strings.HasPrefix(line, "\t"):
			if !cur.inCommands {
				return errAt(i, "command before \"Commands:\"")
			}
			cur.cmds = append(cur.cmds, []string{text})
			cont = &cur.cmds[len(cur.cmds)-1]
		case strings.HasPrefix(line, "        "):
			if cont == nil {
				return errAt(i, "continuation of nothing")
			}
			*cont = append(*cont, text)
		case strings.HasPrefix(line, "    "):
			key, value, _ := strings.Cut(text, ":")
			value = strings.TrimSpace(value)
			if cur.inCommands || cur.seen[key] {
				return errAt(i, "misplaced entry header")
			}
			cur.seen[key], cont = true, nil
			switch key {
			case "Commands":
				if value != "" {
					return errAt(i, "text after \"Commands:\"")
				}
				cur.inCommands = true
			case "RunAsUsers":
				cur.users, cont = []string{value}, &cur.users
			case "RunAsGroups":
				cur.groups, cont = []string{value}, &cur.groups
			case "Options":
				cur.opts, cont = []string{value}, &cur.opts
			default:
				name, ok := names[strings.ToLower(key)]
				if !ok || value == "" {
					return errAt(i, "unknown entry header")
				}
				cur.extra = append(cur.extra, name+"="+value)
			}
		default:
			return errAt(i, "not a line of a sudoers entry")
		}
	}
	if cur == nil || len(cur.cmds) == 0 {
		return fmt.Errorf("sudo list ends inside a sudoers entry")
	}
	for _, b := range blocks {
		e := Entry{
			RunAsUsers:  l.splitNames(strings.Join(b.users, " ")),
			RunAsGroups: l.splitNames(strings.Join(b.groups, " ")),
			Options:     append(l.splitSettings(strings.Join(b.opts, " ")), b.extra...),
		}
		for _, c := range b.cmds {
			e.Commands = append(e.Commands, strings.Join(c, " "))
		}
		l.Entries = append(l.Entries, e)
	}
	return nil
}

// splitSettings splits a Defaults or Options list at the commas that are
// neither escaped nor inside double quotes, trimming spaces.
func (List) splitSettings(s string) []string {
	var out []string
	quoted, start := false, 0
	for k := 0; k < len(s); k++ {
		switch s[k] {
		case '\\':
			k++
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				if t := strings.TrimSpace(s[start:k]); t != "" {
					out = append(out, t)
				}
				start = k + 1
			}
		}
	}
	if start < len(s) {
		if t := strings.TrimSpace(s[start:]); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// splitNames splits a runas list ("ALL", "!ferris, root").
func (List) splitNames(s string) []string {
	var out []string
	for n := range strings.SplitSeq(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// splitItems splits the commands of a short-format line at unescaped ", ",
// keeping a digest list ("sha224:…, sha256:… /path") with its command.
func (List) splitItems(s string) []string {
	var out []string
	start := 0
	for k := 0; k < len(s); k++ {
		if s[k] == '\\' {
			k++
			continue
		}
		if s[k] == ',' && k+1 < len(s) && s[k+1] == ' ' {
			out = append(out, s[start:k])
			start = k + 2
			k++
		}
	}
	out = append(out, s[start:])
	var merged []string
	for k := 0; k < len(out); k++ {
		item := out[k]
		for k+1 < len(out) && (Entry{}).isDigestOnly(item) {
			k++
			item += ", " + out[k]
		}
		merged = append(merged, item)
	}
	return merged
}

// isTagName reports whether s looks like a short-format tag: upper-case
// letters and underscores.
func (List) isTagName(s string) bool {
	if s == "" || s == "ALL" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r == '_') {
			return false
		}
	}
	return true
}

// isDigestOnly reports whether s is one "sha…:digest" without its command.
func (Entry) isDigestOnly(s string) bool {
	for _, p := range []string{"sha224:", "sha256:", "sha384:", "sha512:"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest != "" && !strings.ContainsAny(rest, " ,")
		}
	}
	return false
}

// tagOption maps a short-format tag to its option (see Entry.Options).
func (Entry) tagOption(name, value string) (string, error) {
	flags := map[string]string{
		"PASSWD": "authenticate", "NOPASSWD": "!authenticate",
		"SETENV": "setenv", "NOSETENV": "!setenv",
		"EXEC": "!noexec", "NOEXEC": "noexec",
		"LOG_INPUT": "log_input", "NOLOG_INPUT": "!log_input",
		"LOG_OUTPUT": "log_output", "NOLOG_OUTPUT": "!log_output",
		"MAIL": "mail_all_cmnds", "NOMAIL": "!mail_all_cmnds",
		"FOLLOW": "sudoedit_follow", "NOFOLLOW": "!sudoedit_follow",
		"INTERCEPT": "intercept", "NOINTERCEPT": "!intercept",
	}
	values := map[string]string{
		"CWD": "runcwd", "CHROOT": "runchroot", "TIMEOUT": "command_timeout",
		"NOTBEFORE": "notbefore", "NOTAFTER": "notafter", "ROLE": "role", "TYPE": "type",
		"PRIVS": "privs", "LIMITPRIVS": "limitprivs", "APPARMOR_PROFILE": "apparmor_profile",
	}
	if value == "" {
		if o, ok := flags[name]; ok {
			return o, nil
		}
	} else if o, ok := values[name]; ok {
		return o + "=" + value, nil
	}
	return "", fmt.Errorf("unknown tag %q", name)
}

// setOption sets opt in opts, replacing the option of the same name and
// keeping the long format's order.
func (Entry) setOption(opts []string, opt string) []string {
	name := func(o string) string {
		o = strings.TrimLeft(o, "!")
		n, _, _ := strings.Cut(o, "=")
		return n
	}
	order := []string{"setenv", "noexec", "authenticate", "log_input", "log_output",
		"mail_all_cmnds", "sudoedit_follow", "intercept", "privs", "limitprivs", "role", "type",
		"runchroot", "runcwd", "command_timeout", "notbefore", "notafter", "apparmor_profile"}
	out := slices.DeleteFunc(slices.Clone(opts), func(o string) bool { return name(o) == name(opt) })
	out = append(out, opt)
	slices.SortStableFunc(out, func(a, b string) int {
		return slices.Index(order, name(a)) - slices.Index(order, name(b))
	})
	return out
}

// NoPassword reports whether the Defaults say !authenticate (the last
// authenticate setting wins). It does not look at the scoped Defaults nor at
// the entries' tags: see Lookup for one command.
func (l List) NoPassword() bool {
	auth, _ := l.setting("authenticate")
	return auth == "false"
}

// setting returns the value of the last general Default named name: "true"
// or "false" for a flag, the value for "name=value"; ok is false when the
// Defaults do not set it.
func (l List) setting(name string) (value string, ok bool) {
	for _, d := range l.Defaults {
		n, v, neg := l.parseSetting(d)
		if n != name {
			continue
		}
		switch {
		case v != "":
			value = v
		case neg:
			value = "false"
		default:
			value = "true"
		}
		ok = true
	}
	return value, ok
}

// parseSetting splits one Defaults setting: "!authenticate" → ("authenticate",
// "", true); "runas_default=admin" → ("runas_default", "admin", false).
func (List) parseSetting(s string) (name, value string, negated bool) {
	for strings.HasPrefix(s, "!") {
		negated = !negated
		s = s[1:]
	}
	name, value, _ = strings.Cut(s, "=")
	name = strings.TrimRight(name, "+-")
	return strings.TrimSpace(name), strings.Trim(strings.TrimSpace(value), `"`), negated
}

// Lookup finds the entry sudo would use to run argv as runAs (usually
// "root"; "" means the runas_default Default, root unless set), the way the
// sudoers policy decides, approximated where it needs the file system or the
// group database:
//
//   - argv[0] is the absolute path exactly as it will be given to sudo.
//     sudo-rs resolves symbolic links in the rules (its listing shows the
//     resolved paths) and in the command before comparing, so with sudo-rs
//     pass argv[0] through filepath.EvalSymlinks first.
//   - Every command spec of every entry counts, and the last one that
//     matches both runAs and argv decides (sudo's "last match wins"). A
//     negated spec ("!/usr/bin/su", "!ALL") that matches means not allowed;
//     when nothing matches, argv is not allowed.
//   - Runas: the entry's RunAsUsers, last match wins, "!" negates; "ALL"
//     matches anyone, a name itself (regardless of case, as sudo's
//     case_insensitive_user, on by default, does; Unknown when the listing
//     may come from sudo-rs, which does not), "#0" root; an empty list means
//     the runas_default Default (root). "%group", "+netgroup", "#uid" for
//     another account and unexpanded aliases are Unknown (sudo expands
//     aliases when listing). RunAsGroups are not needed: Lookup asks for no
//     group (sudo -g).
//   - "ALL" matches every command. "list" (sudo -l -U) and "sudoedit" specs
//     never match a command.
//   - A path without arguments matches that command with any arguments; a
//     path followed by "" matches it with no arguments only; a path with
//     arguments matches when the arguments, joined by single spaces, match
//     them as a shell wildcard pattern (fnmatch(3) without FNM_PATHNAME:
//     "*", "?", "[...]", "[!...]", "[[:alpha:]]" and "\x" escapes, where "*"
//     and "?" match spaces and slashes too, so "restart *" matches "restart
//     a b" but not "restart" alone). sudo-rs (0.2.13 and later) reads a
//     final lone "*" as "zero or more arguments" and compares the others
//     word by word: when the listing does not show which of the two printed
//     it (no Defaults section) and they would disagree, the answer is
//     Unknown. Arguments written as a regular expression ("^...$") are
//     Unknown.
//   - The file name part of the path may hold the same wildcards; they do not
//     match "/" (FNM_PATHNAME). A path ending in "/" matches any file in that
//     directory, not in its subdirectories.
//   - sudo compares the base name as written, then the directories after
//     resolving symbolic links, then the files' inodes. Lookup compares the
//     strings: a spec whose base name matches but whose directory differs
//     (other than by one being inside the other) is Unknown, since for
//     example /bin and /usr/bin are one directory on merged-/usr systems.
//   - A spec with a digest ("sha256:… /usr/bin/x") whose path and arguments
//     match is Unknown: Lookup does not read the file to hash it. Paths
//     written as a regular expression ("^...$"), entries limited in time
//     (notbefore, notafter) and anything else Lookup does not implement
//     (unexpanded aliases, sudo-rs's "???") are Unknown too.
//
// Whether sudo asks for a password, for an allowed command:
//
//   - never when the listed account is root or runAs is the listed account
//     itself;
//   - else the entry's own PASSWD/NOPASSWD tag (Options authenticate or
//     !authenticate) decides;
//   - else the Defaults do: the "Matching Defaults entries" (last
//     authenticate setting wins), then the Defaults>runas lines that match
//     runAs, then the Defaults!cmnd lines that match argv, later ones
//     winning; sudo's default is to ask. A List without any Defaults (what
//     sudo-rs prints) leaves this Unknown.
//   - exempt_group in the Defaults exempts its members even from a PASSWD
//     tag; Lookup cannot tell membership, so a password answer is then
//     Unknown.
//
// Lookup does not know PAM: a PAM stack that does not ask (pam_permit,
// fingerprints) makes "password" answers optimistic.
func (l List) Lookup(argv []string, runAs string) (m Match) {
	if len(argv) == 0 || !strings.HasPrefix(argv[0], "/") || strings.HasSuffix(argv[0], "/") {
		return Match{Unknown: true, Reason: fmt.Sprintf("argv[0] %q is not an absolute file path", strings.Join(argv[:min(len(argv), 1)], ""))}
	}
	if runAs == "" {
		runAs = l.runAsDefault()
	}
	og := l.showsDefaults()
	type outcome struct {
		m       Match
		allowed bool
		nopass  bool
		sure    bool // nopass is known
	}
	var doubts []outcome
	decided := outcome{sure: true}
	found := false
scan:
	for i := len(l.Entries) - 1; i >= 0; i-- {
		e := l.Entries[i]
		rOK, rSure, rWhy := l.runAsMatch(e, runAs)
		if !rOK && rSure {
			continue
		}
		if why := e.timeLimited(); why != "" {
			rSure, rWhy = false, why
		}
		for j := len(e.Commands) - 1; j >= 0; j-- {
			spec := e.Commands[j]
			cOK, cSure, neg, cWhy := e.matchCommand(spec, argv, og)
			if !cOK && cSure {
				continue
			}
			o := outcome{m: Match{Entry: e, Command: spec}, allowed: !neg, sure: true}
			if o.allowed {
				o.nopass, o.sure, o.m.Reason = l.noPassword(e, argv, runAs)
			}
			if rSure && cSure {
				decided, found = o, true
				break scan
			}
			o.m.Reason = strings.TrimPrefix(rWhy+"; "+cWhy, "; ")
			o.m.Reason = strings.TrimSuffix(o.m.Reason, "; ")
			doubts = append(doubts, o)
		}
	}
	m = decided.m
	m.Allowed = decided.allowed
	m.NoPassword = decided.allowed && decided.nopass
	if !found {
		m = Match{}
	}
	if decided.allowed && !decided.sure {
		m.Unknown, m.NoPassword = true, true
	}
	for _, d := range doubts {
		if d.allowed == decided.allowed && (!d.allowed || d.sure && decided.sure && d.nopass == decided.nopass) {
			continue
		}
		if !m.Unknown {
			m.Entry, m.Command, m.Reason = d.m.Entry, d.m.Command, d.m.Reason
		}
		m.Unknown = true
		m.Allowed = m.Allowed || d.allowed
		m.NoPassword = m.NoPassword || d.allowed && (d.nopass || !d.sure)
	}
	if m.Unknown && m.Reason == "" {
		m.Reason = "cannot evaluate " + m.Command
	}
	if !m.Unknown {
		m.Reason = ""
	}
	return m
}

// showsDefaults reports whether the listing has a Defaults section: only the
// original sudo prints them.
func (l List) showsDefaults() bool {
	return len(l.Defaults) > 0 || len(l.ScopedDefaults) > 0
}

// runAsDefault is the runas_default Default, root unless set.
func (l List) runAsDefault() string {
	if v, ok := l.setting("runas_default"); ok && v != "" && v != "true" && v != "false" {
		return v
	}
	return "root"
}

// runAsMatch reports whether e lets commands run as runAs; sure is false when
// it cannot tell.
func (l List) runAsMatch(e Entry, runAs string) (ok, sure bool, why string) {
	users := e.RunAsUsers
	if len(users) == 0 {
		if len(e.RunAsGroups) == 0 {
			users = []string{l.runAsDefault()}
		} else if l.User != "" {
			users = []string{l.User}
		} else {
			return false, false, "runas groups without a user"
		}
	}
	return l.listMatch(users, func(name string) (bool, bool, string) {
		switch {
		case name == "ALL" || name == runAs:
			return true, true, ""
		case strings.HasPrefix(name, "#") && runAs == "root":
			return name == "#0", true, ""
		case name == "root" && runAs == "#0":
			return true, true, ""
		case strings.HasPrefix(name, "#") && strings.HasPrefix(runAs, "#"):
			return false, true, ""
		case strings.HasPrefix(name, "#") || strings.HasPrefix(runAs, "#"):
			return false, false, fmt.Sprintf("runas %s: cannot tell user IDs from names", name)
		case strings.HasPrefix(name, "%") || strings.HasPrefix(name, "+"):
			return false, false, fmt.Sprintf("runas %s: group membership is not listed", name)
		case strings.EqualFold(name, runAs):
			if !l.showsDefaults() {
				return false, false, fmt.Sprintf("runas %s: sudo matches user names regardless of case, sudo-rs does not", name)
			}
			v, _ := l.setting("case_insensitive_user") // on unless set off
			return v != "false", true, ""
		case l.isAlias(name):
			return false, false, fmt.Sprintf("runas %s: an alias or unknown name", name)
		}
		return false, true, ""
	})
}

// listMatch evaluates a sudoers list ("!" negates, last match wins) with a
// matcher that may be unsure.
func (List) listMatch(items []string, match func(string) (ok, sure bool, why string)) (ok, sure bool, why string) {
	canTrue, canFalse := false, true
	for _, it := range items {
		neg := false
		for strings.HasPrefix(it, "!") {
			neg = !neg
			it = strings.TrimSpace(it[1:])
		}
		m, s, w := match(it)
		switch {
		case s && m:
			canTrue, canFalse = !neg, neg
		case !s:
			canTrue, canFalse = canTrue || !neg, canFalse || neg
			why = w
		}
	}
	if canTrue && canFalse {
		return false, false, why
	}
	return canTrue, true, ""
}

// isAlias reports whether name looks like an (unexpanded) alias or a
// placeholder: upper case, digits and underscores, or sudo-rs's "???".
func (List) isAlias(name string) bool {
	if name == "" || strings.Trim(name, "?") == "" {
		return true
	}
	if name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// timeLimited says why e cannot be evaluated without a clock, or "".
func (e Entry) timeLimited() string {
	for _, o := range e.Options {
		if strings.HasPrefix(o, "notbefore=") || strings.HasPrefix(o, "notafter=") {
			return "the entry is limited in time (" + o + ")"
		}
	}
	return ""
}

// authTag returns the entry's own authenticate setting, if any.
func (e Entry) authTag() (auth, set bool) {
	for _, o := range e.Options {
		if n, v, neg := (List{}).parseSetting(o); n == "authenticate" && v == "" {
			auth, set = !neg, true
		}
	}
	return auth, set
}

// noPassword reports whether running argv as runAs under entry e needs no
// password; sure is false when that depends on what the list does not show.
func (l List) noPassword(e Entry, argv []string, runAs string) (nopass, sure bool, why string) {
	if l.User != "" && (l.User == "root" || runAs == l.User) {
		return true, true, ""
	}
	auth, set := e.authTag()
	if !set {
		if !l.showsDefaults() {
			return false, false, "the entry has no PASSWD/NOPASSWD tag and the listing shows no Defaults (sudo-rs never lists them)"
		}
		canTrue, canFalse := true, false // auth; sudo's default is to ask
		if v, ok := l.setting("authenticate"); ok {
			canTrue, canFalse = v == "true", v == "false"
		}
		for _, d := range l.ScopedDefaults {
			if len(d) > 8 && (d[8] == '@' || d[8] == ':') && strings.Contains(d, "authenticate") {
				// sudo lists these among the matching Defaults.
				canTrue, canFalse, why = true, true, "cannot tell whether "+d+" applies"
			}
		}
		for _, kind := range []byte{'>', '!'} {
			for _, d := range l.ScopedDefaults {
				if len(d) < 9 || d[8] != kind {
					continue
				}
				scope, settings, ok := l.splitScoped(d)
				v, mentions := "", strings.Contains(d, "authenticate")
				if ok {
					mentions = false
					for _, s := range settings {
						if n, val, neg := l.parseSetting(s); n == "authenticate" && val == "" {
							v, mentions = map[bool]string{true: "false", false: "true"}[neg], true
						}
					}
				}
				if !mentions {
					continue
				}
				var applies, sure bool
				if ok {
					if kind == '>' {
						applies, sure, _ = l.runAsMatch(Entry{RunAsUsers: scope}, runAs)
					} else {
						applies, sure, _ = l.listMatch(scope, func(spec string) (bool, bool, string) {
							m, s, _, w := e.matchCommand(spec, argv, true)
							return m, s, w
						})
					}
				}
				switch {
				case !ok || !sure:
					if !ok || v == "" {
						canTrue, canFalse = true, true
					} else {
						canTrue, canFalse = canTrue || v == "true", canFalse || v == "false"
					}
					why = "cannot tell whether " + d + " applies"
				case applies:
					canTrue, canFalse = v == "true", v == "false"
				}
			}
		}
		if canTrue && canFalse {
			return false, false, why
		}
		auth = canTrue
	}
	if v, ok := l.setting("exempt_group"); auth && ok && v != "false" {
		return false, false, "exempt_group=" + v + " exempts its members from passwords"
	}
	return !auth, true, ""
}

// splitScoped splits "Defaults!cmnd, cmnd settings" or "Defaults>user, user
// settings" into its scope items and its settings. sudo separates the two
// with a space only, and commands hold spaces too, so every space is tried:
// ok is false unless exactly one split gives a list of scope items followed
// by a list of settings, or when the line is too long to try.
func (l List) splitScoped(d string) (scope, settings []string, ok bool) {
	kind, body := d[8], d[9:]
	if len(body) > 2048 { // trying every space is quadratic
		return nil, nil, false
	}
	lower := func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' }
	isSetting := func(s string) bool {
		name, value, hasValue := strings.Cut(strings.TrimLeft(s, "!"), "=")
		name = strings.TrimRight(name, "+-")
		if name == "" || strings.IndexFunc(name, func(r rune) bool { return !lower(r) }) >= 0 {
			return false
		}
		quoted := len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"'
		return !hasValue || quoted || !strings.ContainsAny(value, " \"")
	}
	isScope := func(s string) bool {
		s = strings.TrimLeft(s, "!")
		first, _, _ := strings.Cut(s, " ")
		if kind == '>' {
			return s != "" && first == s
		}
		return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "^") || first == "ALL" || first == "sudoedit" ||
			(Entry{}).isDigestOnly(first) || l.isAlias(first)
	}
	all := func(items []string, f func(string) bool) bool {
		return len(items) > 0 && !slices.ContainsFunc(items, func(s string) bool { return !f(s) })
	}
	found := 0
	for k := 0; k < len(body); k++ {
		if body[k] == '\\' {
			k++
			continue
		}
		if body[k] != ' ' {
			continue
		}
		s, t := strings.TrimSpace(body[:k]), strings.TrimSpace(body[k+1:])
		if strings.HasSuffix(s, ",") {
			continue
		}
		if ss, ts := l.splitSettings(s), l.splitSettings(t); all(ss, isScope) && all(ts, isSetting) {
			scope, settings = ss, ts
			found++
		}
	}
	return scope, settings, found == 1
}

// matchCommand reports whether the command spec matches argv; sure is false
// when Lookup cannot tell (why says why); neg is true for a negated spec.
// og means the listing is known to come from the original sudo.
func (Entry) matchCommand(spec string, argv []string, og bool) (ok, sure, neg bool, why string) {
	s := spec
	for strings.HasPrefix(s, "!") {
		neg = !neg
		s = strings.TrimSpace(s[1:])
	}
	digest := false
	for {
		tok, rest, _ := strings.Cut(s, " ")
		if !(Entry{}).isDigestOnly(strings.TrimSuffix(tok, ",")) {
			break
		}
		digest, s = true, strings.TrimSpace(rest)
	}
	switch {
	case s == "ALL" && !digest:
		return true, true, neg, ""
	case s == "list" || s == "sudoedit" || strings.HasPrefix(s, "sudoedit "):
		return false, true, neg, ""
	case strings.HasPrefix(s, "^"):
		re, _, _ := strings.Cut(s, " ")
		if !strings.HasPrefix(argv[0], Match{}.regexPrefix(re)) {
			return false, true, neg, ""
		}
		return false, false, neg, spec + ": regular expressions are not evaluated"
	case !strings.HasPrefix(s, "/"):
		return false, false, neg, spec + ": an alias or unknown syntax"
	}
	path, args, hasArgs := s, "", false
	for k := 0; k < len(s); k++ {
		if s[k] == '\\' {
			k++
			continue
		}
		if s[k] == ' ' {
			path, args, hasArgs = s[:k], s[k+1:], true
			break
		}
	}
	// sudo prints ",", ":", "=" and "#" escaped ("[[\:alpha\:]]*"),
	// which its own matching sees unescaped.
	path, args = Match{}.unquote(path), Match{}.unquote(args)
	pOK, pSure, pWhy := Match{}.pathMatch(path, argv[0])
	if !pOK && pSure {
		return false, true, neg, ""
	}
	aOK, aSure, aWhy := true, true, ""
	switch {
	case !hasArgs:
	case args == `""`:
		aOK = len(argv) == 1
	case strings.HasPrefix(args, "^") && strings.HasSuffix(args, "$"):
		aOK, aSure, aWhy = false, false, spec+": regular expressions are not evaluated"
	default:
		user := strings.Join(argv[1:], " ")
		m, fine := Match{}.fnmatch(args, user, false)
		if !fine {
			aOK, aSure, aWhy = false, false, spec+": wildcard syntax not implemented"
			break
		}
		aOK = m
		if !og {
			words := strings.Split(args, " ")
			var rs bool
			if len(words) > 1 && words[len(words)-1] == "*" {
				prefix := words[:len(words)-1]
				rs = len(argv)-1 >= len(prefix) && slices.Equal(argv[1:len(prefix)+1], prefix)
			} else {
				rs = slices.Equal(argv[1:], words)
			}
			if rs != m {
				aOK, aSure, aWhy = false, false, spec+": sudo and sudo-rs match these arguments differently and the listing does not show which printed it"
			}
		}
	}
	if !aOK && aSure {
		return false, true, neg, ""
	}
	if pSure && aSure && digest {
		return false, false, neg, spec + ": the digest is not checked"
	}
	if pSure && aSure {
		return true, true, neg, ""
	}
	return false, false, neg, strings.Trim(pWhy+"; "+aWhy, "; ")
}

// pathMatch compares a sudoers path (maybe with wildcards, maybe a
// directory ending in "/") with the command's path.
func (Match) pathMatch(pat, cmd string) (ok, sure bool, why string) {
	split := func(p string) (dir, base string) {
		k := strings.LastIndex(p, "/")
		dir, base = p[:k], p[k+1:]
		if dir == "" {
			dir = "/"
		}
		return dir, base
	}
	cmdDir, cmdBase := split(cmd)
	patDir, patBase := split(pat)
	if patBase != "" {
		m, fine := Match{}.fnmatch(patBase, cmdBase, true)
		if !fine {
			return false, false, pat + ": wildcard syntax not implemented"
		}
		if !m {
			return false, true, ""
		}
	}
	m, fine := Match{}.fnmatch(patDir, cmdDir, true)
	if !fine {
		return false, false, pat + ": wildcard syntax not implemented"
	}
	if m {
		return true, true, ""
	}
	if !(Match{}).hasMeta(patDir) {
		d := Match{}.unescape(patDir)
		inside := func(a, b string) bool { return strings.HasPrefix(a, strings.TrimSuffix(b, "/")+"/") }
		if inside(cmdDir, d) || inside(d, cmdDir) {
			return false, true, ""
		}
	}
	return false, false, fmt.Sprintf("%s: sudo compares %s and %s after resolving symbolic links", pat, patDir, cmdDir)
}

// regexPrefix returns the literal text every match of the anchored POSIX
// extended regular expression re ("^/usr/bin/(a|b)$") starts with: "" when
// it has a top-level alternative.
func (Match) regexPrefix(re string) string {
	depth := 0
	for k := 0; k < len(re); k++ {
		switch re[k] {
		case '\\':
			k++
		case '[': // skip the bracket expression: "[]a]", "[^]a]", "[(|]"
			k++
			if k < len(re) && re[k] == '^' {
				k++
			}
			if k < len(re) && re[k] == ']' {
				k++
			}
			for k < len(re) && re[k] != ']' {
				k++
			}
		case '(':
			depth++
		case ')':
			depth--
		case '|':
			if depth <= 0 {
				return ""
			}
		}
	}
	body := strings.TrimPrefix(re, "^")
	end := strings.IndexAny(body, `.[]()*+?{}|\^$`)
	if end < 0 {
		end = len(body)
	}
	if end < len(body) && strings.ContainsRune("*?{", rune(body[end])) && end > 0 {
		end-- // the last literal is quantified, maybe absent
	}
	return body[:end]
}

// hasMeta reports whether s holds an unescaped wildcard.
func (Match) hasMeta(s string) bool {
	for k := 0; k < len(s); k++ {
		switch s[k] {
		case '\\':
			k++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// unquote removes the backslashes sudo prints before ",", ":", "=" and "#".
func (Match) unquote(s string) string {
	var b strings.Builder
	for k := 0; k < len(s); k++ {
		if s[k] == '\\' && k+1 < len(s) && strings.IndexByte(",:=#", s[k+1]) >= 0 {
			continue
		}
		b.WriteByte(s[k])
	}
	return b.String()
}

// unescape removes sudoers backslash escapes.
func (Match) unescape(s string) string {
	var b strings.Builder
	for k := 0; k < len(s); k++ {
		if s[k] == '\\' && k+1 < len(s) {
			k++
		}
		b.WriteByte(s[k])
	}
	return b.String()
}

// fnmatch matches name against a shell wildcard pattern like fnmatch(3):
// "*", "?", bracket expressions ("[a-z]", "[!...]", "[^...]", "[[:alpha:]]")
// and backslash escapes; with pathname (FNM_PATHNAME) no wildcard matches
// "/". ok is false for syntax it does not implement ("[=a=]", "[.a.]") and
// for a pattern and name too long to compare (over 1M pairs of runes).
func (Match) fnmatch(pattern, name string, pathname bool) (matched, ok bool) {
	p, n := []rune(pattern), []rune(name)
	P, N := len(p), len(n)
	if (P+1)*(N+1) > 1<<20 {
		return false, false
	}
	// dp[i*(N+1)+j]: p[i:] matches n[j:], filled from the ends.
	dp := make([]bool, (P+1)*(N+1))
	at := func(i, j int) bool { return dp[i*(N+1)+j] }
	dp[P*(N+1)+N] = true
	ok = true
	for i := P - 1; i >= 0; i-- {
		seen := map[rune]bool{} // bracket membership by rune, for this i
		next, valid := 0, true  // the bracket's end, the same for every rune
		for j := N; j >= 0; j-- {
			var r bool
			switch {
			case p[i] == '*':
				r = at(i+1, j) || j < N && !(pathname && n[j] == '/') && at(i, j+1)
			case j == N:
			case p[i] == '?':
				r = !(pathname && n[j] == '/') && at(i+1, j+1)
			case p[i] == '[':
				in, cached := seen[n[j]]
				if !cached {
					in, next, valid = Match{}.bracket(p, i, n[j])
					seen[n[j]] = in
				}
				switch {
				case !valid:
					ok = false
				case next < 0: // no closing "]": a literal "["
					r = n[j] == '[' && at(i+1, j+1)
				default:
					r = in && !(pathname && n[j] == '/') && at(next, j+1)
				}
			case p[i] == '\\' && i+1 < P:
				r = p[i+1] == n[j] && at(i+2, j+1)
			default:
				r = p[i] == n[j] && at(i+1, j+1)
			}
			dp[i*(N+1)+j] = r
		}
	}
	return at(0, 0) && ok, ok
}

// bracket matches c against the bracket expression starting at p[i] ("[");
// next is the index after it, or -1 when it does not close.
func (Match) bracket(p []rune, i int, c rune) (in bool, next int, valid bool) {
	k := i + 1
	negate := k < len(p) && (p[k] == '!' || p[k] == '^')
	if negate {
		k++
	}
	classes := map[string]func(rune) bool{
		"alnum": func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) },
		"alpha": unicode.IsLetter, "blank": func(r rune) bool { return r == ' ' || r == '\t' },
		"cntrl": unicode.IsControl, "digit": unicode.IsDigit, "graph": func(r rune) bool { return unicode.IsGraphic(r) && !unicode.IsSpace(r) },
		"lower": unicode.IsLower, "print": unicode.IsPrint, "punct": unicode.IsPunct, "space": unicode.IsSpace,
		"upper": unicode.IsUpper, "xdigit": func(r rune) bool { return strings.ContainsRune("0123456789abcdefABCDEF", r) },
	}
	first := true
	for k < len(p) {
		if p[k] == ']' && !first {
			return in != negate, k + 1, true
		}
		first = false
		if p[k] == '[' && k+1 < len(p) && (p[k+1] == ':' || p[k+1] == '=' || p[k+1] == '.') {
			end := -1
			for e := k + 2; e+1 < len(p); e++ {
				if p[e] == p[k+1] && p[e+1] == ']' {
					end = e
					break
				}
			}
			if end < 0 {
				return false, -1, true
			}
			if p[k+1] != ':' {
				return false, 0, false
			}
			f, known := classes[string(p[k+2:end])]
			if !known {
				return false, 0, false
			}
			in = in || f(c)
			k = end + 2
			continue
		}
		lo := p[k]
		if lo == '\\' && k+1 < len(p) {
			k++
			lo = p[k]
		}
		k++
		hi := lo
		if k+1 < len(p) && p[k] == '-' && p[k+1] != ']' {
			hi = p[k+1]
			if hi == '\\' && k+2 < len(p) {
				hi = p[k+2]
				k++
			}
			k += 2
		}
		in = in || lo <= c && c <= hi
	}
	return false, -1, true
}
