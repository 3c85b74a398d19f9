package boundary

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"
)

// cronDirs are the directories whose files cron runs as root, one by one
// (run-parts) or as crontabs.
var (
	cronTabDirs   = []string{"/etc/cron.d"}
	cronRootTabs  = []string{"/var/spool/cron/crontabs/root", "/var/spool/cron/root"} // Debian, then cronie
	cronPartsDirs = []string{"/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly", "/etc/cron.monthly", "/etc/cron.yearly"}
)

// cronDefaultPath is the PATH cron gives jobs when the crontab sets none.
const cronDefaultPath = "/usr/bin:/bin"

var (
	envLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$`) })
	absPath = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("(?:^|[\\s=:<>|;&(){}'\"`,])(/[^\\s:;&|<>(){}'\"`,]*)")
	})
	partsName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]+$`) })
)

// cronJob is one job cron runs as root.
type cronJob struct {
	origin string // FILE:LINE
	cmd    string
	path   string // PATH in force
	shell  string // SHELL in force
}

// parseCrontab returns the root jobs of a crontab. fields is the number of
// schedule fields before the command (5 for a crontab, 3 for anacrontab);
// system crontabs have a user field after them.
func (c *checker) parseCrontab(name, text string, fields int, system bool) []cronJob {
	var jobs []cronJob
	env := map[string]string{"PATH": cronDefaultPath, "SHELL": "/bin/sh"}
	for _, ln := range logicalLines(text, true) {
		t := ln.text
		if m := envLine().FindStringSubmatch(t); m != nil {
			env[m[1]] = strings.Trim(strings.TrimSpace(m[2]), `"'`)
			continue
		}
		n := fields
		if strings.HasPrefix(t, "@") {
			n = 1
			if fields == 3 { // anacrontab: @period delay id
				n = 3
			}
		}
		if system {
			n++
		}
		words, rest := cutFields(t, n)
		if len(words) < n || rest == "" {
			continue
		}
		if system && !c.isRootName(words[n-1]) {
			continue
		}
		jobs = append(jobs, cronJob{origin: fmt.Sprintf("%s:%d", c.host(name), ln.no), cmd: rest, path: env["PATH"], shell: env["SHELL"]})
	}
	return jobs
}

// cutFields returns the first n whitespace-separated words of s and the
// rest, trimmed.
func cutFields(s string, n int) ([]string, string) {
	var words []string
	rest := strings.TrimSpace(s)
	for len(words) < n && rest != "" {
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			words, rest = append(words, rest), ""
			break
		}
		words, rest = append(words, rest[:i]), strings.TrimSpace(rest[i:])
	}
	return words, rest
}

// shellWords are words a command line starts with that are not programs,
// or that run the next word.
var (
	shellBuiltins = map[string]bool{"cd": true, "test": true, "[": true, "[[": true, "echo": true, "printf": true, "true": true, "false": true,
		"exit": true, "return": true, "export": true, "set": true, "unset": true, ".": true, "source": true, "eval": true, ":": true,
		"read": true, "shift": true, "trap": true, "wait": true, "umask": true, "ulimit": true, "if": true, "then": true, "else": true,
		"elif": true, "fi": true, "do": true, "done": true, "while": true, "until": true, "for": true, "case": true, "esac": true,
		"in": true, "!": true, "local": true}
	shellWrappers = map[string]bool{"exec": true, "command": true, "nohup": true, "nice": true, "ionice": true, "env": true, "time": true, "chronic": true}
)

// commandFiles returns the files a shell command line runs or names: every
// absolute path in it, and the programs named by bare words, looked up in
// pathEnv (the directories before the one that has it count too: the
// account could put its own program there).
func (c *checker) commandFiles(cmd, pathEnv string) []string {
	// cron turns an unescaped % into a newline and feeds the rest to stdin.
	for k := 0; k < len(cmd); k++ {
		if cmd[k] == '\\' {
			k++
			continue
		}
		if cmd[k] == '%' {
			cmd = cmd[:k]
			break
		}
	}
	var out []string
	add := func(p string) {
		p = path.Clean(p)
		for _, q := range out {
			if q == p {
				return
			}
		}
		out = append(out, p)
	}
	for _, m := range absPath().FindAllStringSubmatch(cmd, -1) {
		if !strings.ContainsAny(m[1], "$*?[%~") {
			add(m[1])
		}
	}
	seps := strings.NewReplacer("&&", "\n", "||", "\n", ";", "\n", "|", "\n", "&", "\n", "(", "\n", ")", "\n", "{", "\n", "}", "\n", "`", "\n", "$(", "\n")
	for seg := range strings.SplitSeq(seps.Replace(cmd), "\n") {
		words := strings.Fields(seg)
		for len(words) > 0 {
			w := strings.Trim(words[0], `"'`)
			switch {
			case envLine().MatchString(w) || strings.ContainsAny(w, "<>") || shellWrappers[w] || strings.HasPrefix(w, "-") || isNumber(w):
				words = words[1:]
				continue
			case shellBuiltins[w] || strings.Contains(w, "/") || strings.ContainsAny(w, "$*?[%~=") || w == "":
			default:
				for _, f := range c.lookPath(w, pathEnv) {
					add(f)
				}
			}
			break
		}
	}
	return out
}

func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// lookPath returns dir/name for each absolute directory of pathEnv up to
// and including the first that has name.
func (c *checker) lookPath(name, pathEnv string) []string {
	var out []string
	for dir := range strings.SplitSeq(pathEnv, ":") {
		if !path.IsAbs(dir) {
			continue
		}
		p := path.Join(dir, name)
		out = append(out, p)
		if _, err := os.Stat(c.full(p)); err == nil {
			break
		}
	}
	return out
}

// checkCron reports root cron jobs that run or name a file the account can
// change, and crontabs and cron directories it can change.
func (c *checker) checkCron() {
	var jobs []cronJob
	tabs := 0
	var parts []string
	check := func(p, what string) {
		if e := c.writable(p); e != nil {
			c.report(KindCron, e, what, "")
		}
	}
	readTab := func(p string, fields int, system bool) {
		b, err := os.ReadFile(c.full(p))
		if err != nil {
			return
		}
		tabs++
		check(p, fmt.Sprintf("cron runs the jobs in %s as root", c.host(p)))
		jobs = append(jobs, c.parseCrontab(p, string(b), fields, system)...)
	}
	readTab("/etc/crontab", 5, true)
	for _, dir := range cronTabDirs {
		check(dir, fmt.Sprintf("cron runs the crontabs in %s", c.host(dir)))
		ents, _ := os.ReadDir(c.full(dir))
		for _, e := range ents {
			if !e.IsDir() && partsName().MatchString(e.Name()) {
				readTab(path.Join(dir, e.Name()), 5, true)
			}
		}
	}
	for _, p := range cronRootTabs {
		check(p, fmt.Sprintf("cron runs %s as root's crontab", c.host(p)))
		readTab(p, 5, false)
	}
	readTab("/etc/anacrontab", 3, false)
	for _, j := range jobs {
		what := fmt.Sprintf("%s runs `%s` as root", j.origin, short(j.cmd))
		for _, f := range append(c.commandFiles(j.cmd, j.path), j.shell) {
			check(f, what)
		}
	}
	for _, dir := range cronPartsDirs {
		if _, err := c.lstat(dir); err != nil {
			continue
		}
		check(dir, fmt.Sprintf("run-parts runs every file in %s as root", c.host(dir)))
		ents, _ := os.ReadDir(c.full(dir))
		for _, e := range ents {
			if e.IsDir() || !partsName().MatchString(e.Name()) {
				continue
			}
			p := path.Join(dir, e.Name())
			parts = append(parts, p)
			what := fmt.Sprintf("run-parts runs %s as root", c.host(p))
			check(p, what)
			if interp := c.interpreter(p); interp != "" {
				check(interp, what+" with the interpreter "+c.host(interp))
			}
		}
	}
	c.evidence("cron: %d crontab(s) read, %d root job(s) and %d run-parts script(s) checked: their commands, absolute paths, PATH lookups, shells and interpreters",
		tabs, len(jobs), len(parts))
}

// interpreter returns the program of a script's "#!" line.
func (c *checker) interpreter(p string) string {
	f, err := os.Open(c.full(p))
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return ""
	}
	word, _ := cutFields(rest, 1)
	if len(word) == 0 || !path.IsAbs(word[0]) {
		return ""
	}
	return word[0]
}

// short shortens a command line for messages.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		return s[:97] + "..."
	}
	return s
}
