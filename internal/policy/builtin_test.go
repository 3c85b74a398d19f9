package policy

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// resolve is what the guard would resolve a bare name to in these tests.
func resolve(argv0 string) string {
	if strings.HasPrefix(argv0, "/") {
		return argv0
	}
	return "/usr/bin/" + argv0
}

// bypasses are commands that would hand out more than the one approved
// command. Each must be refused by the built-in rule of the given kind, even
// when an allow regex matches everything, and allowed when allow_exact names
// exactly that argv.
var bypasses = []struct {
	argv []string
	kind string
}{
	// Privilege and identity tools, including sudo's own shell options.
	{[]string{"sudo", "-s"}, kindPrivilege},
	{[]string{"sudo", "-i"}, kindPrivilege},
	{[]string{"sudo", "-u", "root", "id"}, kindPrivilege},
	{[]string{"sudo", "-E", "env"}, kindPrivilege},
	{[]string{"sudoedit", "/etc/sudoers"}, kindPrivilege},
	{[]string{"su", "-"}, kindPrivilege},
	{[]string{"doas", "sh"}, kindPrivilege},
	{[]string{"pkexec", "bash"}, kindPrivilege},
	{[]string{"runuser", "-u", "root", "--", "sh"}, kindPrivilege},
	{[]string{"nsenter", "-t", "1", "-a", "sh"}, kindPrivilege},
	{[]string{"unshare", "-r", "sh"}, kindPrivilege},
	{[]string{"chroot", "/", "sh"}, kindPrivilege},
	{[]string{"systemd-run", "-t", "sh"}, kindPrivilege},
	{[]string{"run0"}, kindPrivilege},
	{[]string{"capsh", "--"}, kindPrivilege},
	{[]string{"machinectl", "shell"}, kindPrivilege},
	// Shells.
	{[]string{"bash", "-c", "id"}, kindShell},
	{[]string{"sh"}, kindShell},
	{[]string{"/bin/sh", "-c", "id"}, kindShell},
	{[]string{"/usr/bin/zsh", "/tmp/x.zsh"}, kindShell},
	{[]string{"BASH"}, kindShell},
	{[]string{"script", "-c", "sh"}, kindShell},
	{[]string{"busybox", "sh"}, kindShell},
	{[]string{"tmux"}, kindShell},
	{[]string{"expect", "-c", "spawn sh; interact"}, kindShell},
	// Interpreters.
	{[]string{"python3", "-c", "import os; os.system('sh')"}, kindInterp},
	{[]string{"/usr/bin/python3.11", "/opt/ok.py"}, kindInterp},
	{[]string{"perl", "-e", `exec "/bin/sh"`}, kindInterp},
	{[]string{"perl5.36.0", "-ne", "print"}, kindInterp},
	{[]string{"node", "-e", "require('child_process').spawn('sh')"}, kindInterp},
	{[]string{"awk", `BEGIN{system("sh")}`}, kindInterp},
	{[]string{"/usr/bin/mawk", "-f", "/tmp/x.awk"}, kindInterp},
	{[]string{"php", "-r", "system('sh');"}, kindInterp},
	{[]string{"ruby", "-e", "exec 'sh'"}, kindInterp},
	{[]string{"lua5.4"}, kindInterp},
	{[]string{"gdb", "-batch", "-ex", "!sh"}, kindInterp},
	{[]string{"sqlite3", "/dev/null", ".shell sh"}, kindInterp},
	{[]string{"Rscript", "-e", "system('sh')"}, kindInterp},
	// Programs that run programs.
	{[]string{"env", "bash"}, kindWrapper},
	{[]string{"env", "-i", "sh"}, kindWrapper},
	{[]string{"find", "/", "-exec", "sh", ";"}, kindWrapper},
	{[]string{"find", ".", "-execdir", "sh", "-c", "id", "{}", "+"}, kindWrapper},
	{[]string{"find", "/", "-name", "x", "-ok", "sh", ";"}, kindWrapper},
	{[]string{"find", "/", "-fprintf", "/etc/cron.d/x", "* * * * * root sh\n"}, kindWrapper},
	{[]string{"xargs", "sh"}, kindWrapper},
	{[]string{"nice", "bash"}, kindWrapper},
	{[]string{"timeout", "5", "sh"}, kindWrapper},
	{[]string{"strace", "-o", "/dev/null", "sh"}, kindWrapper},
	{[]string{"setsid", "sh"}, kindWrapper},
	{[]string{"stdbuf", "-o0", "sh"}, kindWrapper},
	{[]string{"flock", "/tmp/l", "sh"}, kindWrapper},
	{[]string{"at", "now"}, kindWrapper},
	{[]string{"ip", "netns", "exec", "ns1", "sh"}, kindWrapper},
	{[]string{"ip", "-b", "/tmp/cmds"}, kindWrapper},
	{[]string{"ip", "-batch", "-"}, kindWrapper},
	// Escapes of common tools.
	{[]string{"vi", "/etc/passwd"}, kindEscape},
	{[]string{"/usr/bin/vim.basic", "/etc/hosts"}, kindEscape},
	{[]string{"nano", "/etc/hosts"}, kindEscape},
	{[]string{"less", "/etc/shadow"}, kindEscape},
	{[]string{"man", "ls"}, kindEscape},
	{[]string{"visudo"}, kindEscape},
	{[]string{"visudo", "-f", "/etc/sudoers.d/x"}, kindEscape},
	{[]string{"git", "-c", "core.pager=sh", "log"}, kindEscape},
	{[]string{"git", "status"}, kindEscape},
	{[]string{"make", "-C", "/tmp/x"}, kindEscape},
	{[]string{"mysql", "-e", `\! sh`}, kindEscape},
	{[]string{"sftp", "-b", "-", "h"}, kindEscape},
	{[]string{"tar", "-cf", "/dev/null", "x", "--checkpoint=1", "--checkpoint-action=exec=sh"}, kindEscape},
	{[]string{"tar", "-xI", "sh", "-f", "a.tar"}, kindEscape},
	{[]string{"tar", "-xf", "a.tar", "-Ish"}, kindEscape},
	{[]string{"tar", "xIf", "sh", "a.tar"}, kindEscape},
	{[]string{"tar", "-xf", "a.tar", "--to-command", "sh"}, kindEscape},
	{[]string{"tar", "-xf", "a.tar", "--to-com=sh"}, kindEscape},
	{[]string{"tar", "--use-compress-program=sh", "-xf", "a.tar"}, kindEscape},
	{[]string{"tar", "-cf", "/dev/st0", "-F", "/tmp/x", "-M", "x"}, kindEscape},
	{[]string{"rsync", "-e", "sh -c id", "a", "b"}, kindEscape},
	{[]string{"rsync", "-ave", "sh -c id", "a", "b:"}, kindEscape},
	{[]string{"rsync", "--rsync-path=sh -c id", "a", "h:b"}, kindEscape},
	{[]string{"rsync", "--rsh", "sh", "a", "h:b"}, kindEscape},
	{[]string{"zip", "z.zip", "f", "-T", "-TT", "sh #"}, kindEscape},
	{[]string{"zip", "z.zip", "f", "--unzip-command=sh #", "--test"}, kindEscape},
	{[]string{"apt-get", "changelog", "apt"}, kindEscape},
	{[]string{"apt-get", "-o", "APT::Update::Pre-Invoke::=sh", "update"}, kindEscape},
	{[]string{"apt", "-oAPT::Update::Pre-Invoke::=sh", "update"}, kindEscape},
	{[]string{"apt-get", "--option=DPkg::Pre-Invoke::=sh", "install", "-y", "curl"}, kindEscape},
	{[]string{"apt", "-c", "/tmp/apt.conf", "update"}, kindEscape},
	{[]string{"apt-get", "install", "./evil.deb"}, kindEscape},
	{[]string{"apt-get", "source", "--compile", "hello"}, kindEscape},
	{[]string{"dpkg", "-i", "evil.deb"}, kindEscape},
	{[]string{"dpkg", "--install", "evil.deb"}, kindEscape},
	{[]string{"dpkg", "--admindir=/tmp/db", "--configure", "-a"}, kindEscape},
	{[]string{"docker", "run", "-v", "/:/h", "alpine"}, kindEscape},
	{[]string{"docker", "--host", "unix:///run/docker.sock", "container", "exec", "-it", "c", "sh"}, kindEscape},
	{[]string{"podman", "cp", "x", "c:/"}, kindEscape},
	{[]string{"kubectl", "exec", "-it", "pod", "--", "sh"}, kindEscape},
	{[]string{"kubectl", "debug", "node/n1", "-it", "--image=alpine"}, kindEscape},
	{[]string{"ssh", "-o", "ProxyCommand=sh", "h"}, kindEscape},
	{[]string{"ssh", "-oProxyCommand=sh -c id", "h"}, kindEscape},
	{[]string{"ssh", "-vo", "proxycommand sh", "h"}, kindEscape},
	{[]string{"ssh", "-o", "LocalCommand=sh", "-o", "PermitLocalCommand=yes", "h"}, kindEscape},
	{[]string{"ssh", "-F", "/tmp/cfg", "h"}, kindEscape},
	{[]string{"ssh", "h", "-o", "PKCS11Provider=/tmp/x.so"}, kindEscape},
	{[]string{"scp", "-S", "/tmp/x", "a", "h:b"}, kindEscape},
	{[]string{"scp", "-o", "ProxyCommand=sh", "a", "h:b"}, kindEscape},
	{[]string{"ssh-keygen", "-D", "/tmp/x.so"}, kindEscape},
	{[]string{"crontab", "-e"}, kindEscape},
	{[]string{"crontab", "/tmp/evil"}, kindEscape},
	{[]string{"crontab", "-"}, kindEscape},
	{[]string{"systemctl", "edit", "x"}, kindEscape},
	{[]string{"systemctl", "link", "/tmp/x.service"}, kindEscape},
	{[]string{"systemctl", "enable", "/tmp/x.service"}, kindEscape},
	{[]string{"tcpdump", "-w", "x", "-W", "1", "-G", "1", "-z", "/tmp/x"}, kindEscape},
	{[]string{"nmap", "--script=/tmp/x.nse", "localhost"}, kindEscape},
	{[]string{"nmap", "-script", "/tmp/x.nse", "localhost"}, kindEscape},
	{[]string{"wget", "--use-askpass=/tmp/x", "http://x/"}, kindEscape},
	{[]string{"wget", "-qe", "use_askpass=/tmp/x", "http://x/"}, kindEscape},
}

// benign commands admins run with sudo every day; no built-in rule refuses
// them.
var benign = [][]string{
	{"systemctl", "restart", "nginx"},
	{"systemctl", "enable", "--now", "nginx"},
	{"systemctl", "status", "edit.service"},
	{"journalctl", "-u", "nginx", "--since", "today"},
	{"apt-get", "install", "-y", "curl"},
	{"apt-get", "install", "-t", "bookworm-backports", "curl/bookworm-backports"},
	{"apt", "-y", "full-upgrade"},
	{"apt-get", "update"},
	{"find", "/var/log", "-name", "*.gz"},
	{"find", "/tmp", "-mtime", "+7", "-delete"},
	{"tar", "-czf", "/tmp/x.tgz", "/etc"},
	{"tar", "xzf", "a.tgz"},
	{"tar", "-xzf", "a.tgz", "-C", "/opt", "--checkpoint=100"},
	{"tar", "-cfI", "/etc"}, // -f takes "I" as the archive name
	{"rsync", "-av", "--delete", "/src/", "/dst/"},
	{"rsync", "-a", "-f", "- *.tmp", "/src/", "/dst/"},
	{"ssh", "-p", "2222", "-i", "/root/.ssh/id", "host", "uptime"},
	{"ssh", "-o", "StrictHostKeyChecking=yes", "host"},
	{"scp", "-P", "2222", "a", "h:b"},
	{"zip", "-r", "z.zip", "dir"},
	{"dpkg", "-l"},
	{"dpkg", "-L", "curl"},
	{"dpkg", "--status", "curl"},
	{"dpkg", "--configure", "-a"},
	{"docker", "ps", "-a"},
	{"docker", "restart", "web"},
	{"docker", "logs", "-f", "web"},
	{"kubectl", "get", "pods", "-A"},
	{"crontab", "-l"},
	{"crontab", "-u", "bob", "-l"},
	{"crontab", "-r"},
	{"visudo", "-c"},
	{"visudo", "-cf", "/etc/sudoers.d/ops"},
	{"ip", "addr", "show"},
	{"ip", "-br", "link"},
	{"tcpdump", "-i", "eth0", "-w", "/tmp/x.pcap"},
	{"nmap", "-sV", "-p", "22", "localhost"},
	{"wget", "-nv", "-O/tmp/test.html", "https://example.com/"},
	{"ssh-keygen", "-t", "ed25519", "-f", "/root/.ssh/id"},
	{"chmod", "600", "/etc/x"},
	{"service", "nginx", "reload"},
	{"iptables", "-L", "-n"},
	{"ls", "-la", "/root"},
	{"/usr/sbin/ufw", "status"},
	{"python-is-not-here"},
}

func TestBuiltinBypasses(t *testing.T) {
	allowAll := mustParse(t, `{"allow": ["^", ".*"]}`)
	for _, tt := range bypasses {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			resolved := resolve(tt.argv[0])
			want := "builtin:" + tt.kind
			for _, p := range []*Policy{nil, allowAll} {
				d := p.Decide(tt.argv, resolved)
				if d.Allowed || d.Rule != want {
					t.Errorf("Decide(%q) with policy %v = {Allowed:%v Rule:%q}, want refused by %s", tt.argv, p != nil, d.Allowed, d.Rule, want)
				}
				name := filepath.Base(tt.argv[0])
				if !strings.Contains(d.Reason, name) || !strings.Contains(d.Reason, "allow_exact") {
					t.Errorf("Reason = %q, want it to name %q and allow_exact", d.Reason, name)
				}
			}
			// Naming the exact argv lets it through, with the bare name, the
			// full path, or whatever the caller used.
			for _, argv0 := range []string{tt.argv[0], resolved, filepath.Base(resolved)} {
				entry := append([]string{argv0}, tt.argv[1:]...)
				js, _ := json.Marshal(map[string]any{"allow_exact": [][]string{entry}})
				p := mustParse(t, string(js))
				if d := p.Decide(tt.argv, resolved); !d.Allowed || d.Rule != "allow_exact[0]" {
					t.Errorf("with allow_exact %q: Decide = {Allowed:%v Rule:%q}, want allowed by allow_exact[0]", entry, d.Allowed, d.Rule)
				}
				// One more argument and it is refused again.
				longer := append(append([]string{}, tt.argv...), "x")
				if d := p.Decide(longer, resolved); d.Allowed {
					t.Errorf("with allow_exact %q: Decide(%q) allowed by %s, want refused", entry, longer, d.Rule)
				}
			}
		})
	}
}

func TestBuiltinBenign(t *testing.T) {
	for _, argv := range benign {
		t.Run(strings.Join(argv, " "), func(t *testing.T) {
			d := (*Policy)(nil).Decide(argv, resolve(argv[0]))
			if !d.Allowed {
				t.Errorf("Decide(%q) = refused by %s (%s), want allowed", argv, d.Rule, d.Reason)
			}
		})
	}
}

func TestBuiltinFirstKind(t *testing.T) {
	// argv[0] and the resolved path may name different programs; the kind
	// earlier in the order wins.
	tests := []struct {
		argv0, resolved, want string
	}{
		{"sh", "/usr/bin/env", "builtin:" + kindShell},
		{"env", "/bin/sudo", "builtin:" + kindPrivilege},
		{"vi", "/usr/bin/python3", "builtin:" + kindInterp},
		{"ls", "/bin/busybox", "builtin:" + kindShell},
	}
	for _, tt := range tests {
		if d := (*Policy)(nil).Decide([]string{tt.argv0}, tt.resolved); d.Rule != tt.want {
			t.Errorf("Decide(%q, %q).Rule = %q, want %q", tt.argv0, tt.resolved, d.Rule, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"python3", "python"},
		{"python3.11", "python"},
		{"python2.7", "python"},
		{"perl5.36.0", "perl"},
		{"lua5.4", "lua"},
		{"tclsh8.6", "tclsh"},
		{"sqlite3", "sqlite"},
		{"php8.2", "php"},
		{"gawk-5.1.0", "gawk"},
		{"vim.basic", "vim"},
		{"vim.gtk3", "vim"},
		{"nc.openbsd", "nc"},
		{"systemctl", "systemctl"},
		{"ip6tables", "ip6tables"},
		{"md5sum", "md5sum"},
		{"7z", "7z"},
		{"2to3", "2to"},
		{"3", "3"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	c := parseArgs([]string{"-xvf", "a.tar", "--to-command=sh", "-C", "/o", "file", "--", "-I", "--x"}, "fC")
	var short []string
	for _, o := range c.short {
		short = append(short, string(o.letter)+"="+o.value)
	}
	if got, want := strings.Join(short, " "), "x= v= f=a.tar C=/o"; got != want {
		t.Errorf("short = %q, want %q", got, want)
	}
	if len(c.long) != 1 || c.long[0].name != "to-command" || c.long[0].value != "sh" {
		t.Errorf("long = %+v, want [{to-command sh}]", c.long)
	}
	if got, want := strings.Join(c.operands, " "), "file -I --x"; got != want {
		t.Errorf("operands = %q, want %q", got, want)
	}
	if got := c.hasLong(tarLong, "checkpoint"); got != "--to-command" {
		t.Errorf("hasLong = %q, want --to-command", got)
	}
}
