package policy

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Kinds of built-in refusal, in the order they are tried. Each is reported
// as the rule "builtin:<kind>".
const (
	kindPrivilege = "privilege-tool"
	kindPrivFile  = "privilege-file"
	kindShell     = "shell"
	kindInterp    = "interpreter"
	kindWrapper   = "exec-wrapper"
	kindEscape    = "escape-route"
)

var kindOrder = []string{kindPrivilege, kindPrivFile, kindShell, kindInterp, kindWrapper, kindEscape}

// builtinRule is the built-in rule for one program name.
type builtinRule struct {
	kind string
	// check returns why args (argv[1:]) make the program dangerous, or ""
	// when they do not. Without check or pathCheck the program is always
	// refused: detail says why.
	check func(args []string) string
	// pathCheck, for programs that are dangerous by the files they touch,
	// also gets the command's working directory ("" when unknown) and
	// returns the kind along with the detail, or "", "".
	pathCheck func(cwd string, args []string) (kind, detail string)
	detail    string
}

// builtinRules is filled on first use, not at start-up: every program
// that links this package (the root helper, the shim) starts on each
// privileged command, and most runs need no rule at all before exec.
var (
	builtinRules = map[string]builtinRule{}
	builtinOnce  sync.Once
)

// refuseAlways registers programs that are refused whatever their arguments.
func refuseAlways(kind, detail string, names ...string) {
	for _, n := range names {
		if _, dup := builtinRules[n]; dup {
			panic("policy: duplicate built-in rule for " + n)
		}
		builtinRules[n] = builtinRule{kind: kind, detail: detail}
	}
}

// refuseWhen registers programs that are refused when check finds a reason.
func refuseWhen(kind string, check func([]string) string, names ...string) {
	for _, n := range names {
		if _, dup := builtinRules[n]; dup {
			panic("policy: duplicate built-in rule for " + n)
		}
		builtinRules[n] = builtinRule{kind: kind, check: check}
	}
}

// refuseWhenIn registers programs that are refused when check, given the
// working directory, finds a kind and reason.
func refuseWhenIn(check func(cwd string, args []string) (kind, detail string), names ...string) {
	for _, n := range names {
		if _, dup := builtinRules[n]; dup {
			panic("policy: duplicate built-in rule for " + n)
		}
		builtinRules[n] = builtinRule{pathCheck: check}
	}
}

func registerBuiltins() {
	refuseAlways(kindPrivilege, "is a privilege or identity tool: under sudo it opens a root shell or changes identity outside this guard's per-command approval",
		"sudo", "sudoedit", "sudo-rs", "su", "doas", "pkexec", "runuser", "setpriv", "capsh", "chroot",
		"nsenter", "unshare", "machinectl", "systemd-run", "run0", "systemd-nspawn", "login", "newgrp", "sg",
		"chpst", "setuidgid", "s6-setuidgid", "bwrap", "firejail")
	refuseWhenIn(teeCheck, "tee")
	refuseWhenIn(cpCheck, "cp")
	refuseWhenIn(mvCheck, "mv")
	refuseWhenIn(installCheck, "install")
	refuseWhenIn(lnCheck, "ln")
	refuseWhenIn(ddCheck, "dd")
	refuseWhenIn(sedCheck, "sed")
	refuseWhenIn(chmodCheck, "chmod")
	refuseWhenIn(chownCheck, "chown")
	refuseWhenIn(chgrpCheck, "chgrp")
	refuseWhenIn(truncateCheck, "truncate")
	refuseAlways(kindShell, "is a shell (or runs one): as root it runs any command outside this guard's per-command approval",
		"sh", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "ash", "rbash", "busybox", "toybox",
		"elvish", "nu", "pwsh", "powershell", "xonsh", "yash", "oksh", "loksh", "posh", "hush", "rksh", "rzsh",
		"pdksh", "rc", "screen", "tmux", "byobu", "zellij", "dtach", "abduco", "script", "expect")
	refuseAlways(kindInterp, "is an interpreter, and interpreters run arbitrary code as root (inline -c or -e code, stdin, a REPL or a script file)",
		"python", "pypy", "ipython", "perl", "ruby", "irb", "jruby", "node", "nodejs", "deno", "bun", "npx",
		"ts-node", "tsx", "php", "php-cgi", "lua", "luajit", "tclsh", "wish", "awk", "gawk", "mawk", "nawk",
		"original-awk", "busybox-awk", "goawk", "rscript", "r", "julia", "guile", "racket", "gdb", "lldb",
		"jrunscript", "jjs", "jshell", "ghci", "runghc", "runhaskell", "erl", "escript", "iex", "elixir",
		"osascript", "sqlite", "bpftrace", "groovy", "scala", "ocaml", "sbcl", "clisp", "gjs")
	refuseAlways(kindWrapper, "runs another program given on its command line, escaping this guard's per-command approval; run that program directly",
		"env", "xargs", "nice", "nohup", "timeout", "stdbuf", "setsid", "strace", "ltrace", "valgrind", "watch",
		"flock", "ionice", "taskset", "time", "chrt", "start-stop-daemon", "run-parts", "parallel", "sem",
		"perf", "unbuffer", "catchsegv", "numactl", "cgexec", "prlimit", "faketime", "fakeroot", "proxychains",
		"torsocks", "daemonize", "xvfb-run", "dbus-launch", "dbus-run-session", "ssh-agent", "at", "batch",
		"systemd-cat", "logsave", "chronic", "ifne", "rlwrap")
	refuseWhen(kindWrapper, findCheck, "find")
	refuseWhen(kindWrapper, ipCheck, "ip")

	refuseAlways(kindEscape, "is an editor or pager that can start a shell (:!sh, !sh) as root",
		"vi", "vim", "nvim", "view", "vimdiff", "rvim", "rview", "gvim", "ex", "ed", "red", "nano", "pico",
		"emacs", "emacs-nox", "joe", "jmacs", "jpico", "jstar", "mcedit", "mc", "micro", "hx", "helix", "kak",
		"jed", "mg", "nvi", "zile", "ne", "editor", "sensible-editor", "less", "more", "most", "pg", "man",
		"info", "pinfo", "pager", "sensible-pager", "vipw", "vigr")
	refuseAlways(kindEscape, "runs hooks, aliases, pagers and commands named in its configuration (core.pager, core.sshCommand, -c …) as root",
		"git")
	refuseAlways(kindEscape, "runs the recipe commands of whatever Makefile it reads as root",
		"make", "gmake", "bmake")
	refuseAlways(kindEscape, "has a shell escape (! or \\!) reachable from its arguments or stdin",
		"ftp", "sftp", "mysql", "mariadb", "psql")
	refuseWhen(kindEscape, visudoCheck, "visudo")
	refuseWhen(kindEscape, crontabCheck, "crontab")
	refuseWhen(kindEscape, systemctlCheck, "systemctl")
	refuseWhen(kindEscape, sshCheck, "ssh")
	refuseWhen(kindEscape, scpCheck, "scp")
	refuseWhen(kindEscape, sshKeygenCheck, "ssh-keygen")
	refuseWhen(kindEscape, rsyncCheck, "rsync")
	refuseWhen(kindEscape, tarCheck, "tar")
	refuseWhen(kindEscape, zipCheck, "zip")
	refuseWhen(kindEscape, aptCheck, "apt", "apt-get", "aptitude")
	refuseWhen(kindEscape, dpkgCheck, "dpkg")
	refuseWhen(kindEscape, containerCheck, "docker", "podman", "nerdctl", "ctr", "crictl", "kubectl", "docker-compose", "lxc", "incus")
	refuseWhen(kindEscape, tcpdumpCheck, "tcpdump")
	refuseWhen(kindEscape, nmapCheck, "nmap")
	refuseWhen(kindEscape, wgetCheck, "wget")
}

// builtin applies the built-in rules to argv, run in the working directory
// cwd ("" when unknown), looking at the program's name as given and as
// resolved. It returns the kind and reason of the refusal, or "" when no
// built-in rule refuses.
func builtin(cwd string, argv []string, resolved string) (kind, reason string) {
	best := len(kindOrder)
	var prev string
	for _, path := range [2]string{argv[0], resolved} {
		if path == "" {
			continue
		}
		base := filepath.Base(path)
		if base == prev {
			continue // same rule, same answer
		}
		prev = base
		r, ok := lookup(base)
		if !ok {
			continue
		}
		k, detail := r.kind, r.detail
		switch {
		case r.pathCheck != nil:
			k, detail = r.pathCheck(cwd, argv[1:])
		case r.check != nil:
			detail = r.check(argv[1:])
		}
		if detail == "" {
			continue
		}
		if i := slices.Index(kindOrder, k); i < best {
			best, kind = i, k
			reason = base + " " + detail
		}
	}
	return kind, reason
}

// lookup finds the rule for a program's base name: lower-cased, as is, then
// without a Debian alternative suffix (vim.basic) and a version suffix
// (python3.11 → python, perl5.36 → perl, sqlite3 → sqlite).
func lookup(base string) (builtinRule, bool) {
	builtinOnce.Do(registerBuiltins)
	n := strings.ToLower(base)
	if r, ok := builtinRules[n]; ok {
		return r, true
	}
	r, ok := builtinRules[normalize(n)]
	return r, ok
}

var altSuffixes = []string{".basic", ".tiny", ".nox", ".gtk3", ".gtk", ".athena", ".motif", ".default", ".openbsd", ".traditional"}

func normalize(n string) string {
	for _, s := range altSuffixes {
		if len(n) > len(s) && strings.HasSuffix(n, s) {
			n = n[:len(n)-len(s)]
			break
		}
	}
	i := len(n)
	for i > 0 && (isDigit(n[i-1]) || n[i-1] == '.') {
		i--
	}
	if i == len(n) {
		return n
	}
	for i > 0 && (n[i-1] == '-' || n[i-1] == '_' || n[i-1] == '.') {
		i--
	}
	if i == 0 {
		return n
	}
	return n[:i]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// cmdline is a command line split GNU style: options may appear anywhere
// before "--"; "-abc" is a cluster of one-letter options; "--name=value"
// carries its value.
type cmdline struct {
	short    []shortOpt
	long     []longOpt
	operands []string
}

type shortOpt struct {
	letter byte
	value  string
}

type longOpt struct {
	name  string
	value string
}

// parseArgs splits args. Letters in valueLetters take the rest of their
// cluster, or else the next argument, as their value. List only letters the
// program really gives a value: a letter wrongly listed would swallow the
// next option and hide it, while one left out only makes the parse
// stricter. For the same reason a long option takes the next argument only
// when it is one of valueLong, or a prefix of one ("--target DIR" for
// --target-directory), given without "=": list only options that require a
// value, and none whose prefix is the whole name of an option without one.
func parseArgs(args []string, valueLetters string, valueLong ...string) cmdline {
	var c cmdline
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			c.operands = append(c.operands, args[i+1:]...)
			return c
		case strings.HasPrefix(a, "--"):
			name, value, eq := strings.Cut(a[2:], "=")
			takes := func(l string) bool { return strings.HasPrefix(l, name) }
			if !eq && name != "" && i+1 < len(args) && slices.ContainsFunc(valueLong, takes) {
				i++
				value = args[i]
			}
			c.long = append(c.long, longOpt{name: name, value: value})
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				l := a[j]
				if strings.IndexByte(valueLetters, l) < 0 {
					c.short = append(c.short, shortOpt{letter: l})
					continue
				}
				v := a[j+1:]
				if v == "" && i+1 < len(args) {
					i++
					v = args[i]
				}
				c.short = append(c.short, shortOpt{letter: l, value: v})
				break
			}
		default:
			c.operands = append(c.operands, a)
		}
	}
	return c
}

// hasShort returns the first option among letters, or 0.
func (c *cmdline) hasShort(letters string) byte {
	for _, o := range c.short {
		if strings.IndexByte(letters, o.letter) >= 0 {
			return o.letter
		}
	}
	return 0
}

// hasLong returns the first long option that names one of names, or "".
// Programs using getopt_long accept any unambiguous prefix ("--to-com" for
// "--to-command"), so a prefix counts too, except for the real option names
// in exact that happen to be prefixes of a dangerous one ("--checkpoint").
func (c *cmdline) hasLong(names []string, exact ...string) string {
	for _, o := range c.long {
		if o.name == "" || slices.Contains(exact, o.name) {
			continue
		}
		for _, n := range names {
			if strings.HasPrefix(n, o.name) {
				return "--" + n
			}
		}
	}
	return ""
}

// values returns the values given to the option letter (0 for none) and to
// the long option long or a prefix of it ("--target" for
// --target-directory), short ones first.
func (c *cmdline) values(letter byte, long string) []string {
	var vs []string
	for _, o := range c.short {
		if letter != 0 && o.letter == letter {
			vs = append(vs, o.value)
		}
	}
	for _, o := range c.long {
		if o.name != "" && strings.HasPrefix(long, o.name) {
			vs = append(vs, o.value)
		}
	}
	return vs
}

func (c *cmdline) hasOperand(words ...string) string {
	for _, o := range c.operands {
		if slices.Contains(words, o) {
			return o
		}
	}
	return ""
}

func findCheck(args []string) string {
	for _, a := range args {
		switch a {
		case "-exec", "-execdir", "-ok", "-okdir":
			return a + " runs a program for each file found"
		case "-fprint", "-fprint0", "-fprintf", "-fls":
			return a + " writes to any file as root"
		}
	}
	return ""
}

func ipCheck(args []string) string {
	c := parseArgs(args, "")
	if c.hasOperand("exec") != "" {
		return "netns exec and vrf exec run a program"
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if n := strings.TrimLeft(a, "-"); len(n) < len(a) && n != "" && strings.HasPrefix("batch", n) {
			return "-batch reads ip commands, including netns exec, from a file"
		}
	}
	return ""
}

func visudoCheck(args []string) string {
	c := parseArgs(args, "f")
	if c.hasShort("c") != 0 || c.hasLong([]string{"check"}) != "" {
		return ""
	}
	return "without -c (check only) opens an editor that can start a shell"
}

func crontabCheck(args []string) string {
	c := parseArgs(args, "u")
	switch {
	case c.hasShort("e") != 0 || c.hasLong([]string{"edit"}) != "":
		return "-e opens an editor that can start a shell"
	case len(c.operands) > 0:
		return "with a file operand installs commands that cron runs later as root"
	case c.hasShort("lr") == 0:
		return "without -l or -r reads a new crontab, whose commands cron runs as root"
	}
	return ""
}

func systemctlCheck(args []string) string {
	c := parseArgs(args, "")
	switch {
	case c.hasOperand("edit") != "":
		return "edit opens an editor that can start a shell"
	case c.hasOperand("link") != "":
		return "link makes an arbitrary unit file, and the commands in it, part of the system"
	case c.hasOperand("enable", "reenable") != "":
		for _, o := range c.operands {
			if strings.Contains(o, "/") {
				return "enable with a path links an arbitrary unit file, and the commands in it, into the system"
			}
		}
	}
	return ""
}

// sshCommandKeys are ssh_config keywords (lower case) that run a local
// command or load code.
var sshCommandKeys = []string{"proxycommand", "localcommand", "permitlocalcommand", "knownhostscommand",
	"securitykeyprovider", "pkcs11provider", "xauthlocation", "include", "match"}

func sshOption(c *cmdline) string {
	for _, o := range c.short {
		if o.letter != 'o' {
			continue
		}
		v := strings.TrimLeft(o.value, " \t")
		key := v
		if i := strings.IndexAny(v, " \t="); i >= 0 {
			key = v[:i]
		}
		key = strings.Trim(key, `"`) // ssh reads a quoted keyword too
		if k := strings.ToLower(key); slices.Contains(sshCommandKeys, k) {
			return "-o " + key + " runs a local command or loads code"
		}
	}
	return ""
}

func sshCheck(args []string) string {
	c := parseArgs(args, "o")
	if msg := sshOption(&c); msg != "" {
		return msg
	}
	switch c.hasShort("FI") {
	case 'F':
		return "-F reads a configuration file that can name commands to run (ProxyCommand, LocalCommand)"
	case 'I':
		return "-I loads a PKCS#11 library into a root process"
	}
	return ""
}

func scpCheck(args []string) string {
	c := parseArgs(args, "o")
	if msg := sshOption(&c); msg != "" {
		return msg
	}
	switch c.hasShort("SDF") {
	case 'S':
		return "-S runs the given program instead of ssh"
	case 'D':
		return "-D runs the given program as the SFTP server"
	case 'F':
		return "-F reads a configuration file that can name commands to run (ProxyCommand, LocalCommand)"
	}
	return ""
}

func sshKeygenCheck(args []string) string {
	c := parseArgs(args, "")
	if c.hasShort("D") != 0 {
		return "-D loads a PKCS#11 library into a root process"
	}
	return ""
}

func rsyncCheck(args []string) string {
	c := parseArgs(args, "BfMT@")
	if c.hasShort("e") != 0 {
		return "-e runs the given remote-shell command"
	}
	if o := c.hasLong([]string{"rsh", "rsync-path", "config", "daemon", "dparam"}); o != "" {
		return o + " runs a command given on the command line or in a configuration file"
	}
	return ""
}

var tarLong = []string{"checkpoint-action", "to-command", "use-compress-program", "rsh-command",
	"rmt-command", "info-script", "new-volume-script"}

func tarCheck(args []string) string {
	// Old style: "tar xIf prog archive"; the first argument holds the letters.
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' && isLetters(args[0]) {
		if i := strings.IndexAny(args[0], "IF"); i >= 0 {
			return "old-style option letter " + args[0][i:i+1] + " runs the given program"
		}
	}
	c := parseArgs(args, "bCfgHKLNTVX")
	if l := c.hasShort("IF"); l != 0 {
		return "-" + string(l) + " runs the given program"
	}
	if o := c.hasLong(tarLong, "checkpoint"); o != "" {
		return o + " runs the given command"
	}
	return ""
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func zipCheck(args []string) string {
	c := parseArgs(args, "")
	if c.hasShort("T") != 0 {
		return "-T tests the archive with a command that -TT can replace"
	}
	if o := c.hasLong([]string{"unzip-command", "test"}); o != "" {
		return o + " runs a command to test the archive"
	}
	return ""
}

func aptCheck(args []string) string {
	c := parseArgs(args, "")
	if l := c.hasShort("oc"); l != 0 {
		return "-" + string(l) + " sets configuration, which can name commands to run (APT::Update::Pre-Invoke, DPkg::Pre-Invoke)"
	}
	if o := c.hasLong([]string{"option", "config-file"}); o != "" {
		return o + " sets configuration, which can name commands to run (APT::Update::Pre-Invoke, DPkg::Pre-Invoke)"
	}
	if c.hasOperand("changelog") != "" {
		return "changelog opens a pager that can start a shell"
	}
	if c.hasOperand("source") != "" && (c.hasShort("b") != 0 || c.hasLong([]string{"compile", "build"}) != "") {
		return "source --compile builds a package, running its build scripts as root"
	}
	if c.hasOperand("install", "reinstall") != "" {
		for _, o := range c.operands {
			if strings.HasSuffix(o, ".deb") || strings.HasPrefix(o, "/") || strings.HasPrefix(o, ".") {
				return "install of a local package file runs its maintainer scripts as root"
			}
		}
	}
	return ""
}

func dpkgCheck(args []string) string {
	c := parseArgs(args, "")
	if c.hasShort("i") != 0 {
		return "-i installs a package file, running its maintainer scripts as root"
	}
	if o := c.hasLong([]string{"install", "unpack", "root", "instdir", "admindir", "pre-invoke", "post-invoke", "status-logger"}, "status"); o != "" {
		return o + " runs package scripts or commands chosen by the caller"
	}
	return ""
}

var containerWords = []string{"run", "runp", "exec", "cp", "debug", "attach", "create", "start", "up", "apply", "replace", "patch"}

func containerCheck(args []string) string {
	c := parseArgs(args, "")
	if w := c.hasOperand(containerWords...); w != "" {
		return w + " starts or changes containers, which can mount the host's / and run anything as root"
	}
	return ""
}

func tcpdumpCheck(args []string) string {
	c := parseArgs(args, "")
	if c.hasShort("z") != 0 {
		return "-z runs the given command on each saved file"
	}
	return ""
}

func nmapCheck(args []string) string {
	// nmap reads long options with one dash too (getopt_long_only).
	for _, a := range args {
		if a == "--" {
			break
		}
		n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if len(a)-len(strings.TrimLeft(a, "-")) == 0 || len(n) < 2 {
			continue
		}
		for _, d := range []string{"script", "script-args", "script-args-file", "interactive", "datadir", "servicedb", "versiondb"} {
			if strings.HasPrefix(d, n) {
				return "--" + d + " runs scripts or reads data files that can run code as root"
			}
		}
	}
	return ""
}

func wgetCheck(args []string) string {
	c := parseArgs(args, "OoaiBtTwQPUlARDIXn")
	if c.hasShort("e") != 0 {
		return "-e runs a wgetrc command, which can name a program (use_askpass)"
	}
	if o := c.hasLong([]string{"use-askpass", "execute", "config"}); o != "" {
		return o + " runs a program or reads configuration that names one"
	}
	return ""
}
