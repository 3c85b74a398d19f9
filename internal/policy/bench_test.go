package policy

import (
	"encoding/json"
	"fmt"
	"testing"
)

// benchPolicy is a realistic policy: 20 allow and 20 deny regexes of the
// kind admins write, and 10 exact entries.
func benchPolicy() []byte {
	allow := []string{
		`^systemctl (restart|reload|status) (nginx|postgresql|redis-server)(\.service)?$`,
		`^systemctl (start|stop) openclaw-[a-z]+$`,
		`^apt-get update$`,
		`^apt-get (install|upgrade) -y [a-z0-9.+-]+$`,
		`^journalctl -u [a-z0-9@.-]+( -n [0-9]+)?( --no-pager)?$`,
		`^/usr/sbin/service [a-z0-9-]+ (start|stop|restart|status)$`,
		`^ufw (status( verbose)?|allow [0-9]+/tcp|deny [0-9]+/tcp)$`,
		`^docker (ps( -a)?|logs( -f)? [a-z0-9_-]+|restart [a-z0-9_-]+)$`,
		`^ss -[tulpn]+$`,
		`^cat /var/log/[a-z0-9/._-]+$`,
		`^tail -n [0-9]+ /var/log/[a-z0-9/._-]+$`,
		`^ls( -[la]+)? /(etc|var|opt)/[a-z0-9/._-]*$`,
		`^chown -R www-data:www-data /var/www/[a-z0-9._-]+$`,
		`^certbot renew( --dry-run)?$`,
		`^nginx -t$`,
		`^ip (addr|route|link)( show)?$`,
		`^mount$`,
		`^df -h$`,
		`^du -sh /[a-z0-9/._-]+$`,
		`^lsof -i(:[0-9]+)?$`,
	}
	deny := []string{
		`^rm -rf /`, `--no-preserve-root`, `\bmkfs(\.[a-z0-9]+)?\b`, `^dd .*of=/dev/`,
		`^chmod (-R )?[0-7]*777 /`, `/etc/sudoers`, `/etc/shadow`, `authorized_keys`,
		`^userdel `, `^passwd`, `^usermod .*-a?G .*sudo`, `^iptables -F`, `^ufw disable`,
		`^systemctl (stop|disable|mask) (ssh|sshd)(\.service)?$`, `\| *(ba)?sh`,
		`^shutdown`, `^reboot`, `^halt`, `^kill -9 1$`, `^crontab -r`,
	}
	var exact [][]string
	for i := range 5 {
		exact = append(exact, []string{"apt-get", "install", "-y", fmt.Sprintf("pkg%d", i)})
	}
	js, err := json.Marshal(map[string]any{
		"allow":       allow,
		"deny":        deny,
		"allow_exact": exact,
		"deny_exact":  [][]string{{"reboot"}, {"shutdown", "-h", "now"}, {"poweroff"}, {"halt"}, {"init", "0"}},
	})
	if err != nil {
		panic(err)
	}
	return js
}

func BenchmarkDecide(b *testing.B) {
	p, err := Parse(benchPolicy(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name     string
		argv     []string
		resolved string
	}{
		// Matches the last allow regex: every deny and allow regex runs.
		{"allow-last", []string{"lsof", "-i:443"}, "/usr/bin/lsof"},
		{"allow-first", []string{"systemctl", "restart", "nginx.service"}, "/usr/bin/systemctl"},
		// Matches nothing: refused as not in the allow list.
		{"not-listed", []string{"/usr/bin/journalctl", "-u", "nginx", "--since", "2024-01-01 00:00"}, "/usr/bin/journalctl"},
		{"allow-exact", []string{"apt-get", "install", "-y", "pkg4"}, "/usr/bin/apt-get"},
		{"builtin", []string{"tar", "-xf", "a.tar", "--to-command=sh"}, "/usr/bin/tar"},
		// A program whose paths are checked, through symlinks: cp is not in
		// the allow list, so every rule runs.
		{"path-check", []string{"cp", "/etc/hosts", "/tmp/hosts.bak"}, "/usr/bin/cp"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Decide(c.argv, c.resolved)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	data := benchPolicy()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkShellJoin(b *testing.B) {
	argv := []string{"/usr/bin/journalctl", "-u", "nginx", "--since", "2024-01-01 00:00", "it's"}
	b.ReportAllocs()
	for b.Loop() {
		ShellJoin(argv)
	}
}
