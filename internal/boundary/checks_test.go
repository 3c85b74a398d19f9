package boundary

import (
	"context"
	"strings"
	"testing"
)

func TestCleanRoot(t *testing.T) {
	root := newRoot(t,
		node{path: "tmp", dir: true, mode: fsMode(0o1777)},
		node{path: "home/cwb-agent/work/notes", content: "x", uid: agentUID, gid: agentGID},
		node{path: "usr/local/bin/tool", content: "#!/bin/sh\n", mode: 0o755},
	)
	r := check(t, root)
	expect(t, r, root)
	if !r.Clean() {
		t.Error("Clean() = false without findings")
	}
	if r.UID != agentUID || strings.Join(r.Groups, ",") != "cwb-agent,adm,kvm,agents" {
		t.Errorf("UID, Groups = %d, %q", r.UID, r.Groups)
	}
}

func TestAccount(t *testing.T) {
	root := newRoot(t)
	r := Check(context.Background(), Options{Account: "cwb-nobody", Helper: DefaultHelper, Root: root, Sudo: notAllowed})
	expect(t, r, root, want{kind: KindUnverified, detail: []string{`cannot check account "cwb-nobody": no such account in $ROOT/etc/passwd`}})
	r = Check(context.Background(), Options{Account: agent, Helper: "clawwarden-root", Root: root, Sudo: notAllowed})
	expect(t, r, root, want{kind: KindUnverified, detail: []string{"not absolute"}})

	root = newRoot(t, node{path: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\ncwb-agent:x:0:4242::/nonexistent:/bin/sh\n"})
	r = check(t, root)
	if len(r.Findings) == 0 || r.Findings[0].Kind != KindRootAccount {
		t.Errorf("uid 0 account: findings %+v, want %s first", r.Findings, KindRootAccount)
	}
}

func TestGroups(t *testing.T) {
	member := func(group string, names ...string) *strings.Replacer {
		return strings.NewReplacer(group+":\n", group+":"+strings.Join(names, ",")+"\n")
	}
	tests := []struct {
		name   string
		passwd string
		group  string
		want   []want
	}{
		{name: "harmless groups (adm, kvm, incus)", group: baseGroup + "incus:x:996:cwb-agent\n"},
		{name: "docker, disk and lxd", group: member("docker:x:998", "cwb-agent").Replace(member("disk:x:6", "cwb-other", "cwb-agent").Replace(baseGroup)) + "lxd:x:997:cwb-other,cwb-agent\n",
			want: []want{
				{kind: KindGroup, detail: []string{"cwb-agent is a member of group docker (gid 998) in $ROOT/etc/group", "Docker daemon"}, fix: []string{"gpasswd -d cwb-agent docker"}},
				{kind: KindGroup, detail: []string{"group disk (gid 6)", "raw block devices"}, fix: []string{"gpasswd -d cwb-agent disk"}},
				{kind: KindGroup, detail: []string{"group lxd"}, fix: []string{"gpasswd -d cwb-agent lxd"}},
			}},
		{name: "primary group sudo", passwd: strings.Replace(basePasswd, "cwb-agent:x:4242:4242:", "cwb-agent:x:4242:27:", 1), group: baseGroup,
			want: []want{{kind: KindGroup, detail: []string{"cwb-agent's primary group in $ROOT/etc/passwd is sudo (gid 27)"}, fix: []string{"usermod -g cwb-agent cwb-agent"}}}},
		{name: "primary group root, no own group", passwd: strings.Replace(basePasswd, "cwb-agent:x:4242:4242:", "cwb-agent:x:4242:0:", 1),
			group: strings.Replace(baseGroup, "cwb-agent:x:4242:\n", "", 1),
			want:  []want{{kind: KindGroup, detail: []string{"primary group", "is root (gid 0)"}, fix: []string{"groupadd cwb-agent && usermod -g cwb-agent cwb-agent"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			passwd := tt.passwd
			if passwd == "" {
				passwd = basePasswd
			}
			root := newRoot(t, node{path: "etc/passwd", content: passwd}, node{path: "etc/group", content: tt.group})
			expect(t, check(t, root), root, tt.want...)
		})
	}
}

func TestSockets(t *testing.T) {
	acl := func(extra ...aclEntry) []aclEntry { return minimalACL(6, 6, 0, 6, extra...) }
	tests := []struct {
		name  string
		group string
		sock  node
		want  []want
	}{
		{name: "root only", sock: node{mode: 0o660}},
		{name: "docker group, agent not in it", sock: node{mode: 0o660, gid: dockerGID}},
		{name: "docker group, agent in it", group: strings.Replace(baseGroup, "docker:x:998:", "docker:x:998:cwb-agent", 1), sock: node{mode: 0o660, gid: dockerGID},
			want: []want{{kind: KindGroup, detail: []string{"group docker"}}}},
		{name: "another group of the agent", sock: node{mode: 0o660, gid: agentsGID},
			want: []want{{kind: KindContainerSocket, detail: []string{"$ROOT/run/docker.sock is group agents with mode 0660"}, fix: []string{"gpasswd -d cwb-agent agents"}}}},
		{name: "world-writable", sock: node{mode: 0o666},
			want: []want{{kind: KindContainerSocket, detail: []string{"world-writable (mode 0666)"}, fix: []string{"chmod o-rw $ROOT/run/docker.sock"}}}},
		{name: "ACL for the agent", sock: node{mode: 0o660, acl: acl(aclEntry{tag: aclUser, perm: 6, id: agentUID})},
			want: []want{{kind: KindDockerSocketACL, detail: []string{"a POSIX ACL entry on $ROOT/run/docker.sock lets cwb-agent connect (u::rw-,u:cwb-agent:rw-,g::rw-,m::rw-,o::---)"},
				fix: []string{"setfacl -x u:cwb-agent $ROOT/run/docker.sock"}}}},
		{name: "ACL for a group of the agent", sock: node{mode: 0o660, acl: acl(aclEntry{tag: aclGroup, perm: 6, id: agentsGID})},
			want: []want{{kind: KindDockerSocketACL, detail: []string{"lets group agents connect"}, fix: []string{"setfacl -x g:agents $ROOT/run/docker.sock"}}}},
		{name: "ACL read-only for the agent", sock: node{mode: 0o640, acl: minimalACL(6, 4, 0, 4, aclEntry{tag: aclUser, perm: 4, id: agentUID})}},
		{name: "ACL masked", sock: node{mode: 0o600, acl: minimalACL(6, 0, 0, 0, aclEntry{tag: aclUser, perm: 6, id: agentUID})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			group := tt.group
			if group == "" {
				group = baseGroup
			}
			s := tt.sock
			s.path, s.sock = "run/docker.sock", true
			root := newRoot(t, node{path: "etc/group", content: group}, s, node{path: "var/run", link: "/run"})
			r := check(t, root)
			expect(t, r, root, tt.want...)
			if ev := strings.Join(r.Evidence, "\n"); !strings.Contains(ev, "container sockets: "+root+"/run/docker.sock") || strings.Contains(ev, "var/run/docker.sock (") {
				t.Errorf("the socket should be listed once, as /run/docker.sock:\n%s", ev)
			}
		})
	}
}

func TestPolkit(t *testing.T) {
	rules := func(name, text string) node {
		return node{path: "etc/polkit-1/rules.d/" + name, content: text}
	}
	pkla := func(text string) node {
		return node{path: "etc/polkit-1/localauthority/50-local.d/x.pkla", content: text}
	}
	tests := []struct {
		name string
		file node
		want []want
	}{
		{name: "Debian's defaults", file: rules("50-default.rules", "polkit.addAdminRule(function(action, subject) {\n    return [\"unix-group:sudo\"];\n});\n")},
		{name: "YES for the account", file: rules("10-agent.rules", "// agent may do anything\npolkit.addRule(function(action, subject) {\n  if (subject.user == \"cwb-agent\") {\n    return polkit.Result.YES;\n  }\n});\n"),
			want: []want{{kind: KindPolkit, detail: []string{"the polkit rule at $ROOT/etc/polkit-1/rules.d/10-agent.rules:2 returns polkit.Result.YES and names cwb-agent", "heuristic"},
				fix: []string{"edit $ROOT/etc/polkit-1/rules.d/10-agent.rules: remove the rule at line 2"}}}},
		{name: "YES for a group of the account", file: rules("10-agents.rules", "polkit.addRule(function(action, subject) {\n  if (action.id == \"org.freedesktop.systemd1.manage-units\" && subject.isInGroup('agents')) return polkit.Result.YES;\n});\n"),
			want: []want{{kind: KindPolkit, detail: []string{"names group agents"}}}},
		{name: "NO for the account", file: rules("10-no.rules", "polkit.addRule(function(action, subject) {\n  if (subject.user == \"cwb-agent\") return polkit.Result.NO;\n});\n")},
		{name: "YES for someone else", file: rules("10-other.rules", "polkit.addRule(function(action, subject) {\n  if (subject.user == \"cwb-other\") return polkit.Result.YES;\n});\npolkit.addRule(function(action, subject) {\n  if (subject.user == \"cwb-agent\") return polkit.Result.AUTH_ADMIN;\n});\n")},
		{name: "admin rule naming the account", file: rules("40-admin.rules", "polkit.addAdminRule(function(action, subject) {\n    return [\"unix-user:cwb-agent\"];\n});\n"),
			want: []want{{kind: KindPolkit, detail: []string{"makes cwb-agent a polkit administrator"}}}},
		{name: "YES for everyone", file: rules("99-open.rules", "polkit.addRule(function(action, subject) {\n    return polkit.Result.YES;\n});\n"),
			want: []want{{kind: KindPolkit, detail: []string{"without testing who asks"}}}},
		{name: "YES for everyone's pkexec", file: rules("99-pkexec.rules", "polkit.addRule(function(action, subject) {\n  if (action.id == \"org.freedesktop.policykit.exec\") return polkit.Result.YES;\n});\n"),
			want: []want{{kind: KindPolkit, detail: []string{"root-equivalent action"}}}},
		{name: "YES for everyone's reboot", file: rules("99-reboot.rules", "polkit.addRule(function(action, subject) {\n  if (action.id == \"org.freedesktop.login1.reboot\") return polkit.Result.YES;\n});\n")},
		{name: "YES for active sessions", file: rules("99-active.rules", "polkit.addRule(function(action, subject) {\n  if (subject.active && subject.local) return polkit.Result.YES;\n});\n")},
		{name: "pkla for the account", file: pkla("[Agent]\nIdentity=unix-user:cwb-agent\nAction=*\nResultAny=yes\n"),
			want: []want{{kind: KindPolkit, detail: []string{"[Agent] at $ROOT/etc/polkit-1/localauthority/50-local.d/x.pkla:1 gives unix-user:cwb-agent ResultAny=yes"}}}},
		{name: "pkla for a group pattern", file: pkla("# x\n[Agents]\nIdentity=unix-user:nobody;unix-group:age*\nAction=org.freedesktop.systemd1.*\nResultInactive=yes\nResultActive=yes\n"),
			want: []want{{kind: KindPolkit, detail: []string{"x.pkla:2", "unix-group:age*", "ResultInactive=yes, ResultActive=yes"}}}},
		{name: "pkla for sudo", file: pkla("[Admins]\nIdentity=unix-group:sudo\nAction=*\nResultActive=yes\n")},
		{name: "pkla saying no", file: pkla("[Agent]\nIdentity=unix-user:cwb-agent\nAction=*\nResultAny=no\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, tt.file)
			expect(t, check(t, root), root, tt.want...)
		})
	}
	t.Run("group already reported", func(t *testing.T) {
		root := newRoot(t, node{path: "etc/group", content: strings.Replace(baseGroup, "sudo:x:27:", "sudo:x:27:cwb-agent", 1)},
			rules("50-default.rules", "polkit.addAdminRule(function(action, subject) {\n    return [\"unix-group:sudo\"];\n});\n"))
		expect(t, check(t, root), root, want{kind: KindGroup, detail: []string{"group sudo"}})
	})
}

func TestDoas(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want []want
	}{
		{name: "others only", conf: "permit :wheel\npermit nopass cwb-other as root cmd /usr/bin/id\n"},
		{name: "the account", conf: "# doas\npermit persist cwb-agent\n",
			want: []want{{kind: KindDoas, detail: []string{`$ROOT/etc/doas.conf:2 "permit persist cwb-agent" lets cwb-agent run any command as root`, "doas is not installed now"},
				fix: []string{"edit $ROOT/etc/doas.conf: remove line 2"}}}},
		{name: "a group, one command, another target", conf: "permit nopass keepenv setenv { PATH LD_PRELOAD } :agents as cwb-other cmd /usr/bin/id args -u\n",
			want: []want{{kind: KindDoas, detail: []string{"run /usr/bin/id as cwb-other"}}}},
		{name: "denied later", conf: "permit cwb-agent\ndeny cwb-agent\n"},
		{name: "deny of one command only", conf: "permit cwb-agent\ndeny cwb-agent cmd /usr/bin/su\n",
			want: []want{{kind: KindDoas, detail: []string{"doas.conf:1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, node{path: "etc/doas.conf", content: tt.conf, mode: 0o400})
			expect(t, check(t, root), root, tt.want...)
		})
	}
}

func TestRootFiles(t *testing.T) {
	tests := []struct {
		name  string
		nodes []node
		want  []want
	}{
		{name: "sudoers.d writable by a group of the agent", nodes: []node{{path: "etc/sudoers.d", dir: true, mode: 0o775, gid: agentsGID}},
			want: []want{{kind: KindRootFile, detail: []string{"root trusts $ROOT/etc/sudoers.d (sudo reads it to decide who is root), and $ROOT/etc/sudoers.d is group-writable by agents (mode 0775)"},
				fix: []string{"chmod g-w $ROOT/etc/sudoers.d"}}}},
		// One finding for /etc, however many paths below it are checked.
		{name: "etc world-writable", nodes: []node{{path: "etc", dir: true, mode: 0o777}, {path: "etc/shadow", content: "", mode: 0o640}},
			want: []want{{kind: KindRootFile, detail: []string{"$ROOT/etc is world-writable (mode 0777)"}, fix: []string{"chmod o-w $ROOT/etc"}}}},
		{name: "the helper owned by the agent", nodes: []node{{path: "usr/local/libexec/clawwarden/clawwarden-root", content: "x", mode: 0o755, uid: agentUID}},
			want: []want{{kind: KindRootFile, detail: []string{"root trusts $ROOT/usr/local/libexec/clawwarden/clawwarden-root (sudo runs it as root for the account)", "owned by cwb-agent"},
				fix: []string{"chown root:root $ROOT/usr/local/libexec/clawwarden/clawwarden-root && chmod go-w"}}}},
		{name: "ld.so.preload creatable through an ACL", nodes: []node{{path: "etc", dir: true, mode: 0o775, acl: minimalACL(7, 5, 5, 7, aclEntry{tag: aclUser, perm: 7, id: agentUID})}},
			want: []want{{kind: KindRootFile, detail: []string{"writable by cwb-agent through a POSIX ACL entry"}, fix: []string{"setfacl -x u:cwb-agent $ROOT/etc"}}}},
		{name: "root's home owned by the agent", nodes: []node{{path: "root", dir: true, mode: 0o700, uid: agentUID}},
			want: []want{{kind: KindRootFile, detail: []string{"$ROOT/root is owned by cwb-agent"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, tt.nodes...)
			r := check(t, root)
			expect(t, r, root, tt.want...)
		})
	}
}

func TestCron(t *testing.T) {
	crontab := func(text string) node {
		return node{path: "etc/crontab", content: "SHELL=/bin/sh\nPATH=/usr/local/bin:/usr/bin:/bin\n" + text}
	}
	tests := []struct {
		name  string
		nodes []node
		want  []want
	}{
		{name: "Debian's crontab", nodes: []node{crontab("17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n" +
			"25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; } >/dev/null 2>&1\n"),
			{path: "etc/cron.hourly", dir: true}, {path: "etc/cron.daily/apt-compat", content: "#!/bin/sh\n", mode: 0o755},
			{path: "dev/null", dev: true, mode: 0o666}, {path: "tmp", dir: true, mode: fsMode(0o1777)}}},
		{name: "a script the agent owns", nodes: []node{crontab("# m h dom mon dow user command\n*/5 * * * * root /opt/app/backup.sh --all > /var/log/backup.log\n"),
			{path: "opt/app/backup.sh", content: "#!/bin/sh\n", mode: 0o755, uid: agentUID}},
			want: []want{{kind: KindCron, detail: []string{"$ROOT/etc/crontab:4 runs `/opt/app/backup.sh --all > /var/log/backup.log` as root, and $ROOT/opt/app/backup.sh is owned by cwb-agent"},
				fix: []string{"chown root:root $ROOT/opt/app/backup.sh && chmod go-w $ROOT/opt/app/backup.sh"}}}},
		{name: "a job of another account", nodes: []node{crontab("* * * * * cwb-other /opt/app/backup.sh\n"),
			{path: "opt/app/backup.sh", content: "#!/bin/sh\n", mode: 0o755, uid: agentUID}}},
		{name: "a bare name found through a writable PATH directory", nodes: []node{{path: "etc/crontab", content: "PATH=/opt/bin:/usr/bin:/bin\n@daily root backup\n"},
			{path: "opt/bin", dir: true, mode: 0o775, gid: agentsGID}, {path: "usr/bin/backup", content: "x", mode: 0o755}},
			want: []want{{kind: KindCron, detail: []string{"$ROOT/etc/crontab:2 runs `backup` as root, and $ROOT/opt/bin/backup does not exist and cwb-agent can create it: $ROOT/opt/bin is group-writable by agents"}}}},
		// A directory that is also in root's PATH is reported once, as a root file.
		{name: "a writable directory of root's PATH", nodes: []node{crontab("@daily root backup\n"),
			{path: "usr/local/bin", dir: true, mode: 0o775, gid: agentsGID}, {path: "usr/bin/backup", content: "x", mode: 0o755}},
			want: []want{{kind: KindRootFile, detail: []string{"root trusts $ROOT/usr/local/bin (root runs programs from it)"}}}},
		{name: "a file the job creates in /tmp", nodes: []node{{path: "etc/cron.d/report", content: "0 * * * * root /usr/bin/report > /tmp/report.txt\n"},
			{path: "tmp", dir: true, mode: fsMode(0o1777)}, {path: "usr/bin/report", content: "x", mode: 0o755}},
			want: []want{{kind: KindCron, detail: []string{"$ROOT/etc/cron.d/report:1 runs", "$ROOT/tmp/report.txt does not exist and cwb-agent can create it: $ROOT/tmp is world-writable"},
				fix: []string{"make root use a path in a directory only root can write instead of $ROOT/tmp/report.txt"}}}},
		{name: "cron.d files with dots are not read", nodes: []node{{path: "etc/cron.d/report.dpkg-old", content: "0 * * * * root /opt/x\n"},
			{path: "opt/x", content: "x", mode: 0o755, uid: agentUID}}},
		{name: "root's crontab and anacrontab", nodes: []node{
			{path: "var/spool/cron/crontabs/root", content: "MAILTO=\"\"\n@reboot /srv/start %input\n", mode: 0o600},
			{path: "etc/anacrontab", content: "SHELL=/bin/sh\n1\t5\tcron.daily\t/srv/daily\n"},
			{path: "srv", dir: true, mode: 0o755, uid: agentUID}},
			want: []want{{kind: KindCron, detail: []string{"$ROOT/var/spool/cron/crontabs/root:2 runs `/srv/start %input` as root", "$ROOT/srv/start does not exist and cwb-agent can create it: $ROOT/srv is owned by cwb-agent"}}}},
		{name: "run-parts scripts", nodes: []node{
			{path: "etc/cron.daily/logrotate", content: "#!/opt/py/bin/python3\n", mode: 0o755},
			{path: "opt/py/bin/python3", content: "x", mode: 0o775, gid: agentsGID},
			{path: "etc/cron.weekly/cleanup", content: "#!/bin/sh\n", mode: 0o757},
			{path: "etc/cron.weekly/skipped.sh", content: "#!/bin/sh\n", mode: 0o777}},
			want: []want{
				{kind: KindCron, detail: []string{"run-parts runs $ROOT/etc/cron.daily/logrotate as root with the interpreter $ROOT/opt/py/bin/python3", "group-writable by agents (mode 0775)"}},
				{kind: KindCron, detail: []string{"run-parts runs $ROOT/etc/cron.weekly/cleanup as root, and $ROOT/etc/cron.weekly/cleanup is world-writable (mode 0757)"}, fix: []string{"chmod o-w $ROOT/etc/cron.weekly/cleanup"}}}},
		{name: "cron.d writable", nodes: []node{{path: "etc/cron.d", dir: true, mode: 0o757}},
			want: []want{{kind: KindCron, detail: []string{"cron runs the crontabs in $ROOT/etc/cron.d, and $ROOT/etc/cron.d is world-writable"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, tt.nodes...)
			expect(t, check(t, root), root, tt.want...)
		})
	}
}

func TestSystemd(t *testing.T) {
	unit := func(p, text string) node { return node{path: p, content: text} }
	tests := []struct {
		name  string
		nodes []node
		want  []want
	}{
		{name: "root unit running root's files", nodes: []node{unit("usr/lib/systemd/system/cron.service", "[Service]\nExecStart=/usr/sbin/cron -f $EXTRA_OPTS\nEnvironmentFile=-/etc/default/cron\n")}},
		{name: "root unit running the agent's file", nodes: []node{unit("etc/systemd/system/app.service", "[Unit]\nDescription=x\n\n[Service]\nExecStartPre=-/usr/bin/true\nExecStart=/opt/app/run --config /opt/app/conf\n"),
			{path: "opt/app/run", content: "x", mode: 0o755}, {path: "opt/app/conf", content: "x", uid: agentUID}},
			want: []want{{kind: KindSystemdUnit, detail: []string{"app.service ($ROOT/etc/systemd/system/app.service:6) runs `/opt/app/run --config /opt/app/conf` as root, and $ROOT/opt/app/conf is owned by cwb-agent"},
				fix: []string{"chown root:root $ROOT/opt/app/conf", "systemctl daemon-reload"}}}},
		{name: "unit of another account", nodes: []node{unit("etc/systemd/system/app.service", "[Service]\nUser=cwb-other\nExecStart=/opt/app/run\n"),
			{path: "opt/app/run", content: "x", mode: 0o755, uid: agentUID}}},
		{name: "privileged prefix in a unit of another account", nodes: []node{unit("etc/systemd/system/app.service", "[Service]\nUser=cwb-other\nExecStartPre=+/opt/app/setup\nExecStart=/opt/app/run\n"),
			{path: "opt/app/setup", content: "x", mode: 0o755, uid: agentUID}, {path: "opt/app/run", content: "x", mode: 0o755, uid: agentUID}},
			want: []want{{kind: KindSystemdUnit, detail: []string{"`+/opt/app/setup` as root", "$ROOT/opt/app/setup is owned by cwb-agent"}}}},
		{name: "drop-in resetting User=", nodes: []node{unit("usr/lib/systemd/system/app.service", "[Service]\nUser=cwb-other\nExecStart=/opt/app/run\n"),
			unit("etc/systemd/system/app.service.d/override.conf", "[Service]\nUser=\n"),
			{path: "opt/app/run", content: "x", mode: 0o755, uid: agentUID}},
			want: []want{{kind: KindSystemdUnit, detail: []string{"app.service ($ROOT/usr/lib/systemd/system/app.service:3) runs `/opt/app/run` as root"}}}},
		{name: "environment file of a root unit", nodes: []node{unit("usr/lib/systemd/system/app.service", "[Service]\nEnvironmentFile=-/home/cwb-agent/app.env\nExecStart=/usr/bin/true\n"),
			{path: "home/cwb-agent", dir: true, uid: agentUID, gid: agentGID}},
			want: []want{{kind: KindSystemdUnit, detail: []string{"runs as root with the environment in $ROOT/home/cwb-agent/app.env", "does not exist and cwb-agent can create it"},
				fix: []string{"move $ROOT/home/cwb-agent/app.env out of cwb-agent's home into a root-owned place"}}}},
		{name: "unit file writable", nodes: []node{{path: "usr/lib/systemd/system/app.service", content: "[Service]\nUser=cwb-other\nExecStart=/usr/bin/true\n", mode: 0o664, gid: agentsGID}},
			want: []want{{kind: KindSystemdUnit, detail: []string{"systemd runs app.service as its unit file", "group-writable by agents"}}}},
		{name: "masked unit", nodes: []node{{path: "etc/systemd/system/app.service", link: "/dev/null"},
			unit("usr/lib/systemd/system/app.service", "[Service]\nExecStart=/opt/app/run\n"), {path: "opt/app/run", content: "x", mode: 0o755, uid: agentUID}}},
		{name: "override in /etc hides /usr/lib", nodes: []node{unit("etc/systemd/system/app.service", "[Service]\nExecStart=/usr/bin/true\n"),
			unit("usr/lib/systemd/system/app.service", "[Service]\nExecStart=/opt/app/run\n"), {path: "opt/app/run", content: "x", mode: 0o755, uid: agentUID}}},
		{name: "bare program in a writable PATH directory", nodes: []node{unit("etc/systemd/system/app.service", "[Service]\nExecStart=app-run\n"),
			{path: "usr/local/sbin", dir: true, mode: 0o777}},
			want: []want{{kind: KindRootFile, detail: []string{"$ROOT/usr/local/sbin is world-writable"}}}},
		{name: "unit directory writable", nodes: []node{{path: "run/systemd/system", dir: true, mode: 0o775, gid: agentsGID}},
			want: []want{{kind: KindSystemdUnit, detail: []string{"systemd loads the units in $ROOT/run/systemd/system", "group-writable by agents"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, tt.nodes...)
			expect(t, check(t, root), root, tt.want...)
		})
	}
}

func TestWalk(t *testing.T) {
	const capSetuid, capNetRaw = 1 << 7, 1 << 13
	tests := []struct {
		name  string
		nodes []node
		want  []want
	}{
		{name: "setuid file of the agent", nodes: []node{{path: "home/cwb-agent/bin/sh", content: "x", mode: fsMode(0o4755), uid: agentUID}},
			want: []want{{kind: KindSetuidOwned, detail: []string{"$ROOT/home/cwb-agent/bin/sh is setuid (mode 4755) and owned by cwb-agent"}, fix: []string{"chmod ug-s $ROOT/home/cwb-agent/bin/sh"}}}},
		{name: "setgid file of the agent", nodes: []node{{path: "opt/tool", content: "x", mode: fsMode(0o2755), uid: agentUID}},
			want: []want{{kind: KindSetuidOwned, detail: []string{"setgid (mode 2755)"}}}},
		{name: "setuid root file", nodes: []node{{path: "usr/local/bin/helper", content: "x", mode: fsMode(0o4755)}}},
		{name: "capabilities on the agent's file", nodes: []node{{path: "home/cwb-agent/ping", content: "x", mode: 0o755, uid: agentUID, caps: encodeCaps(capNetRaw, true)}},
			want: []want{{kind: KindFileCapability, detail: []string{"$ROOT/home/cwb-agent/ping carries file capabilities (cap_net_raw=ep) and is owned by cwb-agent"}, fix: []string{"setcap -r $ROOT/home/cwb-agent/ping"}}}},
		{name: "cap_setuid on a root file the agent may run", nodes: []node{{path: "usr/local/bin/python3", content: "x", mode: 0o755, caps: encodeCaps(capSetuid|capNetRaw, true)}},
			want: []want{{kind: KindFileCapability, detail: []string{"carries cap_setuid=ep and cwb-agent may run it"}}}},
		{name: "cap_setuid on a root file the agent may not run", nodes: []node{{path: "usr/local/bin/python3", content: "x", mode: 0o750, caps: encodeCaps(capSetuid, true)}}},
		{name: "cap_net_raw on a root file", nodes: []node{{path: "opt/ping", content: "x", mode: 0o755, caps: encodeCaps(capNetRaw, true)}}},
		{name: "capabilities on a group-writable file", nodes: []node{{path: "opt/ping", content: "x", mode: 0o775, gid: agentsGID, caps: encodeCaps(capNetRaw, true)}},
			want: []want{{kind: KindFileCapability, detail: []string{"group-writable by agents"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, tt.nodes...)
			expect(t, check(t, root), root, tt.want...)
		})
	}
	t.Run("limit", func(t *testing.T) {
		var nodes []node
		for _, n := range []string{"a", "b", "c", "d", "e"} {
			nodes = append(nodes, node{path: "opt/" + n, content: "x"})
		}
		root := newRoot(t, nodes...)
		r := Check(context.Background(), Options{Account: agent, Helper: DefaultHelper, Root: root, Sudo: notAllowed, WalkLimit: 3})
		if !strings.Contains(strings.Join(r.Incomplete, "\n"), "walk: stopped after 3 entries") {
			t.Errorf("Incomplete = %q, want the walk's truncation", r.Incomplete)
		}
		if !r.Clean() {
			t.Errorf("a truncated walk is not a finding: %+v", r.Findings)
		}
	})
}

func TestGateway(t *testing.T) {
	const home = "home/cwb-agent/.config/systemd/user/"
	proc := func(pid, comm, uid, nnp string) []node {
		return []node{
			{path: "proc/" + pid + "/comm", content: comm + "\n"},
			{path: "proc/" + pid + "/cmdline", content: "openclaw-gateway\x00"},
			{path: "proc/" + pid + "/status", content: "Name:\t" + comm + "\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\nNoNewPrivs:\t" + nnp + "\n"},
		}
	}
	tests := []struct {
		name  string
		nodes []node
		want  []want
	}{
		{name: "user unit of the agent", nodes: []node{{path: home + "openclaw-gateway.service", content: "[Service]\nExecStart=/usr/bin/node gateway\nProtectSystem=strict\n"}}},
		{name: "user unit with NoNewPrivileges", nodes: []node{{path: home + "openclaw-gateway.service", content: "[Service]\nExecStart=/usr/bin/node gateway\nNoNewPrivileges=true\n"}},
			want: []want{{kind: KindNoNewPrivileges, detail: []string{"openclaw-gateway.service sets NoNewPrivileges=true for the gateway ($ROOT/home/cwb-agent/.config/systemd/user/openclaw-gateway.service:3)", "sudo cannot gain root"},
				fix: []string{"remove NoNewPrivileges= at", "NoNewPrivileges=no", "systemctl --user -M cwb-agent@ daemon-reload"}}}},
		{name: "drop-in with an implying setting", nodes: []node{{path: home + "openclaw-gateway.service", content: "[Service]\nExecStart=/usr/bin/node gateway\nNoNewPrivileges=no\n"},
			{path: home + "openclaw-gateway.service.d/harden.conf", content: "[Service]\nSystemCallFilter=@system-service\nRestrictSUIDSGID=yes\nLockPersonality=no\n"}},
			want: []want{
				{kind: KindNoNewPrivileges, detail: []string{"sets SystemCallFilter=@system-service", "harden.conf:2", "implies NoNewPrivileges=yes"}, fix: []string{"`SystemCallFilter=`"}},
				{kind: KindNoNewPrivileges, detail: []string{"sets RestrictSUIDSGID=yes"}}}},
		{name: "system unit for the agent", nodes: []node{{path: "etc/systemd/system/openclaw-gateway.service", content: "[Service]\nUser=cwb-agent\nExecStart=/usr/bin/node gateway\nPrivateUsers=yes\n"}},
			want: []want{{kind: KindNoNewPrivileges, detail: []string{"PrivateUsers=yes", "root is not mapped"}, fix: []string{"systemctl daemon-reload && systemctl restart openclaw-gateway.service"}}}},
		{name: "system unit as root", nodes: []node{{path: "etc/systemd/system/openclaw-gateway@.service", content: "[Service]\nExecStart=/usr/bin/node gateway\nSystemCallFilter=@system-service\n"}},
			want: []want{{kind: KindGatewayUser, detail: []string{"runs the gateway as root, not cwb-agent"}, fix: []string{"set User=cwb-agent and Group=cwb-agent in $ROOT/etc/systemd/system/openclaw-gateway@.service"}}}},
		{name: "user unit of another account", nodes: []node{{path: "home/cwb-other/.config/systemd/user/openclaw-gateway.service", content: "[Service]\nExecStart=/usr/bin/node gateway\n"}},
			want: []want{{kind: KindGatewayUser, detail: []string{"is a user unit of cwb-other, so the gateway runs as cwb-other"}, fix: []string{"systemctl --user -M cwb-other@ disable --now openclaw-gateway.service"}}}},
		{name: "processes", nodes: append(append(append(proc("100", "openclaw-gatewa", "4242", "0"), proc("200", "openclaw-gatewa", "0", "0")...), proc("300", "openclaw-gatewa", "4242", "1")...),
			node{path: "proc/400/comm", content: "bash\n"}, node{path: "proc/400/status", content: "Uid:\t0\t0\t0\t0\n"}, node{path: "proc/self", link: "400"}),
			want: []want{
				{kind: KindGatewayUser, detail: []string{"process 200 (openclaw-gatewa, $ROOT/proc/200) is the gateway running as root (uids 0 0 0 0), not cwb-agent"}, fix: []string{"kill 200"}},
				{kind: KindNoNewPrivileges, detail: []string{"process 300", "no_new_privs set"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, append(tt.nodes, node{path: "home/cwb-agent", dir: true, uid: agentUID, gid: agentGID}, node{path: "home/cwb-other", dir: true, uid: otherUID})...)
			expect(t, check(t, root), root, tt.want...)
		})
	}
}

// TestReportedOnce: one object the account can change is one finding, and
// every other use of it is evidence.
func TestReportedOnce(t *testing.T) {
	root := newRoot(t,
		node{path: "opt/app", dir: true, mode: 0o777},
		node{path: "etc/crontab", content: "* * * * * root /opt/app/a\n* * * * * root /opt/app/b\n"},
		node{path: "etc/systemd/system/app.service", content: "[Service]\nExecStart=/opt/app/c\n"})
	r := check(t, root)
	expect(t, r, root, want{kind: KindCron, detail: []string{"crontab:1 runs `/opt/app/a` as root", "$ROOT/opt/app is world-writable"}, fix: []string{"chmod o-w $ROOT/opt/app"}})
	ev := strings.Join(r.Evidence, "\n")
	for _, s := range []string{"also (reported once above): " + root + "/etc/crontab:2 runs `/opt/app/b`", "also (reported once above): app.service"} {
		if !strings.Contains(ev, s) {
			t.Errorf("evidence lacks %q:\n%s", s, ev)
		}
	}
}

// BenchmarkCheck runs every check but sudo's on the real host, for an
// account without a sudo right.
func BenchmarkCheck(b *testing.B) {
	requireRoot(b)
	b.ReportAllocs()
	for b.Loop() {
		Check(context.Background(), Options{Account: "nobody", Helper: DefaultHelper, Sudo: notAllowed})
	}
}
