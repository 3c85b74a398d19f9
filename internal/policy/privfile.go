package policy

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The privilege files decide who becomes root: whoever may write one, or
// change its owner or mode, may make themselves root for good. privDirs are
// directories whose every file is one.
var (
	privFiles = []string{"/etc/sudoers", "/etc/shadow", "/etc/gshadow", "/etc/passwd", "/etc/group",
		"/etc/sudo.conf", "/etc/ld.so.preload", "/etc/doas.conf"}
	privDirs = []string{"/etc/sudoers.d", "/etc/pam.d"}
)

const (
	decides = "which decides who becomes root"
	holds   = "which holds the files that decide who becomes root"
	// etcOwned ends the reason for a change of owner or group under /etc.
	etcOwned = "and /etc, its files and the directories above it must stay root's: they decide what runs as root"
)

// A place is a class of paths that a rule protects. abs tests a clean,
// absolute path (see canon); name tests a clean, lower-cased relative path
// in an unknown working directory, which has only its name to go on.
type place struct {
	abs  func(p string) bool
	name func(rel string) bool
}

var (
	// privPlace: a privilege file, or sudoers.d or pam.d or a file in them.
	privPlace = place{
		abs: func(p string) bool {
			return slices.Contains(privFiles, p) || slices.ContainsFunc(privDirs, func(d string) bool {
				return p == d || strings.HasPrefix(p, d+"/")
			})
		},
		name: func(rel string) bool {
			base := filepath.Base(rel)
			return slices.ContainsFunc(privFiles, func(f string) bool { return filepath.Base(f) == base }) ||
				slices.ContainsFunc(privDirs, func(d string) bool { return hasElem(rel, filepath.Base(d)) })
		},
	}
	// etcDirPlace: /etc itself, as a target directory.
	etcDirPlace = place{
		abs:  func(p string) bool { return p == "/etc" },
		name: func(rel string) bool { return filepath.Base(rel) == "etc" },
	}
	// treePlace: /etc or a directory above it, which anything recursive
	// reaches the privilege files from.
	treePlace = place{
		abs:  func(p string) bool { return p == "/etc" || p == "/" || p == "/private" },
		name: func(rel string) bool { return filepath.Base(rel) == "etc" },
	}
	// etcPlace: /etc, anything in it, or a directory above it.
	etcPlace = place{
		abs: func(p string) bool {
			return p == "/etc" || strings.HasPrefix(p, "/etc/") || p == "/" || p == "/private"
		},
		name: func(rel string) bool { return hasElem(rel, "etc") },
	}
)

func hasElem(rel, elem string) bool {
	for e := range strings.SplitSeq(rel, "/") {
		if e == elem {
			return true
		}
	}
	return false
}

// canon is the form of a clean absolute path that places test: lower-cased,
// since macOS's file system ignores case, and with macOS's /private/etc (the
// target of its /etc symlink) read as /etc.
func canon(p string) string {
	p = strings.ToLower(p)
	if rest, ok := strings.CutPrefix(p, "/private/etc"); ok && (rest == "" || rest[0] == '/') {
		return "/etc" + rest
	}
	return p
}

// A target is a path that a command touches.
type target struct {
	path     string // clean; absolute unless the working directory is unknown
	raw      string // absolute but not clean, as the kernel reads it
	real     string // raw with its symlinks followed, when that differs from path
	resolved bool   // real has been looked for
}

// newTarget reads the operand arg in the working directory cwd ("" or a
// relative cwd means unknown).
func newTarget(cwd, arg string) *target {
	raw := arg
	if !filepath.IsAbs(raw) && filepath.IsAbs(cwd) {
		raw = cwd + "/" + raw
	}
	return &target{path: filepath.Clean(raw), raw: raw}
}

// in reports whether t is in pl, as written or through symlinks, and how to
// name it in a reason: "/etc/shadow", "/tmp/l/shadow (through symlinks,
// /etc/shadow)" or "shadow (relative to an unknown working directory)".
func (t *target) in(pl place) (string, bool) {
	if !filepath.IsAbs(t.path) {
		if pl.name(strings.ToLower(t.path)) {
			return t.path + " (relative to an unknown working directory)", true
		}
		return "", false
	}
	if pl.abs(canon(t.path)) {
		return t.path, true
	}
	if !t.resolved {
		t.resolved = true
		// Follow the links in raw: after a symlink, ".." is the parent of
		// its target, which cleaning path has lost (/tmp/l/../shadow is
		// /etc/shadow when l is /etc/sudoers.d).
		if r := followLinks(t.raw); r != t.path {
			t.real = r
		}
	}
	if t.real != "" && pl.abs(canon(t.real)) {
		return t.raw + " (through symlinks, " + t.real + ")", true
	}
	return "", false
}

// maxLinks is how many symlinks followLinks follows before it gives up, as
// Linux does (MAXSYMLINKS).
const maxLinks = 40

// followLinks returns the absolute path abs with its symlinks followed as
// far as the path exists; the missing rest is kept as written. Unlike
// [filepath.EvalSymlinks] it follows a symlink whose target is missing,
// since writing through one creates the target. It returns "" for a loop.
// An agent can make symlinks anywhere it can write (ln -s /etc /tmp/l), so
// "/tmp/l/shadow" may well be /etc/shadow.
func followLinks(abs string) string {
	done, rest, links := "/", abs, 0
	for rest != "" {
		var name string
		name, rest, _ = strings.Cut(strings.TrimLeft(rest, "/"), "/")
		switch name {
		case "", ".":
			continue
		case "..":
			done = filepath.Dir(done)
			continue
		}
		next := filepath.Join(done, name)
		fi, err := os.Lstat(next)
		if err != nil { // missing, or not ours to read
			return filepath.Join(next, rest)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		if links++; links > maxLinks {
			return ""
		}
		link, err := os.Readlink(next)
		if err != nil {
			return ""
		}
		if filepath.IsAbs(link) {
			done = "/"
		}
		rest = link + "/" + rest
	}
	return done
}

// privDetail returns why doing verb to the file arg is refused when arg
// names a privilege file, or "".
func privDetail(cwd, verb, arg string) string {
	if s, ok := newTarget(cwd, arg).in(privPlace); ok {
		return verb + " " + s + ", " + decides
	}
	return ""
}

func teeCheck(cwd string, args []string) (string, string) {
	c := parseArgs(args, "")
	for _, op := range c.operands {
		if d := privDetail(cwd, "writes", op); d != "" {
			return kindPrivFile, d
		}
	}
	return "", ""
}

func truncateCheck(cwd string, args []string) (string, string) {
	c := parseArgs(args, "rs", "reference", "size")
	for _, op := range c.operands {
		if d := privDetail(cwd, "truncates", op); d != "" {
			return kindPrivFile, d
		}
	}
	return "", ""
}

func ddCheck(cwd string, args []string) (string, string) {
	for _, a := range args {
		if f, ok := strings.CutPrefix(a, "of="); ok {
			if d := privDetail(cwd, "writes", f); d != "" {
				return kindPrivFile, d
			}
		}
		if f, ok := strings.CutPrefix(a, "if="); ok {
			if d := privDetail(cwd, "reads", f); d != "" {
				return kindPrivFile, d
			}
		}
	}
	return "", ""
}

// destinations splits the operands of cp, mv, install and ln into sources
// and destinations: the -t (--target-directory) values, or else the last
// of two or more operands.
func destinations(c *cmdline) (sources, dests []string) {
	dests = c.values('t', "target-directory")
	sources = c.operands
	if len(dests) == 0 && len(sources) > 1 {
		dests, sources = sources[len(sources)-1:], sources[:len(sources)-1]
	}
	return sources, dests
}

// intoDirs reports whether c names its destination with -t, which is always
// a directory.
func intoDirs(c *cmdline) bool {
	return len(c.values('t', "target-directory")) > 0
}

// copyDetail returns why a command that does verb to sources, putting them
// in or at dests (directories when into), is refused, or "". A destination
// directory of /etc counts, since what lands there is named after its
// source (cp /tmp/shadow /etc); a recursive command counts with /etc or a
// directory above it on either side. Reading a privilege file counts too:
// a copy of /etc/shadow is a copy of its password hashes.
func copyDetail(cwd, verb string, sources, dests []string, into, recursive bool) string {
	dirPlace := etcDirPlace
	if recursive {
		dirPlace = treePlace
	}
	for _, d := range dests {
		t := newTarget(cwd, d)
		if s, ok := t.in(privPlace); ok {
			if into {
				return verb + " into " + s + ", " + decides
			}
			return "writes " + s + ", " + decides
		}
		if s, ok := t.in(dirPlace); ok {
			return verb + " into " + s + ", " + holds
		}
	}
	for _, src := range sources {
		t := newTarget(cwd, src)
		if s, ok := t.in(privPlace); ok {
			return verb + " " + s + ", " + decides
		}
		if !recursive {
			continue
		}
		if s, ok := t.in(treePlace); ok {
			return verb + " " + s + ", " + holds
		}
	}
	return ""
}

func cpCheck(cwd string, args []string) (string, string) {
	c := parseArgs(args, "St", "suffix", "target-directory", "no-preserve", "sparse")
	if keepsModeNotOwner(&c) {
		return kindPrivFile, "keeps the mode but not the owner of what it copies: an agent's setuid program would become setuid-root, which is permanent root for whoever runs it"
	}
	recursive := c.hasShort("rRa") != 0 || c.hasLong([]string{"recursive", "archive"}) != ""
	sources, dests := destinations(&c)
	if d := copyDetail(cwd, "copies", sources, dests, intoDirs(&c), recursive); d != "" {
		return kindPrivFile, d
	}
	return "", ""
}

// keepsModeNotOwner reports whether cp (c) keeps its sources' mode, with
// the setuid and setgid bits, but not their owner, so that root owns the
// copies: --preserve=mode, or -p, -a or --preserve=all with
// --no-preserve=ownership.
func keepsModeNotOwner(c *cmdline) bool {
	all := c.hasShort("pa") != 0 || c.hasLong([]string{"archive"}) != ""
	mode, owner := all, all
	for _, o := range c.long {
		switch {
		case o.name == "":
		case strings.HasPrefix("preserve", o.name):
			if o.value == "" { // mode,ownership,timestamps
				mode, owner = true, true
			}
			for a := range strings.SplitSeq(o.value, ",") {
				mode = mode || a == "mode" || a == "all"
				owner = owner || a == "ownership" || a == "all"
			}
		}
	}
	for _, o := range c.long {
		if o.name != "" && strings.HasPrefix("no-preserve", o.name) {
			for a := range strings.SplitSeq(o.value, ",") {
				owner = owner && a != "ownership" && a != "all"
				mode = mode && a != "mode" && a != "all"
			}
		}
	}
	return mode && !owner
}

func mvCheck(cwd string, args []string) (string, string) {
	c := parseArgs(args, "St", "suffix", "target-directory")
	sources, dests := destinations(&c)
	// mv moves whole directories: it is always recursive.
	if d := copyDetail(cwd, "moves", sources, dests, intoDirs(&c), true); d != "" {
		return kindPrivFile, d
	}
	return "", ""
}

func lnCheck(cwd string, args []string) (string, string) {
	c := parseArgs(args, "St", "suffix", "target-directory")
	sources, dests := destinations(&c)
	into := intoDirs(&c)
	if len(dests) == 0 && len(sources) == 1 {
		// "ln TARGET" makes a link named after TARGET in the working
		// directory.
		if d := privDetail(cwd, "writes", filepath.Base(sources[0])); d != "" {
			return kindPrivFile, d
		}
		dests, into = []string{"."}, true
	}
	if d := copyDetail(cwd, "links", sources, dests, into, false); d != "" {
		return kindPrivFile, d
	}
	return "", ""
}

func installCheck(cwd string, args []string) (string, string) {
	if c := parseArgs(args, ""); c.hasLong([]string{"strip-program"}, "strip") != "" {
		return kindWrapper, "--strip-program runs the given program to strip the installed files"
	}
	c := parseArgs(args, "gmoSt", "group", "mode", "owner", "suffix", "target-directory")
	for _, m := range c.values('m', "mode") {
		if d := setIDDetail(m); d != "" {
			return kindPrivFile, d
		}
	}
	sources, dests := destinations(&c)
	if c.hasShort("d") != 0 || c.hasLong([]string{"directory"}) != "" {
		// install -d DIR... makes each directory, and sets its mode and
		// owner even when it exists.
		sources, dests = nil, c.operands
		for _, op := range dests {
			t := newTarget(cwd, op)
			if s, ok := t.in(privPlace); ok {
				return kindPrivFile, "creates " + s + ", " + decides
			}
			if s, ok := t.in(treePlace); ok {
				return kindPrivFile, "sets the mode and owner of " + s + ", " + holds
			}
		}
	}
	if d := copyDetail(cwd, "installs", sources, dests, intoDirs(&c), false); d != "" {
		return kindPrivFile, d
	}
	owner, role := "", ""
	for _, g := range c.values('g', "group") {
		if !isRoot(g) {
			owner, role = g, "group"
		}
	}
	for _, o := range c.values('o', "owner") {
		if !isRoot(o) {
			owner, role = o, "owner"
		}
	}
	if owner == "" {
		return "", ""
	}
	for _, d := range dests {
		if s, ok := newTarget(cwd, d).in(etcPlace); ok {
			return kindPrivFile, "makes " + owner + " the " + role + " of what it installs at " + s + ", " + etcOwned
		}
	}
	return "", ""
}

// sedCheck refuses in-place editing (-i, --in-place) of a privilege file,
// and a script whose w or W command, or s///w flag, names one.
func sedCheck(cwd string, args []string) (string, string) {
	var inPlace, scripted bool
	var scripts, operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, value, eq := strings.Cut(a[2:], "=")
			switch {
			case name == "":
			case strings.HasPrefix("in-place", name):
				inPlace = true
			case strings.HasPrefix("expression", name), strings.HasPrefix("file", name), strings.HasPrefix("line-length", name):
				if !eq && i+1 < len(args) {
					i++
					value = args[i]
				}
				if name[0] == 'e' {
					scripts = append(scripts, value)
				}
				scripted = scripted || name[0] != 'l'
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				l := a[j]
				if l == 'i' { // -i[SUFFIX]: the rest of the cluster is a suffix
					inPlace = true
					break
				}
				if l != 'e' && l != 'f' && l != 'l' {
					continue
				}
				v := a[j+1:]
				if v == "" && i+1 < len(args) {
					i++
					v = args[i]
				}
				if l == 'e' {
					scripts = append(scripts, v)
				}
				scripted = scripted || l != 'l'
				break
			}
		default:
			operands = append(operands, a)
		}
	}
	if !scripted && len(operands) > 0 {
		scripts, operands = append(scripts, operands[0]), operands[1:]
	}
	if inPlace {
		for _, op := range operands {
			if d := privDetail(cwd, "rewrites", op); d != "" {
				return kindPrivFile, d
			}
		}
	}
	for _, s := range scripts {
		for i := strings.IndexAny(s, "wW"); i >= 0; i = strings.IndexAny(s, "wW") {
			s = s[i+1:]
			// The file name runs to the end of the line. One ending in "/"
			// cannot be written, and is more likely the rest of an s
			// command that merely contains a w ("s/password/passwd/").
			file, _, _ := strings.Cut(strings.TrimLeft(s, " \t"), "\n")
			if file == "" || strings.HasSuffix(file, "/") {
				continue
			}
			if t, ok := newTarget(cwd, file).in(privPlace); ok {
				return kindPrivFile, "writes " + t + " with its script's w command, " + decides
			}
		}
	}
	return "", ""
}

// chmodModeChars are the characters of a mode that chmod takes as an option
// ("chmod -w f", "chmod -x,+s f").
const chmodModeChars = "rwxXstugoa,+-=01234567"

func chmodCheck(cwd string, args []string) (string, string) {
	var modes, refs, operands []string
	recursive := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, value, eq := strings.Cut(a[2:], "=")
			switch {
			case name == "":
			case strings.HasPrefix("reference", name):
				if !eq && i+1 < len(args) {
					i++
					value = args[i]
				}
				refs = append(refs, value)
			case strings.HasPrefix("recursive", name):
				recursive = true
			}
		case len(a) > 1 && a[0] == '-' && strings.Trim(a[1:], chmodModeChars) == "":
			modes = append(modes, a)
		case len(a) > 1 && a[0] == '-':
			recursive = recursive || strings.IndexByte(a, 'R') >= 0
		default:
			operands = append(operands, a)
		}
	}
	if len(refs) > 0 {
		return kindPrivFile, "--reference copies another file's mode, which may have the setuid bit"
	}
	mode := strings.Join(modes, ",")
	if mode == "" && len(operands) > 0 {
		mode, operands = operands[0], operands[1:]
	}
	if d := setIDDetail(mode); d != "" {
		return kindPrivFile, d
	}
	for _, op := range operands {
		t := newTarget(cwd, op)
		if s, ok := t.in(privPlace); ok {
			return kindPrivFile, "changes the mode of " + s + ", " + decides
		}
		if !recursive && !grantsWrite(mode) {
			continue
		}
		if s, ok := t.in(treePlace); ok {
			if recursive {
				return kindPrivFile, "changes the mode of everything in " + s + ", including the files that decide who becomes root"
			}
			return kindPrivFile, "lets others write " + s + ", who can then replace the files that decide who becomes root"
		}
	}
	return "", ""
}

// setIDDetail returns why a chmod or install mode is refused when it sets
// the setuid or setgid bit, or "".
func setIDDetail(mode string) string {
	uid, gid := setIDBits(mode)
	switch {
	case uid:
		return "sets the setuid bit: a setuid-root program is permanent root for whoever runs it"
	case gid:
		return "sets the setgid bit: a setgid program runs with its group (root, shadow, sudo, …) for whoever runs it"
	}
	return ""
}

// modeActions calls f with each action of a chmod mode: its who letters
// ("" for none), operator and permissions ("rwx", "u", "4755"). A numeric
// mode is one action "=" with no who letters.
func modeActions(mode string, f func(who string, op byte, perms string)) {
	for clause := range strings.SplitSeq(mode, ",") {
		if isOctal(clause) {
			f("", '=', clause)
			continue
		}
		rest := strings.TrimLeft(clause, "ugoa")
		who := clause[:len(clause)-len(rest)]
		for rest != "" && strings.IndexByte("+-=", rest[0]) >= 0 {
			op := rest[0]
			perms := rest[1:]
			n := strings.IndexAny(perms, "+-=")
			if n < 0 {
				n = len(perms)
			}
			perms, rest = perms[:n], perms[n:]
			f(who, op, perms)
		}
	}
}

// setIDBits reports whether a chmod or install mode sets the setuid or the
// setgid bit: a numeric mode with 04000 or 02000 ("4755", "02755"), or an s
// added for u or g ("u+s", "+s", "ug=rwxs"). The sticky bit (1777) is fine.
func setIDBits(mode string) (uid, gid bool) {
	modeActions(mode, func(who string, op byte, perms string) {
		if op == '-' {
			return
		}
		if isOctal(perms) {
			v, err := strconv.ParseUint(perms, 8, 32)
			uid = uid || err == nil && v&0o4000 != 0
			gid = gid || err == nil && v&0o2000 != 0
			return
		}
		if strings.IndexByte(perms, 's') < 0 {
			return
		}
		all := who == "" || strings.IndexByte(who, 'a') >= 0
		uid = uid || all || strings.IndexByte(who, 'u') >= 0
		gid = gid || all || strings.IndexByte(who, 'g') >= 0
	})
	return uid, gid
}

// grantsWrite reports whether a chmod mode may let group or others write:
// a numeric mode with 022 bits, or w or a copy of another class's bits
// ("o=u") added for g or o (or for all, whatever the umask).
func grantsWrite(mode string) bool {
	grants := false
	modeActions(mode, func(who string, op byte, perms string) {
		if op == '-' {
			return
		}
		if isOctal(perms) {
			v, err := strconv.ParseUint(perms, 8, 32)
			grants = grants || err == nil && v&0o022 != 0
			return
		}
		others := who == "" || strings.ContainsAny(who, "goa")
		grants = grants || others && strings.ContainsAny(perms, "wugo")
	})
	return grants
}

func isOctal(s string) bool {
	return s != "" && strings.Trim(s, "01234567") == ""
}

// isRoot reports whether a user or group, by name or number, is root's.
func isRoot(id string) bool {
	if id == "root" {
		return true
	}
	n := strings.TrimPrefix(id, "+") // chown reads "+0" as a number
	return n != "" && strings.Trim(n, "0") == ""
}

// splitOwner splits chown's OWNER[:GROUP] (or the old OWNER.GROUP).
func splitOwner(spec string) (owner, group string) {
	if o, g, ok := strings.Cut(spec, ":"); ok {
		return o, g
	}
	o, g, _ := strings.Cut(spec, ".")
	return o, g
}

func chownCheck(cwd string, args []string) (string, string) {
	c := parseArgs(args, "", "from", "reference")
	ops := c.operands
	var owner, group string
	if len(c.values(0, "reference")) == 0 {
		if len(ops) == 0 {
			return "", ""
		}
		owner, group = splitOwner(ops[0])
		ops = ops[1:]
	}
	return ownerCheck(cwd, "owner", &c, ops, owner, group)
}

func chgrpCheck(cwd string, args []string) (string, string) {
	c := parseArgs(args, "", "reference")
	ops := c.operands
	var group string
	if len(c.values(0, "reference")) == 0 {
		if len(ops) == 0 {
			return "", ""
		}
		group, ops = ops[0], ops[1:]
	}
	return ownerCheck(cwd, "group", &c, ops, "", group)
}

// ownerCheck refuses chown or chgrp (c) of files when one is a privilege
// file, when the command is recursive from /etc or above, or when it gives
// /etc, a file in it or a directory above it to a user or group other than
// root. what is "owner" or "group", what the command changes; owner and
// group are both "" for --reference, whose owner is unknown.
func ownerCheck(cwd, what string, c *cmdline, files []string, owner, group string) (string, string) {
	recursive := c.hasShort("R") != 0 || c.hasLong([]string{"recursive"}) != ""
	var gives string
	switch {
	case owner != "" && !isRoot(owner):
		gives = "makes " + owner + " the owner of "
	case group != "" && !isRoot(group):
		gives = "makes " + group + " the group of "
	case len(c.values(0, "reference")) > 0:
		gives = "copies another file's " + what + ", which may not be root, to "
	}
	for _, op := range files {
		t := newTarget(cwd, op)
		if s, ok := t.in(privPlace); ok {
			return kindPrivFile, "changes the " + what + " of " + s + ", " + decides
		}
		if recursive {
			if s, ok := t.in(treePlace); ok {
				return kindPrivFile, "changes the " + what + " of everything in " + s + ", including the files that decide who becomes root"
			}
		}
		if gives == "" {
			continue
		}
		if s, ok := t.in(etcPlace); ok {
			return kindPrivFile, gives + s + ", " + etcOwned
		}
	}
	return "", ""
}
