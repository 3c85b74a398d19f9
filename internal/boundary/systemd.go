package boundary

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/clawwarden/clawwarden/internal/rootfile"
)

// systemUnitDirs are systemd's system unit directories, highest priority
// first (systemd.unit(5)); /lib/systemd/system is /usr/lib/systemd/system
// on merged-/usr systems and is read once then.
var systemUnitDirs = []string{
	"/etc/systemd/system", "/run/systemd/transient", "/run/systemd/system", "/run/systemd/generator",
	"/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system",
}

// execKeys are the [Service] settings whose value is a command line.
var execKeys = []string{"ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop", "ExecStopPost"}

// unitEntry is one Key=Value of a unit file or drop-in.
type unitEntry struct {
	section, key, value string
	origin              string // FILE:LINE
}

// unit is a service unit as systemd would load it: the file of highest
// priority and its drop-ins, in order.
type unit struct {
	name    string
	file    string   // host path of the main file
	dropins []string // host paths
	dirs    []string // drop-in directories that exist
	entries []unitEntry
	owner   string // for user units: the account whose manager runs it
}

// parseUnit appends the entries of a unit file or drop-in.
func (u *unit) parse(origin, text string) {
	section := ""
	for _, ln := range logicalLines(text, true) {
		t := ln.text
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			section = t[1 : len(t)-1]
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		u.entries = append(u.entries, unitEntry{section: section, key: strings.TrimSpace(k), value: strings.TrimSpace(v), origin: fmt.Sprintf("%s:%d", origin, ln.no)})
	}
}

// last returns the entry in force for a single-valued [Service] key (the
// last one; an empty value resets it, and nil means unset).
func (u *unit) last(key string) *unitEntry {
	var e *unitEntry
	for i := range u.entries {
		if u.entries[i].section == "Service" && u.entries[i].key == key {
			e = &u.entries[i]
			if e.value == "" {
				e = nil
			}
		}
	}
	return e
}

// list returns the entries in force for a list-valued [Service] key (an
// empty value resets the list).
func (u *unit) list(key string) []unitEntry {
	var out []unitEntry
	for _, e := range u.entries {
		if e.section == "Service" && e.key == key {
			if e.value == "" {
				out = nil
				continue
			}
			out = append(out, e)
		}
	}
	return out
}

// isTrue parses a systemd boolean.
func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on", "y", "t":
		return true
	}
	return false
}

// isFalse reports whether v is a systemd boolean false.
func isFalse(v string) bool {
	switch strings.ToLower(v) {
	case "0", "no", "false", "off", "n", "f":
		return true
	}
	return false
}

// loadUnits reads the units whose names satisfy want from dirs (highest
// priority first): for each name, the first file found, then the drop-ins
// NAME.d/*.conf, TEMPLATE@.service.d/*.conf and service.d/*.conf of every
// directory, a drop-in name in a higher directory hiding the same name in a
// lower one, applied in name order. Masked units (linked to /dev/null) are
// skipped.
func (c *checker) loadUnits(dirs []string, want func(string) bool) []*unit {
	var real []string // dirs, without the ones that are the same directory
	var infos []os.FileInfo
	for _, d := range dirs {
		fi, err := os.Stat(c.full(d))
		if err != nil || !fi.IsDir() || slices.ContainsFunc(infos, func(o os.FileInfo) bool { return os.SameFile(o, fi) }) {
			continue
		}
		real, infos = append(real, d), append(infos, fi)
	}
	byName := map[string]*unit{}
	var order []string
	for _, d := range real {
		ents, _ := os.ReadDir(c.full(d))
		for _, e := range ents {
			name := e.Name()
			if e.IsDir() || !want(name) {
				continue
			}
			if _, ok := byName[name]; ok {
				continue
			}
			p := path.Join(d, name)
			u := &unit{name: name, file: p}
			byName[name] = u
			if t, err := os.Readlink(c.full(p)); err == nil && (t == "/dev/null" || t == "") {
				u.file = "" // masked
				continue
			}
			order = append(order, name)
		}
	}
	var out []*unit
	for _, name := range order {
		u := byName[name]
		target, _, _ := c.resolve(u.file) // symbolic links are read under the root too
		b, err := os.ReadFile(c.full(target))
		if err != nil {
			c.incomplete("systemd: %v", err)
			continue
		}
		u.parse(c.host(u.file), string(b))
		dropDirs := []string{name + ".d"}
		if at := strings.Index(name, "@"); at >= 0 && !strings.HasPrefix(name[at:], "@.") {
			dropDirs = append(dropDirs, name[:at+1]+path.Ext(name)+".d")
		}
		dropDirs = append(dropDirs, strings.TrimPrefix(path.Ext(name), ".")+".d")
		confs := map[string]string{}
		for _, d := range real {
			for _, dd := range dropDirs {
				dir := path.Join(d, dd)
				ents, err := os.ReadDir(c.full(dir))
				if err != nil {
					continue
				}
				u.dirs = append(u.dirs, dir)
				for _, e := range ents {
					if strings.HasSuffix(e.Name(), ".conf") {
						if _, ok := confs[e.Name()]; !ok {
							confs[e.Name()] = path.Join(dir, e.Name())
						}
					}
				}
			}
		}
		var names []string
		for n := range confs {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			b, err := os.ReadFile(c.full(confs[n]))
			if err != nil {
				continue
			}
			u.dropins = append(u.dropins, confs[n])
			u.parse(c.host(confs[n]), string(b))
		}
		out = append(out, u)
	}
	return out
}

// runsAsRoot reports whether a system unit's processes run as root.
func (c *checker) runsAsRoot(u *unit) bool {
	if d := u.last("DynamicUser"); d != nil && isTrue(d.value) {
		return false
	}
	usr := u.last("User")
	return usr == nil || c.isRootName(usr.value)
}

// execCommand splits an Exec line into its prefix characters and command.
func execCommand(v string) (prefix, cmd string) {
	i := 0
	for i < len(v) && strings.IndexByte("@-:+!|", v[i]) >= 0 {
		i++
	}
	return v[:i], strings.TrimSpace(v[i:])
}

// unitFiles returns the files an Exec command line runs or names: its
// program (looked up in systemd's fixed PATH when bare) and every absolute
// path among its arguments; specifiers and variables are skipped.
func (c *checker) unitFiles(cmd string) []string {
	words, _ := cutFields(cmd, 1)
	var out []string
	if len(words) == 1 {
		w := strings.Trim(words[0], `"'`)
		if !strings.Contains(w, "/") && !strings.ContainsAny(w, "%$") {
			out = append(out, c.lookPath(w, rootfile.SecurePath)...)
		}
	}
	for _, m := range absPath().FindAllStringSubmatch(cmd, -1) {
		if !strings.ContainsAny(m[1], "$*?[%~") && !slices.Contains(out, path.Clean(m[1])) {
			out = append(out, path.Clean(m[1]))
		}
	}
	return out
}

// checkSystemd reports unit files and directories the account can change
// (systemd runs units as root, whatever User= says today), and files that
// root units (or commands prefixed with "+" or "!", which run with full
// privileges) run or read.
func (c *checker) checkSystemd() {
	c.units = c.loadUnits(systemUnitDirs, func(n string) bool { return strings.HasSuffix(n, ".service") })
	check := func(p, what string) {
		if e := c.writable(p); e != nil {
			c.report(KindSystemdUnit, e, what, "systemctl daemon-reload")
		}
	}
	for _, d := range systemUnitDirs {
		if _, err := c.lstat(d); err == nil {
			check(d, fmt.Sprintf("systemd loads the units in %s and runs them as root unless they say otherwise", c.host(d)))
		}
	}
	rootUnits, paths := 0, 0
	for _, u := range c.units {
		check(u.file, fmt.Sprintf("systemd runs %s as its unit file %s says, as root if it says so", u.name, c.host(u.file)))
		for _, d := range u.dirs {
			check(d, fmt.Sprintf("systemd reads %s's drop-ins from %s", u.name, c.host(d)))
		}
		for _, d := range u.dropins {
			check(d, fmt.Sprintf("systemd applies the drop-in %s to %s", c.host(d), u.name))
		}
		root := c.runsAsRoot(u)
		if root {
			rootUnits++
			for _, e := range u.list("EnvironmentFile") {
				p := strings.TrimPrefix(e.value, "-")
				if path.IsAbs(p) && !strings.ContainsAny(p, "%$*?[") {
					paths++
					check(p, fmt.Sprintf("%s (%s) runs as root with the environment in %s", u.name, e.origin, c.host(p)))
				}
			}
		}
		for _, key := range execKeys {
			for _, e := range u.list(key) {
				prefix, cmd := execCommand(e.value)
				if !root && !strings.ContainsAny(prefix, "+!") {
					continue
				}
				for _, p := range c.unitFiles(cmd) {
					paths++
					check(p, fmt.Sprintf("%s (%s) runs `%s` as root", u.name, e.origin, short(e.value)))
				}
			}
		}
	}
	c.evidence("systemd: %d service unit(s) read from %s; %d run as root, %d command and environment file(s) of theirs checked",
		len(c.units), strings.Join(systemUnitDirs, ", "), rootUnits, paths)
}
