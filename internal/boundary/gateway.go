package boundary

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
)

// The OpenClaw gateway's unit name prefix, and its process title as the
// kernel keeps it (comm is cut at 15 bytes).
const (
	gatewayUnit = "openclaw-gateway"
	gatewayComm = "openclaw-gatewa"
)

// nnpImplied are the settings that make systemd set no_new_privs for a
// service that does not run as root, whatever NoNewPrivileges= says
// (systemd.exec(5), NoNewPrivileges=).
var nnpImplied = []string{"DynamicUser", "LockPersonality", "MemoryDenyWriteExecute", "PrivateDevices", "ProtectClock",
	"ProtectHostname", "ProtectKernelLogs", "ProtectKernelModules", "ProtectKernelTunables", "RestrictAddressFamilies",
	"RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID", "SystemCallArchitectures", "SystemCallFilter", "SystemCallLog"}

// checkGateway reports how the OpenClaw gateway is run: system units
// openclaw-gateway*.service, user units of that name in any account's
// ~/.config/systemd/user, and running processes titled openclaw-gateway.
func (c *checker) checkGateway() {
	isGateway := func(n string) bool { return strings.HasPrefix(n, gatewayUnit) && strings.HasSuffix(n, ".service") }
	n := 0
	for _, u := range c.units {
		if isGateway(u.name) {
			n++
			c.gatewayUnit(u)
		}
	}
	homes := map[string]bool{}
	for _, e := range c.passwd() {
		h := path.Clean("/" + e.home)
		if h == "/" || h == "/nonexistent" || homes[h] {
			continue
		}
		homes[h] = true
		for _, u := range c.loadUnits([]string{path.Join(h, ".config/systemd/user")}, isGateway) {
			n++
			u.owner = e.name
			c.gatewayUnit(u)
		}
	}
	c.evidence("gateway units: %d found (system units %s*.service, and user units in every account's ~/.config/systemd/user)", n, gatewayUnit)
	c.gatewayProcesses()
}

// gatewayUnit checks one gateway unit: who it runs as, and whether it sets
// no_new_privs.
func (c *checker) gatewayUnit(u *unit) {
	name := c.acct.name
	reload, restart := "systemctl daemon-reload", "systemctl restart "+u.name
	runner, unprivileged := "", true
	if u.owner != "" {
		runner = u.owner
		reload = fmt.Sprintf("systemctl --user -M %s@ daemon-reload", u.owner)
		restart = fmt.Sprintf("systemctl --user -M %s@ restart %s", u.owner, u.name)
	} else {
		runner = "root"
		if usr := u.last("User"); usr != nil {
			runner = usr.value
		}
		if d := u.last("DynamicUser"); d != nil && isTrue(d.value) {
			runner = "a dynamic user"
		}
		unprivileged = !c.isRootName(runner)
	}
	if !c.isAccount(runner) {
		detail := fmt.Sprintf("the gateway unit %s runs the gateway as %s, not %s: the agent then acts as %s, outside the boundary enforced mode draws around %s",
			c.host(u.file), runner, name, runner, name)
		fix := fmt.Sprintf("set User=%s and Group=%s in %s, then %s && %s", name, name, c.host(u.file), reload, restart)
		if u.owner != "" {
			detail = fmt.Sprintf("the gateway unit %s is a user unit of %s, so the gateway runs as %s, not %s: the agent then acts as %s, outside the boundary",
				c.host(u.file), u.owner, u.owner, name, u.owner)
			fix = fmt.Sprintf("systemctl --user -M %s@ disable --now %s, then install the unit under ~%s/.config/systemd/user and systemctl --user -M %s@ enable --now %s (loginctl enable-linger %s)",
				u.owner, u.name, name, name, u.name, name)
		}
		c.find(KindGatewayUser, detail, fix)
	}
	nnp := func(e *unitEntry, why, reset string) {
		c.find(KindNoNewPrivileges, fmt.Sprintf("%s sets %s=%s for the gateway (%s): %s, so sudo cannot gain root from the gateway or anything it starts, and the helper cannot run",
			u.name, e.key, e.value, e.origin, why),
			fmt.Sprintf("remove %s= at %s (or reset it in a drop-in with `%s`), then %s && %s", e.key, e.origin, reset, reload, restart))
	}
	if e := u.last("NoNewPrivileges"); e != nil && isTrue(e.value) {
		nnp(e, "the kernel's no_new_privs flag ignores setuid bits", "NoNewPrivileges=no")
	}
	if unprivileged {
		for _, k := range nnpImplied {
			if e := u.last(k); e != nil && !isFalse(e.value) {
				nnp(e, "for a service that does not run as root this implies NoNewPrivileges=yes", k+"=")
			}
		}
	}
	if e := u.last("PrivateUsers"); e != nil && !isFalse(e.value) {
		nnp(e, "in its own user namespace root is not mapped, so setuid root does not take effect", "PrivateUsers=no")
	}
	for _, e := range u.list("SecureBits") {
		if strings.Contains(e.value, "noroot") {
			nnp(&e, "with the noroot secure bit, running a setuid-root program grants no capabilities", "SecureBits=")
		}
	}
}

// gatewayProcesses reports running gateway processes that are not the
// account, or that run with no_new_privs.
func (c *checker) gatewayProcesses() {
	proc := c.full("/proc")
	ents, err := os.ReadDir(proc)
	if err != nil {
		c.incomplete("gateway processes: %v", err)
		return
	}
	n := 0
	for _, e := range ents {
		pid := e.Name()
		if !isNumber(pid) {
			continue
		}
		comm, _ := os.ReadFile(path.Join(proc, pid, "comm"))
		cmdline, _ := os.ReadFile(path.Join(proc, pid, "cmdline"))
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		title := strings.TrimSpace(string(comm))
		if title != gatewayComm && title != gatewayUnit && path.Base(strings.Fields(argv0 + " x")[0]) != gatewayUnit {
			continue
		}
		status, err := os.ReadFile(path.Join(proc, pid, "status"))
		if err != nil {
			continue // gone
		}
		n++
		var uids []string
		nnp := false
		for line := range strings.SplitSeq(string(status), "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch k {
			case "Uid":
				uids = strings.Fields(v)
			case "NoNewPrivs":
				nnp = strings.TrimSpace(v) == "1"
			}
		}
		other := ""
		for _, u := range uids {
			if id, err := strconv.ParseUint(u, 10, 32); err == nil && uint32(id) != c.acct.uid {
				other = c.userName(uint32(id))
				break
			}
		}
		where := fmt.Sprintf("process %s (%s, %s)", pid, title, c.host("/proc/"+pid))
		switch {
		case other != "":
			c.find(KindGatewayUser, fmt.Sprintf("%s is the gateway running as %s (uids %s), not %s: the agent then acts as %s, outside the boundary",
				where, other, strings.Join(uids, " "), c.acct.name, other),
				fmt.Sprintf("stop it (kill %s and disable what starts it) and start the gateway as %s", pid, c.acct.name))
		case nnp:
			c.find(KindNoNewPrivileges, fmt.Sprintf("%s is the gateway running as %s with no_new_privs set (NoNewPrivs: 1 in its status): sudo cannot gain root from it or anything it starts",
				where, c.acct.name),
				"remove what sets it (NoNewPrivileges= or a setting that implies it in the gateway's unit, a container runtime's no-new-privileges, setpriv --no-new-privs) and restart the gateway")
		}
	}
	c.evidence("gateway processes: %d titled %s found in %s", n, gatewayUnit, proc)
}
