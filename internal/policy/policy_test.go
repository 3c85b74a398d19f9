package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse([]byte(src), "/etc/test/command-policy.json")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func patterns(rules []regexRule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.pattern)
	}
	return out
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name                  string
		src                   string
		allow, deny           []string
		allowExact, denyExact [][]string
	}{
		{name: "empty object", src: `{}`},
		{name: "empty lists", src: `{"allow":[],"deny":[],"allow_exact":[],"deny_exact":[]}`},
		{
			name:  "original format",
			src:   `{"allow":["^systemctl (restart|status) nginx$"],"deny":["^rm ","--no-preserve-root"],"allow_exact":[["apt-get","update"]],"deny_exact":[["reboot"]]}`,
			allow: []string{"^systemctl (restart|status) nginx$"}, deny: []string{"^rm ", "--no-preserve-root"},
			allowExact: [][]string{{"apt-get", "update"}}, denyExact: [][]string{{"reboot"}},
		},
		{
			name: "comment objects and top-level extras",
			src: `{
				"_comment": "template", "comment": "reviewed", "version": 2,
				"allow": [{"pattern": "^ls ", "comment": "listing"}, "^id$", {"pattern": "^df"}],
				"deny": [{"pattern": "^rm ", "comment": "no removals"}],
				"allow_exact": [{"argv": ["systemctl", "restart", "nginx"], "comment": "web"}, ["true"]],
				"deny_exact": [{"argv": ["shutdown", "-h", "now"]}]
			}`,
			allow: []string{"^ls ", "^id$", "^df"}, deny: []string{"^rm "},
			allowExact: [][]string{{"systemctl", "restart", "nginx"}, {"true"}},
			denyExact:  [][]string{{"shutdown", "-h", "now"}},
		},
		{name: "string version", src: `{"version": "1.0"}`},
		{name: "empty string argument", src: `{"allow_exact": [["touch", ""]]}`, allowExact: [][]string{{"touch", ""}}},
		{name: "RE2 features", src: `{"deny": ["(?i)^RM\\s", "\\z", "(?P<x>a)|[[:alpha:]]"]}`, deny: []string{`(?i)^RM\s`, `\z`, `(?P<x>a)|[[:alpha:]]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.src)
			if got := patterns(p.allow); !slices.Equal(got, tt.allow) {
				t.Errorf("allow = %q, want %q", got, tt.allow)
			}
			if got := patterns(p.deny); !slices.Equal(got, tt.deny) {
				t.Errorf("deny = %q, want %q", got, tt.deny)
			}
			if !slices.EqualFunc(p.allowExact, tt.allowExact, slices.Equal) {
				t.Errorf("allow_exact = %q, want %q", p.allowExact, tt.allowExact)
			}
			if !slices.EqualFunc(p.denyExact, tt.denyExact, slices.Equal) {
				t.Errorf("deny_exact = %q, want %q", p.denyExact, tt.denyExact)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings of the message
	}{
		{"empty file", ``, []string{"not valid JSON"}},
		{"not JSON", `allow: ^ls`, []string{"not valid JSON", "line 1, column 1"}},
		{"trailing comma", "{\n\"allow\": [\"^ls\",]\n}", []string{"not valid JSON", "line 2"}},
		{"trailing data", `{} {}`, []string{"not valid JSON"}},
		{"top-level array", `[["ls"]]`, []string{"want a JSON object"}},
		{"top-level null", `null`, []string{"want a JSON object"}},
		{"unknown key", `{"alow": ["^ls"]}`, []string{`unknown key "alow"`, "known keys"}},
		{"key case", `{"Allow": ["^ls"]}`, []string{`unknown key "Allow"`}},
		{"allow not array", `{"allow": "^ls"}`, []string{`"allow" must be an array`, "not string"}},
		{"allow null", `{"allow": null}`, []string{`"allow" must be an array`, "not null"}},
		{"allow number entry", `{"allow": [1]}`, []string{"allow[0]", "not number"}},
		{"allow array entry", `{"allow": [["ls"]]}`, []string{"allow[0]", "not array"}},
		{"empty pattern", `{"deny": ["^a", ""]}`, []string{"deny[1]", "empty pattern"}},
		{"pattern object without pattern", `{"allow": [{"comment": "x"}]}`, []string{"allow[0]", `missing "pattern"`}},
		{"pattern not string", `{"allow": [{"pattern": 5}]}`, []string{"allow[0]", `"pattern" must be a string`}},
		{"pattern object unknown key", `{"allow": [{"pattern": "^ls", "coment": "x"}]}`, []string{"allow[0]", `unknown key "coment"`}},
		{"comment not string", `{"allow": [{"pattern": "^ls", "comment": 1}]}`, []string{"allow[0]", `"comment" must be a string`}},
		{"top comment not string", `{"comment": ["x"]}`, []string{`"comment" must be a string`}},
		{"version boolean", `{"version": true}`, []string{`"version" must be a string or a number`}},
		{"lookahead", `{"deny": ["^a", "^rm (?=-rf)"]}`, []string{`deny[1] "^rm (?=-rf)"`, "RE2 syntax: lookarounds and backreferences are not supported"}},
		{"lookbehind", `{"allow": ["(?<!x)y"]}`, []string{`allow[0]`, "RE2 syntax"}},
		{"backreference", `{"allow": ["(a)\\1"]}`, []string{`allow[0] "(a)\\1"`, "RE2 syntax"}},
		{"python end anchor", `{"allow": ["^ls\\Z"]}`, []string{`allow[0]`, `write \z for Python's \Z`}},
		{"unbalanced", `{"allow": ["(ls"]}`, []string{`allow[0] "(ls"`, "missing closing )"}},
		{"exact not array", `{"allow_exact": {"argv": ["ls"]}}`, []string{`"allow_exact" must be an array`, "not object"}},
		{"exact entry string", `{"allow_exact": ["systemctl restart nginx"]}`, []string{"allow_exact[0]", "want an argv array", "not string"}},
		{"exact entry number", `{"deny_exact": [7]}`, []string{"deny_exact[0]", "not number"}},
		{"exact empty argv", `{"allow_exact": [["ls"], []]}`, []string{"allow_exact[1]", "empty argv"}},
		{"exact empty program", `{"deny_exact": [["", "x"]]}`, []string{"deny_exact[0]", "empty program name"}},
		{"exact element number", `{"allow_exact": [["sleep", 5]]}`, []string{"allow_exact[0][1]", "want a string, not number"}},
		{"exact element null", `{"allow_exact": [["ls", null]]}`, []string{"allow_exact[0][1]", "not null"}},
		{"exact object without argv", `{"allow_exact": [{"comment": "x"}]}`, []string{"allow_exact[0]", `missing "argv"`}},
		{"exact object argv string", `{"allow_exact": [{"argv": "ls -l"}]}`, []string{"allow_exact[0].argv", "must be an array"}},
		{"exact object empty argv", `{"allow_exact": [{"argv": []}]}`, []string{"allow_exact[0].argv", "empty argv"}},
		{"exact object unknown key", `{"deny_exact": [{"args": ["ls"]}]}`, []string{"deny_exact[0]", `unknown key "args"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.src), "/etc/test/command-policy.json")
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want an error", tt.src, p)
			}
			if p != nil {
				t.Errorf("Parse returned a policy with the error %v", err)
			}
			if !errors.Is(err, safefile.ErrInvalid) {
				t.Errorf("error %q does not wrap safefile.ErrInvalid", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "/etc/test/command-policy.json: ") {
				t.Errorf("error %q does not start with the source", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.HasSuffix(msg, ".") || msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("error %q: want lowercase, no final period", msg)
			}
		})
	}
}

func writeFile(t *testing.T, path, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask may have masked it
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "command-policy.json")
	writeFile(t, good, `{"allow_exact": [["ls"]]}`, 0o600)

	t.Run("ok", func(t *testing.T) {
		p, err := Load(good)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if d := p.Decide([]string{"ls"}, "/usr/bin/ls"); !d.Allowed || d.Rule != "allow_exact[0]" {
			t.Errorf("Decide = %+v, want allowed by allow_exact[0]", d)
		}
		if d := p.Decide([]string{"id"}, "/usr/bin/id"); d.Allowed || !strings.Contains(d.Reason, good) {
			t.Errorf("Decide = %+v, want refused with a reason naming %s", d, good)
		}
	})
	t.Run("missing", func(t *testing.T) {
		p, err := Load(filepath.Join(dir, "nope.json"))
		if p != nil || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load(missing) = %v, %v; want nil and fs.ErrNotExist", p, err)
		}
	})
	t.Run("symlink", func(t *testing.T) {
		link := filepath.Join(dir, "link.json")
		if err := os.Symlink(good, link); err != nil {
			t.Fatal(err)
		}
		p, err := Load(link)
		if p != nil || !errors.Is(err, safefile.ErrUnsafe) {
			t.Errorf("Load(symlink) = %v, %v; want nil and safefile.ErrUnsafe", p, err)
		}
	})
	t.Run("group writable", func(t *testing.T) {
		gw := filepath.Join(dir, "gw.json")
		writeFile(t, gw, `{}`, 0o664)
		if _, err := Load(gw); !errors.Is(err, safefile.ErrUnsafe) {
			t.Errorf("Load(group writable) error = %v, want safefile.ErrUnsafe", err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.json")
		writeFile(t, bad, `{"allow": ["(?=x)"]}`, 0o600)
		_, err := Load(bad)
		if !errors.Is(err, safefile.ErrInvalid) || !strings.Contains(err.Error(), bad) {
			t.Errorf("Load(malformed) error = %v, want safefile.ErrInvalid naming %s", err, bad)
		}
	})
}

func TestDecide(t *testing.T) {
	withAllow := mustParse(t, `{
		"allow": ["^systemctl (restart|status) [a-z]+$", "^/usr/sbin/service "],
		"deny": ["^systemctl restart sshd$", "--no-preserve-root", "^rm "],
		"allow_exact": [["apt-get", "update"], ["rm", "/tmp/x"], ["/usr/bin/journalctl", "-u", "nginx"], ["bash", "/opt/backup.sh"]],
		"deny_exact": [["systemctl", "restart", "nginx"]]
	}`)
	denyOnly := mustParse(t, `{"deny": ["^reboot"]}`)
	tests := []struct {
		name     string
		p        *Policy
		argv     []string
		resolved string
		allowed  bool
		rule     string
		subject  string
	}{
		{"allow regex", withAllow, []string{"systemctl", "status", "nginx"}, "/usr/bin/systemctl",
			true, `allow[0] "^systemctl (restart|status) [a-z]+$"`, "systemctl status nginx"},
		{"deny_exact beats allow regex", withAllow, []string{"systemctl", "restart", "nginx"}, "/usr/bin/systemctl",
			false, "deny_exact[0]", "systemctl restart nginx"},
		{"deny regex beats allow regex", withAllow, []string{"systemctl", "restart", "sshd"}, "/usr/bin/systemctl",
			false, `deny[0] "^systemctl restart sshd$"`, "systemctl restart sshd"},
		{"deny regex beats allow_exact", withAllow, []string{"rm", "/tmp/x"}, "/usr/bin/rm",
			false, `deny[2] "^rm "`, "rm /tmp/x"},
		{"deny matches anywhere (search)", withAllow, []string{"chown", "-R", "--no-preserve-root", "x", "/"}, "/usr/bin/chown",
			false, `deny[1] "--no-preserve-root"`, "chown -R --no-preserve-root x /"},
		{"allow_exact", withAllow, []string{"apt-get", "update"}, "/usr/bin/apt-get",
			true, "allow_exact[0]", "apt-get update"},
		{"extra argument defeats allow_exact", withAllow, []string{"apt-get", "update", "-o", "APT::Update::Pre-Invoke::=sh"}, "/usr/bin/apt-get",
			false, "builtin:escape-route", "/usr/bin/apt-get update -o APT::Update::Pre-Invoke::=sh"},
		{"extra harmless argument defeats allow_exact", withAllow, []string{"apt-get", "update", "-q"}, "/usr/bin/apt-get",
			false, "not in allow list", "/usr/bin/apt-get update -q"},
		{"missing argument defeats allow_exact", withAllow, []string{"apt-get"}, "/usr/bin/apt-get",
			false, "not in allow list", "/usr/bin/apt-get"},
		{"allow list that does not match", withAllow, []string{"systemctl", "stop", "nginx"}, "/usr/bin/systemctl",
			false, "not in allow list", "/usr/bin/systemctl stop nginx"},
		{"allow regex is anchored by the admin", withAllow, []string{"systemctl", "status", "nginx", "--now"}, "/usr/bin/systemctl",
			false, "not in allow list", "/usr/bin/systemctl status nginx --now"},
		{"form 1: argv[0] as given", withAllow, []string{"/usr/sbin/service", "nginx", "reload"}, "/usr/sbin/service",
			true, `allow[1] "^/usr/sbin/service "`, "/usr/sbin/service nginx reload"},
		{"form 2: resolved path (regex)", withAllow, []string{"service", "nginx", "reload"}, "/usr/sbin/service",
			true, `allow[1] "^/usr/sbin/service "`, "/usr/sbin/service nginx reload"},
		{"form 2: resolved path (exact)", withAllow, []string{"journalctl", "-u", "nginx"}, "/usr/bin/journalctl",
			true, "allow_exact[2]", "/usr/bin/journalctl -u nginx"},
		{"form 3: base of resolved (regex)", withAllow, []string{"/usr/bin/systemctl", "restart", "nginx"}, "/usr/bin/systemctl",
			false, "deny_exact[0]", "systemctl restart nginx"},
		{"absolute argv[0] shown as given", withAllow, []string{"/usr/bin/systemctl", "stop", "nginx"}, "/usr/bin/systemctl",
			false, "not in allow list", "/usr/bin/systemctl stop nginx"},
		{"form 3: base of resolved (allow)", withAllow, []string{"/usr/bin/systemctl", "status", "cron"}, "/usr/bin/systemctl",
			true, `allow[0] "^systemctl (restart|status) [a-z]+$"`, "systemctl status cron"},
		{"form 3: base of resolved (exact)", withAllow, []string{"/usr/bin/apt-get", "update"}, "/usr/bin/apt-get",
			true, "allow_exact[0]", "apt-get update"},
		{"resolved unknown", withAllow, []string{"apt-get", "update"}, "",
			true, "allow_exact[0]", "apt-get update"},
		{"allow_exact overrides builtin", withAllow, []string{"bash", "/opt/backup.sh"}, "/usr/bin/bash",
			true, "allow_exact[3]", "bash /opt/backup.sh"},
		{"builtin beats allow regex", mustParse(t, `{"allow": ["^"]}`), []string{"bash"}, "/usr/bin/bash",
			false, "builtin:shell", "/usr/bin/bash"},
		{"deny-only policy allows the rest", denyOnly, []string{"systemctl", "stop", "nginx"}, "/usr/bin/systemctl",
			true, "allow (no allow list)", "/usr/bin/systemctl stop nginx"},
		{"deny-only policy denies", denyOnly, []string{"reboot"}, "/usr/sbin/reboot",
			false, `deny[0] "^reboot"`, "reboot"},
		{"nil policy allows", nil, []string{"systemctl", "restart", "nginx"}, "/usr/bin/systemctl",
			true, "allow (no allow list)", "/usr/bin/systemctl restart nginx"},
		{"nil policy applies builtin", nil, []string{"sudo", "-s"}, "/usr/bin/sudo",
			false, "builtin:privilege-tool", "/usr/bin/sudo -s"},
		{"empty argv", withAllow, nil, "",
			false, "empty command", ""},
		{"empty argv[0]", nil, []string{""}, "",
			false, "empty command", ""},
		{"quoted subject", denyOnly, []string{"touch", "a b", "it's"}, "/usr/bin/touch",
			true, "allow (no allow list)", `/usr/bin/touch 'a b' 'it'"'"'s'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.p.Decide(tt.argv, tt.resolved)
			if d.Allowed != tt.allowed || d.Rule != tt.rule || d.Subject != tt.subject {
				t.Errorf("Decide(%q, %q) = {Allowed:%v Rule:%q Subject:%q}, want {Allowed:%v Rule:%q Subject:%q}",
					tt.argv, tt.resolved, d.Allowed, d.Rule, d.Subject, tt.allowed, tt.rule, tt.subject)
			}
			if d.Reason == "" || strings.HasSuffix(d.Reason, ".") {
				t.Errorf("Reason = %q, want one sentence without a final period", d.Reason)
			}
			if tt.p != nil && tt.rule != "empty command" && !strings.Contains(d.Reason, "/etc/test/command-policy.json") {
				t.Errorf("Reason = %q, want it to name the policy file", d.Reason)
			}
		})
	}
}

func TestNamesExactly(t *testing.T) {
	p := mustParse(t, `{
		"allow_exact": [["sudo", "-u", "postgres", "psql"], ["sudo", "-i"], ["sudo", "-s"]],
		"deny": ["^sudo -i"],
		"deny_exact": [["sudo", "-s"]]
	}`)
	tests := []struct {
		p    *Policy
		argv []string
		want bool
	}{
		{p, []string{"sudo", "-u", "postgres", "psql"}, true},
		{p, []string{"sudo", "-u", "postgres", "psql", "-c", "x"}, false},
		{p, []string{"sudo", "-u", "postgres"}, false},
		{p, []string{"sudo", "-i"}, false}, // deny wins
		{p, []string{"sudo", "-s"}, false}, // deny_exact wins
		{p, nil, false},
		{nil, []string{"sudo", "-s"}, false},
	}
	for _, tt := range tests {
		if got := tt.p.NamesExactly(tt.argv); got != tt.want {
			t.Errorf("NamesExactly(%q) = %v, want %v", tt.argv, got, tt.want)
		}
	}
}
