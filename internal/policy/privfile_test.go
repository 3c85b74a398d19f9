package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// privCase is a command run in cwd ("" for unknown). want is the built-in
// kind that refuses it, or "" when no built-in rule may; mention is a part
// of the reason that must be there.
type privCase struct {
	cwd     string
	argv    []string
	want    string
	mention string
}

// privCases returns the cases; those with symlinks live in tmp.
func privCases(tmp string) []privCase {
	l := filepath.Join(tmp, "l") // a symlink to /etc
	return []privCase{
		// tee writes its file operands.
		{"", []string{"tee", "-a", "/etc/sudoers"}, kindPrivFile, "writes /etc/sudoers, which decides who becomes root"},
		{"", []string{"tee", "/etc/sudoers.d/agent"}, kindPrivFile, "/etc/sudoers.d/agent"},
		{"", []string{"tee", "--append", "/etc/shadow"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"tee", "/tmp/ok", "/etc/passwd"}, kindPrivFile, "/etc/passwd"},
		{"", []string{"tee", "--", "/etc/group"}, kindPrivFile, "/etc/group"},
		{"", []string{"tee", "/etc/gshadow"}, kindPrivFile, "/etc/gshadow"},
		{"", []string{"tee", "/etc/sudo.conf"}, kindPrivFile, "/etc/sudo.conf"},
		{"", []string{"tee", "/etc/ld.so.preload"}, kindPrivFile, "/etc/ld.so.preload"},
		{"", []string{"tee", "/etc/doas.conf"}, kindPrivFile, "/etc/doas.conf"},
		{"", []string{"tee", "/etc/pam.d/sudo"}, kindPrivFile, "/etc/pam.d/sudo"},
		{"", []string{"/usr/bin/tee", "/etc//shadow"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"tee", "/etc/./sudoers"}, kindPrivFile, "/etc/sudoers"},
		{"", []string{"tee", "/etc/x/../shadow"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"tee", "/etc/sudoers.d/"}, kindPrivFile, "/etc/sudoers.d"},
		{"", []string{"tee", "/ETC/Shadow"}, kindPrivFile, "/ETC/Shadow"},
		{"", []string{"tee", "/private/etc/sudoers"}, kindPrivFile, "/private/etc/sudoers"},
		{"/etc", []string{"tee", "sudoers"}, kindPrivFile, "writes /etc/sudoers,"},
		{"/etc/sudoers.d", []string{"tee", "x"}, kindPrivFile, "/etc/sudoers.d/x"},
		{"/", []string{"tee", "etc/shadow"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"tee", "shadow"}, kindPrivFile, "shadow (relative to an unknown working directory)"},
		{"", []string{"tee", "../etc/sudoers.d/x"}, kindPrivFile, "sudoers.d/x"},
		{"", []string{"tee", "./pam.d/su"}, kindPrivFile, "pam.d/su"},
		// Symlinks the agent made: of a parent, of the file, dangling, of
		// the working directory.
		{"", []string{"tee", l + "/shadow"}, kindPrivFile, l + "/shadow (through symlinks, /etc/shadow)"},
		{"", []string{"tee", l + "/sudoers.d/zz-new"}, kindPrivFile, "/etc/sudoers.d/zz-new"},
		{"", []string{"tee", tmp + "/to-shadow"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"tee", tmp + "/dangling"}, kindPrivFile, "/etc/sudoers.d/zz-clawwarden-test"},
		{"", []string{"tee", tmp + "/hop"}, kindPrivFile, "/etc/shadow"},
		{l, []string{"tee", "passwd"}, kindPrivFile, "/etc/passwd"},
		{"", []string{"tee", l + "/../etc/group"}, kindPrivFile, l + "/../etc/group (through symlinks, /etc/group)"},
		{"", []string{"tee", tmp + "/sub/../shadow"}, kindPrivFile, "/etc/shadow"},

		// cp, mv, install and ln: either side, -t in every spelling, /etc
		// as the target directory, recursion from /etc or above.
		{"", []string{"cp", "/tmp/x", "/etc/sudoers"}, kindPrivFile, "writes /etc/sudoers"},
		{"", []string{"cp", "-t", "/etc/sudoers.d", "/tmp/x"}, kindPrivFile, "copies into /etc/sudoers.d, which decides"},
		{"", []string{"cp", "--target-directory=/etc/sudoers.d", "x"}, kindPrivFile, "/etc/sudoers.d"},
		{"", []string{"cp", "--target-directory", "/etc/sudoers.d", "x"}, kindPrivFile, "/etc/sudoers.d"},
		{"", []string{"cp", "--target", "/etc/pam.d", "x"}, kindPrivFile, "/etc/pam.d"},
		{"", []string{"cp", "-rt/etc/sudoers.d", "x"}, kindPrivFile, "/etc/sudoers.d"},
		{"", []string{"cp", "/etc/shadow", "/tmp/x"}, kindPrivFile, "copies /etc/shadow"},
		{"", []string{"cp", "/tmp/shadow", "/etc"}, kindPrivFile, "copies into /etc"},
		{"", []string{"cp", "/tmp/shadow", "/etc", "--suffix", ".bak"}, kindPrivFile, "copies into /etc"},
		{"", []string{"cp", "-r", "x", "/etc"}, kindPrivFile, "copies into /etc"},
		{"", []string{"cp", "-r", "/tmp/etc", "/"}, kindPrivFile, "copies into /,"},
		{"", []string{"cp", "-a", "/etc", "/backup/etc"}, kindPrivFile, "copies /etc, which holds"},
		{"", []string{"cp", "--recursive", "/", "/mnt"}, kindPrivFile, "copies /,"},
		{"", []string{"cp", "x", l + "/"}, kindPrivFile, "/etc"},
		{"", []string{"cp", "x", l + "/shadow"}, kindPrivFile, "/etc/shadow"},
		{"/tmp", []string{"cp", "x", "../etc/shadow"}, kindPrivFile, "writes /etc/shadow"},
		{"", []string{"cp", "--preserve=mode", "/tmp/x", "/usr/local/bin/x"}, kindPrivFile, "setuid-root"},
		{"", []string{"cp", "--preserve=mode,timestamps", "/tmp/x", "/usr/local/bin/x"}, kindPrivFile, "setuid-root"},
		{"", []string{"cp", "-a", "--no-preserve=ownership", "/tmp/x", "/usr/local/bin/x"}, kindPrivFile, "setuid-root"},
		{"", []string{"cp", "-p", "--no-preserve", "ownership", "/tmp/x", "/usr/local/bin/x"}, kindPrivFile, "setuid-root"},
		{"", []string{"cp", "--preserve=all", "--no-preserve=ownership", "/tmp/x", "/usr/local/bin/x"}, kindPrivFile, "setuid-root"},
		{"", []string{"mv", "x", "/etc/shadow"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"mv", "/etc/shadow", "/tmp/x"}, kindPrivFile, "moves /etc/shadow"},
		{"", []string{"mv", "/etc", "/etc.old"}, kindPrivFile, "moves /etc"},
		{"", []string{"mv", "/tmp/x", "/etc"}, kindPrivFile, "moves into /etc"},
		{"", []string{"mv", "-t", "/etc/pam.d", "x"}, kindPrivFile, "/etc/pam.d"},
		{"", []string{"install", "-m", "0440", "x", "/etc/sudoers.d/y"}, kindPrivFile, "/etc/sudoers.d/y"},
		{"", []string{"install", "-m", "4755", "x", "/usr/local/bin/y"}, kindPrivFile, "setuid"},
		{"", []string{"install", "-m4755", "x", "/usr/local/bin/y"}, kindPrivFile, "setuid"},
		{"", []string{"install", "--mode=u+s", "x", "/usr/local/bin/y"}, kindPrivFile, "setuid"},
		{"", []string{"install", "--mode", "2755", "x", "/usr/local/bin/y"}, kindPrivFile, "setgid"},
		{"", []string{"install", "-Dm", "0440", "x", "/etc/sudoers.d/y"}, kindPrivFile, "/etc/sudoers.d/y"},
		{"", []string{"install", "-d", "/etc/sudoers.d"}, kindPrivFile, "creates /etc/sudoers.d"},
		{"", []string{"install", "-d", "-m", "777", "/etc"}, kindPrivFile, "mode and owner of /etc"},
		{"", []string{"install", "x", "/etc"}, kindPrivFile, "installs into /etc"},
		{"", []string{"install", "-o", "agent", "x", "/etc/profile.d/a.sh"}, kindPrivFile, "makes agent the owner"},
		{"", []string{"install", "-s", "--strip-program=/tmp/x", "a", "/tmp/b"}, kindWrapper, "--strip-program"},
		{"", []string{"ln", "-sf", "/tmp/x", "/etc/ld.so.preload"}, kindPrivFile, "/etc/ld.so.preload"},
		{"", []string{"ln", "-s", "/etc/shadow", "/tmp/s"}, kindPrivFile, "links /etc/shadow"},
		{"", []string{"ln", "-t", "/etc/sudoers.d", "/tmp/x"}, kindPrivFile, "links into /etc/sudoers.d"},
		{"", []string{"ln", "--target-directory", "/etc/pam.d", "/tmp/x"}, kindPrivFile, "/etc/pam.d"},
		{"/etc", []string{"ln", "-s", "/tmp/x"}, kindPrivFile, "links into /etc"},
		{"", []string{"ln", "-s", "/tmp/x/shadow"}, kindPrivFile, "shadow"},

		// dd's if= and of=.
		{"", []string{"dd", "if=x", "of=/etc/passwd"}, kindPrivFile, "writes /etc/passwd"},
		{"", []string{"dd", "if=/etc/shadow", "of=/tmp/x"}, kindPrivFile, "reads /etc/shadow"},

		// sed in place, and its w command.
		{"", []string{"sed", "-i", "s/x/y/", "/etc/passwd"}, kindPrivFile, "rewrites /etc/passwd"},
		{"", []string{"sed", "-i.bak", "-e", "s/x/y/", "/etc/group"}, kindPrivFile, "/etc/group"},
		{"", []string{"sed", "--in-place=.b", "s/a/b/", "/etc/shadow"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"sed", "--in-place", "-e", "s/a/b/", "/etc/pam.d/su"}, kindPrivFile, "/etc/pam.d/su"},
		{"", []string{"sed", "--in", "s/a/b/", "/etc/sudoers"}, kindPrivFile, "/etc/sudoers"},
		{"", []string{"sed", "-Ei", "s/x/y/", "/etc/sudoers"}, kindPrivFile, "/etc/sudoers"},
		{"", []string{"sed", "-ni", "p", "/etc/sudoers.d/x"}, kindPrivFile, "/etc/sudoers.d/x"},
		{"", []string{"sed", "-ie", "s/x/y/", "/etc/passwd"}, kindPrivFile, "/etc/passwd"},
		{"", []string{"sed", "-i", "-f", "/tmp/s.sed", "/etc/passwd"}, kindPrivFile, "/etc/passwd"},
		{"", []string{"sed", "--expression", "s/x/y/", "-i", "/etc/passwd"}, kindPrivFile, "/etc/passwd"},
		{"", []string{"sed", "s/x/y/", "/etc/passwd", "-i"}, kindPrivFile, "/etc/passwd"},
		{"/etc", []string{"sed", "-i", "s/x/y/", "shadow"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"sed", "-n", "w /etc/sudoers.d/x", "/dev/stdin"}, kindPrivFile, "w command"},
		{"", []string{"sed", "s/a/b/w /etc/shadow", "/tmp/x"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"sed", "-e", "1d", "-e", "$W/etc/passwd", "/tmp/x"}, kindPrivFile, "/etc/passwd"},

		// chown and chgrp.
		{"", []string{"chown", "agent", "/etc/sudoers.d/x"}, kindPrivFile, "changes the owner of /etc/sudoers.d/x"},
		{"", []string{"chown", "root:root", "/etc/shadow"}, kindPrivFile, "/etc/shadow"},
		{"", []string{"chown", "-R", "agent", "/etc"}, kindPrivFile, "everything in /etc"},
		{"", []string{"chown", "-R", "root:root", "/etc"}, kindPrivFile, "everything in /etc"},
		{"", []string{"chown", "--recursive", "agent", "/"}, kindPrivFile, "everything in /"},
		{"", []string{"chown", "-R", "agent", "/"}, kindPrivFile, "everything in /"},
		{"", []string{"chown", "agent:agent", "/etc/hosts"}, kindPrivFile, "makes agent the owner of /etc/hosts"},
		{"", []string{"chown", "agent.agent", "/etc/hosts"}, kindPrivFile, "makes agent the owner"},
		{"", []string{"chown", "agent", "/etc"}, kindPrivFile, "/etc"},
		{"", []string{"chown", "1000", "/etc/cron.d/x"}, kindPrivFile, "makes 1000 the owner"},
		{"", []string{"chown", ":agent", "/etc/hosts"}, kindPrivFile, "makes agent the group"},
		{"", []string{"chown", "agent", "/"}, kindPrivFile, "of /,"},
		{"", []string{"chown", "--reference=/tmp/x", "/etc/hosts"}, kindPrivFile, "another file's owner"},
		{"", []string{"chown", "--reference", "/tmp/x", "/etc/hosts"}, kindPrivFile, "another file's owner"},
		{"", []string{"chown", "--from=root", "agent", "/etc/hosts"}, kindPrivFile, "/etc/hosts"},
		{"", []string{"chown", "agent", l + "/hosts"}, kindPrivFile, "/etc/hosts"},
		{"/etc", []string{"chown", "agent", "hosts"}, kindPrivFile, "/etc/hosts"},
		{"", []string{"chgrp", "agent", "/etc/hosts"}, kindPrivFile, "makes agent the group of /etc/hosts"},
		{"", []string{"chgrp", "shadow", "/etc/shadow"}, kindPrivFile, "changes the group of /etc/shadow"},
		{"", []string{"chgrp", "-R", "root", "/"}, kindPrivFile, "everything in /"},

		// chmod: setuid and setgid anywhere, any mode of a privilege file,
		// recursion from /etc or above, others' write on /etc or above.
		{"", []string{"chmod", "4755", "/tmp/sh"}, kindPrivFile, "sets the setuid bit: a setuid-root program is permanent root for whoever runs it"},
		{"", []string{"chmod", "04755", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "2755", "x"}, kindPrivFile, "setgid"},
		{"", []string{"chmod", "6755", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "u+s", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "g+s", "x"}, kindPrivFile, "setgid"},
		{"", []string{"chmod", "+s", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "a+s", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "ug+s", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "u=rwxs", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "u+x,u+s", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "go-w+s", "x"}, kindPrivFile, "setgid"},
		{"", []string{"chmod", "=4755", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "-x,+s", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "-v", "--", "u+s", "x"}, kindPrivFile, "setuid"},
		{"", []string{"chmod", "--reference=/tmp/x", "/tmp/y"}, kindPrivFile, "--reference"},
		{"", []string{"chmod", "666", "/etc/shadow"}, kindPrivFile, "changes the mode of /etc/shadow"},
		{"", []string{"chmod", "440", "/etc/sudoers"}, kindPrivFile, "/etc/sudoers"},
		{"", []string{"chmod", "-R", "777", "/etc"}, kindPrivFile, "everything in /etc"},
		{"", []string{"chmod", "-R", "755", "/"}, kindPrivFile, "everything in /"},
		{"", []string{"chmod", "--recursive", "go-w", "/etc"}, kindPrivFile, "everything in /etc"},
		{"", []string{"chmod", "777", "/etc"}, kindPrivFile, "lets others write /etc"},
		{"", []string{"chmod", "o+w", "/"}, kindPrivFile, "lets others write /"},
		{"", []string{"chmod", "g=u", "/etc"}, kindPrivFile, "lets others write /etc"},
		{"", []string{"chmod", "666", tmp + "/to-shadow"}, kindPrivFile, "/etc/shadow"},

		// truncate.
		{"", []string{"truncate", "-s", "0", "/etc/shadow"}, kindPrivFile, "truncates /etc/shadow"},
		{"", []string{"truncate", "--size", "0", "/etc/ld.so.preload"}, kindPrivFile, "/etc/ld.so.preload"},

		// What sudo is for stays allowed.
		{"", []string{"cp", "/etc/hosts", "/tmp/hosts.bak"}, "", ""},
		{"", []string{"cp", "-r", "/srv/a", "/srv/b"}, "", ""},
		{"", []string{"cp", "-p", "/tmp/x", "/usr/local/bin/x"}, "", ""},
		{"", []string{"cp", "-a", "/srv/a", "/srv/b"}, "", ""},
		{"", []string{"cp", "--preserve", "/tmp/x", "/srv/x"}, "", ""},
		{"", []string{"cp", "--preserve=mode,ownership", "/tmp/x", "/srv/x"}, "", ""},
		{"", []string{"cp", "--preserve=timestamps", "/tmp/x", "/srv/x"}, "", ""},
		{"", []string{"cp", "-a", "--no-preserve=mode,ownership", "/srv/a", "/srv/b"}, "", ""},
		{"", []string{"cp", "/tmp/nginx.conf", "/etc/nginx/nginx.conf"}, "", ""},
		{"/etc", []string{"cp", "hosts", "/tmp/hosts"}, "", ""},
		{"", []string{"mv", "/tmp/a", "/tmp/b"}, "", ""},
		{"", []string{"tee", "/tmp/out"}, "", ""},
		{"", []string{"tee", "-a", "/etc/hosts"}, "", ""},
		{"", []string{"tee", "/etc/shadow.d/x", "/etc/passwd.bak"}, "", ""},
		{"/tmp", []string{"tee", "shadow"}, "", ""},
		{"", []string{"chmod", "755", "/usr/local/bin/x"}, "", ""},
		{"", []string{"chmod", "1777", "/tmp/x"}, "", ""},
		{"", []string{"chmod", "+t", "/tmp/x"}, "", ""},
		{"", []string{"chmod", "-s", "/tmp/x"}, "", ""},
		{"", []string{"chmod", "u-s,g-s", "/tmp/x"}, "", ""},
		{"", []string{"chmod", "o+s", "/tmp/x"}, "", ""},
		{"", []string{"chmod", "755", "/etc"}, "", ""},
		{"", []string{"chmod", "go-w", "/"}, "", ""},
		{"", []string{"chmod", "600", "/etc/ssl/private/key.pem"}, "", ""},
		{"", []string{"chmod", "-R", "u+rwX,go+rX", "/var/www"}, "", ""},
		{"", []string{"chown", "root:root", "/etc/hosts"}, "", ""},
		{"", []string{"chown", "0:0", "/etc/x"}, "", ""},
		{"", []string{"chown", "root.root", "/etc/x"}, "", ""},
		{"", []string{"chown", "root:", "/etc/x"}, "", ""},
		{"", []string{"chown", "agent", "/home/agent/x"}, "", ""},
		{"", []string{"chown", "-R", "www-data:www-data", "/var/www/site"}, "", ""},
		{"", []string{"chown", "agent", "hosts"}, "", ""},
		{"", []string{"chgrp", "root", "/etc/hosts"}, "", ""},
		{"", []string{"chgrp", "agent", "/home/agent/x"}, "", ""},
		{"", []string{"sed", "s/x/y/", "/etc/passwd"}, "", ""},
		{"", []string{"sed", "-n", "p", "/etc/group"}, "", ""},
		{"", []string{"sed", "-n", "/wheel/p", "/etc/group"}, "", ""},
		{"", []string{"sed", "-e", "s/x/y/", "-i", "/etc/nginx/nginx.conf"}, "", ""},
		{"", []string{"sed", "-n", "w /tmp/out", "/etc/hosts"}, "", ""},
		{"", []string{"sed", "-i", "s/password/passwd/", "/etc/nginx/x.conf"}, "", ""},
		{"", []string{"dd", "if=/dev/zero", "of=/tmp/x"}, "", ""},
		{"", []string{"dd", "if=/dev/sda", "of=/backup/sda.img", "bs=1M"}, "", ""},
		{"", []string{"install", "-m", "0755", "x", "/usr/local/bin/y"}, "", ""},
		{"", []string{"install", "-o", "root", "-g", "root", "-m", "0644", "x", "/etc/nginx/x.conf"}, "", ""},
		{"", []string{"install", "-d", "/opt/app"}, "", ""},
		{"", []string{"install", "-s", "x", "/usr/local/bin/y"}, "", ""},
		{"", []string{"ln", "-s", "/usr/bin/x", "/usr/local/bin/x"}, "", ""},
		{"", []string{"ln", "-sf", "/etc/nginx/sites-available/a", "/etc/nginx/sites-enabled/a"}, "", ""},
		{"", []string{"truncate", "-s", "0", "/var/log/x"}, "", ""},
	}
}

// privTmp makes a directory with symlinks an agent could make: l to /etc,
// sub to a directory in /etc, to-shadow to /etc/shadow, hop to to-shadow,
// and dangling to a missing file in /etc/sudoers.d.
func privTmp(t *testing.T) string {
	tmp := t.TempDir()
	sub := ""
	entries, _ := os.ReadDir("/etc")
	for _, e := range entries {
		if e.IsDir() {
			sub = "/etc/" + e.Name()
			break
		}
	}
	if sub == "" {
		testenv.Skip(t, "no directory in /etc")
	}
	for name, to := range map[string]string{
		"l":         "/etc",
		"sub":       sub,
		"to-shadow": "/etc/shadow",
		"hop":       "to-shadow",
		"dangling":  "/etc/sudoers.d/zz-clawwarden-test",
	} {
		if err := os.Symlink(to, filepath.Join(tmp, name)); err != nil {
			testenv.Skip(t, "symlinks not supported: %v", err)
		}
	}
	return tmp
}

func TestPrivilegeFiles(t *testing.T) {
	allowAll := mustParse(t, `{"allow": ["^", ".*"]}`)
	for _, tt := range privCases(privTmp(t)) {
		t.Run(tt.cwd+"$ "+strings.Join(tt.argv, " "), func(t *testing.T) {
			resolved := resolve(tt.argv[0])
			for _, p := range []*Policy{nil, allowAll} {
				d := p.DecideIn(tt.cwd, tt.argv, resolved)
				if tt.want == "" {
					if !d.Allowed {
						t.Errorf("DecideIn(%q, %q) = refused by %s (%s), want allowed", tt.cwd, tt.argv, d.Rule, d.Reason)
					}
					continue
				}
				if want := "builtin:" + tt.want; d.Allowed || d.Rule != want {
					t.Fatalf("DecideIn(%q, %q) with policy %v = {Allowed:%v Rule:%q}, want refused by %s", tt.cwd, tt.argv, p != nil, d.Allowed, d.Rule, want)
				}
				name := filepath.Base(tt.argv[0]) + " "
				if !strings.HasPrefix(d.Reason, name) || !strings.Contains(d.Reason, tt.mention) || !strings.Contains(d.Reason, "allow_exact") {
					t.Errorf("Reason = %q, want it to start with %q and name %q and allow_exact", d.Reason, name, tt.mention)
				}
			}
			if tt.want == "" {
				return
			}
			// Naming the exact argv lets it through.
			js, _ := json.Marshal(map[string]any{"allow_exact": [][]string{tt.argv}})
			p := mustParse(t, string(js))
			if d := p.DecideIn(tt.cwd, tt.argv, resolved); !d.Allowed || d.Rule != "allow_exact[0]" {
				t.Errorf("with allow_exact %q: DecideIn = {Allowed:%v Rule:%q}, want allowed by allow_exact[0]", tt.argv, d.Allowed, d.Rule)
			}
		})
	}
}

func TestDecideIsDecideInUnknownDir(t *testing.T) {
	argv := []string{"tee", "sudoers"}
	if d := (*Policy)(nil).Decide(argv, "/usr/bin/tee"); d.Allowed {
		t.Errorf("Decide(%q) allowed, want refused by name in an unknown directory", argv)
	}
	if d := (*Policy)(nil).DecideIn("/home/agent", argv, "/usr/bin/tee"); !d.Allowed {
		t.Errorf("DecideIn(/home/agent, %q) = refused (%s), want allowed", argv, d.Reason)
	}
}

func TestSetIDBits(t *testing.T) {
	tests := []struct {
		mode     string
		uid, gid bool
	}{
		{"4755", true, false},
		{"04755", true, false},
		{"2755", false, true},
		{"6755", true, true},
		{"7777", true, true},
		{"1777", false, false},
		{"0755", false, false},
		{"755", false, false},
		{"u+s", true, false},
		{"g+s", false, true},
		{"+s", true, true},
		{"a+s", true, true},
		{"ug+s", true, true},
		{"o+s", false, false},
		{"u=rwxs", true, false},
		{"u+x,u+s", true, false},
		{"u-s", false, false},
		{"u-x+s", true, false},
		{"=4000", true, false},
		{"-4000", false, false},
		{"+t", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if uid, gid := setIDBits(tt.mode); uid != tt.uid || gid != tt.gid {
			t.Errorf("setIDBits(%q) = %v, %v, want %v, %v", tt.mode, uid, gid, tt.uid, tt.gid)
		}
	}
}

func TestGrantsWrite(t *testing.T) {
	tests := []struct {
		mode string
		want bool
	}{
		{"777", true},
		{"775", true},
		{"757", true},
		{"755", false},
		{"1755", false},
		{"o+w", true},
		{"g+rw", true},
		{"+w", true},
		{"a=rwx", true},
		{"u+w", false},
		{"go-w", false},
		{"o=u", true},
		{"u=g", false},
		{"go+rX", false},
	}
	for _, tt := range tests {
		if got := grantsWrite(tt.mode); got != tt.want {
			t.Errorf("grantsWrite(%q) = %v, want %v", tt.mode, got, tt.want)
		}
	}
}

func TestFollowLinks(t *testing.T) {
	tmp := privTmp(t)
	if err := os.Mkdir(filepath.Join(tmp, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"loop1", "loop2"} {
		other := map[string]string{"loop1": "loop2", "loop2": "loop1"}[name]
		if err := os.Symlink(other, filepath.Join(tmp, name)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ in, want string }{
		{tmp + "/l/shadow", "/etc/shadow"},
		{tmp + "/l/no/such/file", "/etc/no/such/file"},
		{tmp + "/hop", "/etc/shadow"},
		{tmp + "/dangling", "/etc/sudoers.d/zz-clawwarden-test"},
		{tmp + "/d/../l/passwd", "/etc/passwd"},
		{tmp + "/l/../etc/passwd", "/etc/passwd"}, // .. of /etc is /
		{tmp + "/sub/../shadow", "/etc/shadow"},
		{tmp + "/loop1/x", ""},
		{"/", "/"},
	}
	// t.TempDir may itself lie under a symlink (macOS /var), so compare
	// with tmp's own resolved form.
	realTmp, err := filepath.EvalSymlinks(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		want := strings.Replace(tt.want, tmp, realTmp, 1)
		if got := followLinks(tt.in); got != want && canon(got) != canon(want) {
			t.Errorf("followLinks(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

func TestOwnerSpec(t *testing.T) {
	tests := []struct{ spec, owner, group string }{
		{"agent", "agent", ""},
		{"agent:staff", "agent", "staff"},
		{"agent.staff", "agent", "staff"},
		{":staff", "", "staff"},
		{"root:", "root", ""},
	}
	for _, tt := range tests {
		if o, g := splitOwner(tt.spec); o != tt.owner || g != tt.group {
			t.Errorf("splitOwner(%q) = %q, %q, want %q, %q", tt.spec, o, g, tt.owner, tt.group)
		}
	}
	for id, want := range map[string]bool{"root": true, "0": true, "00": true, "+0": true, "1000": false, "agent": false, "rooty": false, "": false} {
		if got := isRoot(id); got != want {
			t.Errorf("isRoot(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestParseArgsValueLong(t *testing.T) {
	c := parseArgs([]string{"--target", "/etc", "--suffix=.b", "--verbose", "x", "--no-preserve", "mode", "y"}, "t", "target-directory", "no-preserve", "suffix")
	if got, want := strings.Join(c.operands, " "), "x y"; got != want {
		t.Errorf("operands = %q, want %q", got, want)
	}
	if got := c.values('t', "target-directory"); len(got) != 1 || got[0] != "/etc" {
		t.Errorf("values(t, target-directory) = %q, want [/etc]", got)
	}
}
