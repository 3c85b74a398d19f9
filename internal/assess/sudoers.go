package assess

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// SudoRule is one sudoers rule that applies to the assessed user.
type SudoRule struct {
	Text        string `json:"text"`         // the rule as written, continuation lines joined
	Origin      string `json:"origin"`       // file:line, or "sudo -n -l"
	NoPasswd    bool   `json:"nopasswd"`     // a NOPASSWD tag: sudo runs without asking anyone
	AllCommands bool   `json:"all_commands"` // the command list includes ALL
}

// SudoPosture is what the sudoers configuration says about the user.
type SudoPosture struct {
	Source               string     `json:"source"`                           // where it was read from
	Rules                []SudoRule `json:"rules"`                            // rules that apply to the user
	TimestampTimeout     *float64   `json:"timestamp_timeout,omitempty"`      // minutes; nil: sudo's default (15)
	TimestampTimeoutFrom string     `json:"timestamp_timeout_from,omitempty"` // file:line, or "sudo -n -l"
	TimestampType        string     `json:"timestamp_type,omitempty"`         // "" means sudo's default (tty)
	TimestampTypeFrom    string     `json:"timestamp_type_from,omitempty"`    // file:line, or "sudo -n -l"; names tty_tickets when that set it
	Unknown              string     `json:"unknown,omitempty"`                // why the posture could not be read
}

// defaultsRE matches a Defaults line, optionally scoped (Defaults:user,
// Defaults@host, Defaults>runas, Defaults!cmd).
var defaultsRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Defaults([:@>!]\S+)?\s+(.*)$`) })

// readSudoers parses sudoersFile and the files of includeDir (as sudo's
// @includedir does: names without '.' and not ending in '~'), keeping what
// applies to user (member of groups).
func readSudoers(sudoersFile, includeDir, user string, groups []string) (SudoPosture, error) {
	p := SudoPosture{Source: sudoersFile}
	files := []string{sudoersFile}
	data, err := os.ReadFile(sudoersFile)
	if err != nil {
		return p, err
	}
	contents := [][]byte{data}
	if ents, err := os.ReadDir(includeDir); err == nil {
		p.Source += " and " + includeDir
		for _, e := range ents {
			n := e.Name()
			if strings.Contains(n, ".") || strings.HasSuffix(n, "~") || e.IsDir() {
				continue
			}
			path := filepath.Join(includeDir, n)
			b, err := os.ReadFile(path)
			if err != nil {
				return p, err
			}
			files = append(files, path)
			contents = append(contents, b)
		}
	}
	aliases := map[string][]string{}
	// sudo applies Defaults:user after the global Defaults, wherever they
	// are written, so the user's own settings win.
	var userDefaults SudoPosture
	for i, b := range contents {
		for _, ln := range logicalLines(b) {
			parseSudoersLine(&p, &userDefaults, aliases, ln.text, fmt.Sprintf("%s:%d", files[i], ln.no), user, groups)
		}
	}
	if userDefaults.TimestampTimeout != nil {
		p.TimestampTimeout, p.TimestampTimeoutFrom = userDefaults.TimestampTimeout, userDefaults.TimestampTimeoutFrom
	}
	if userDefaults.TimestampTypeFrom != "" {
		p.TimestampType, p.TimestampTypeFrom = userDefaults.TimestampType, userDefaults.TimestampTypeFrom
	}
	return p, nil
}

type logicalLine struct {
	no   int
	text string
}

// logicalLines joins backslash continuations and drops comments and blank
// lines. "#include"/"#includedir" lines are dropped too: the include
// directory is read separately.
func logicalLines(b []byte) []logicalLine {
	var out []logicalLine
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	var cur strings.Builder
	start, n := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		text := stripComment(cur.String())
		cur.Reset()
		if text != "" {
			out = append(out, logicalLine{no: start, text: text})
		}
	}
	return out
}

// stripComment removes a "#" comment; "#123" (a uid) is not a comment, but
// lines starting with "#include" are dropped.
func stripComment(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "#include") || strings.HasPrefix(t, "@include") {
		return ""
	}
	for i := 0; i < len(t); i++ {
		if t[i] == '#' && (i+1 >= len(t) || t[i+1] < '0' || t[i+1] > '9') {
			return strings.TrimSpace(t[:i])
		}
	}
	return t
}

// parseSudoersLine adds what line says about user to p; Defaults scoped to
// user go to userDefaults, which the caller applies last.
func parseSudoersLine(p, userDefaults *SudoPosture, aliases map[string][]string, line, origin, user string, groups []string) {
	if m := defaultsRE().FindStringSubmatch(line); m != nil {
		switch scope := m[1]; {
		case scope == "":
			applyDefaults(p, m[2], origin)
		case scope[0] == ':' && matchesUser(splitList(scope[1:]), aliases, user, groups):
			applyDefaults(userDefaults, m[2], origin)
		}
		return
	}
	if strings.HasPrefix(line, "User_Alias") {
		for _, def := range strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "User_Alias")), ":") {
			name, val, ok := strings.Cut(def, "=")
			if ok {
				aliases[strings.TrimSpace(name)] = splitList(val)
			}
		}
		return
	}
	for _, kw := range []string{"Runas_Alias", "Host_Alias", "Cmnd_Alias", "Cmd_Alias"} {
		if strings.HasPrefix(line, kw) {
			return
		}
	}
	who, rest, ok := cutSpace(line)
	if !ok || !strings.Contains(rest, "=") {
		return
	}
	if !matchesUser(splitList(who), aliases, user, groups) {
		return
	}
	_, cmds, _ := strings.Cut(rest, "=")
	r := SudoRule{Text: line, Origin: origin, NoPasswd: strings.Contains(cmds, "NOPASSWD:")}
	// Drop the runas spec and tags, then look for a bare ALL command.
	c := cmds
	if i := strings.Index(c, ")"); i >= 0 && strings.Contains(c[:i], "(") {
		c = c[i+1:]
	}
	for _, item := range strings.Split(c, ",") {
		item = strings.TrimSpace(item)
		for {
			tag, after, found := strings.Cut(item, ":")
			if !found || strings.ContainsAny(tag, " /") {
				break
			}
			item = strings.TrimSpace(after)
		}
		if item == "ALL" {
			r.AllCommands = true
		}
	}
	p.Rules = append(p.Rules, r)
}

func cutSpace(s string) (string, string, bool) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, "", false
	}
	return s[:i], strings.TrimSpace(s[i:]), true
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// matchesUser reports whether a sudoers user list names user: the name,
// ALL, %group for one of groups, or a User_Alias containing one of those.
// Negations ("!name") are not honoured: the rule is counted, which errs on
// the side of flagging.
func matchesUser(list []string, aliases map[string][]string, user string, groups []string) bool {
	for _, w := range list {
		w = strings.TrimPrefix(w, "!")
		switch {
		case w == "ALL", w == user:
			return true
		case strings.HasPrefix(w, "%") && slices.Contains(groups, strings.TrimPrefix(w, "%")):
			return true
		case aliases[w] != nil && matchesUser(aliases[w], nil, user, groups):
			return true
		}
	}
	return false
}

// applyDefaults records timestamp_timeout and timestamp_type from a
// comma-separated Defaults list written at origin. The older tty_tickets
// flag sets the type too: !tty_tickets is global, tty_tickets is tty.
func applyDefaults(p *SudoPosture, list, origin string) {
	for _, item := range splitList(list) {
		k, v, _ := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
		switch k {
		case "timestamp_timeout":
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				p.TimestampTimeout, p.TimestampTimeoutFrom = &f, origin
			}
		case "timestamp_type":
			p.TimestampType, p.TimestampTypeFrom = v, origin
		case "!tty_tickets":
			p.TimestampType, p.TimestampTypeFrom = "global", origin+" (!tty_tickets)"
		case "tty_tickets":
			p.TimestampType, p.TimestampTypeFrom = "tty", origin+" (tty_tickets)"
		}
	}
}

// parseSudoList reads the output of `sudo -n -l`.
func parseSudoList(out string) SudoPosture {
	p := SudoPosture{Source: "sudo -n -l"}
	section := ""
	for _, line := range strings.Split(out, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "Matching Defaults entries"):
			section = "defaults"
			continue
		case strings.Contains(t, "may run the following commands"):
			section = "rules"
			continue
		case strings.HasPrefix(t, "Runas and Command-specific defaults"):
			section = ""
			continue
		}
		switch section {
		case "defaults":
			applyDefaults(&p, t, "sudo -n -l")
		case "rules":
			r := SudoRule{Text: t, Origin: "sudo -n -l", NoPasswd: strings.Contains(t, "NOPASSWD:")}
			c := t
			if i := strings.Index(c, ")"); i >= 0 {
				c = c[i+1:]
			}
			for _, item := range strings.Split(c, ",") {
				item = strings.TrimSpace(item)
				if i := strings.LastIndex(item, ":"); i >= 0 && !strings.Contains(item[:i], "/") {
					item = strings.TrimSpace(item[i+1:])
				}
				if item == "ALL" {
					r.AllCommands = true
				}
			}
			p.Rules = append(p.Rules, r)
		}
	}
	return p
}
