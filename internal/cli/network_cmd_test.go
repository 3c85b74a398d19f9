package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/sockets/sockettest"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// TestHelperProcess is not a test: it is the entry point of socket helper
// processes (sockettest).
func TestHelperProcess(t *testing.T) {
	sockettest.HelperMain()
}

// netEnv points clawwarden at an empty state directory and returns it.
// Only assess_cmd_test.go still uses it with runCLI, until its tests take an
// environment of their own (see run).
func netEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("OPENCLAW_STATE_DIR", filepath.Join(dir, "state"))
	t.Setenv("OPENCLAW_CYBER_SKILL_DIR", "")
	return filepath.Join(dir, "state")
}

// runCLI is run with the test process's environment (see netEnv).
func runCLI(args ...string) (code int, stdout, stderr string) {
	return run(os.Environ(), args...)
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func findPortFinding(r ports.Report, proto, bind string, port uint16) *ports.Finding {
	for i, f := range r.Findings {
		if f.Protocol == proto && f.BindAddress == bind && f.Port == port {
			return &r.Findings[i]
		}
	}
	return nil
}

// nsRun runs clawwarden (cw, a copy of the test binary named clawwarden:
// see TestMain) with args inside ns, through wrapper if any, with the given
// environment additions.
func nsRun(t *testing.T, ns *sockettest.Netns, cw string, env []string, wrapper []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmdArgs := append(append(slices.Clone(wrapper), cw), args...)
	cmd := ns.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// TestPortsNetns runs an OpenClaw-gateway-like process named node in a fresh
// network namespace, with the gateway on 0.0.0.0:18789, telnet and snmp on a
// non-loopback address and approved loopback services, and checks the
// findings of `clawwarden ports` run inside the namespace, with both
// scanners, as root and as an unprivileged user.
func TestPortsNetns(t *testing.T) {
	t.Parallel()
	ns := sockettest.NewNetns(t)
	ns.AddAddr("10.200.31.1/24")
	node := sockettest.CopyTestBinary(t, "node")
	cw := sockettest.CopyTestBinary(t, "clawwarden")
	h := sockettest.StartHelper(t, ns.Command(node, sockettest.HelperArgs()...),
		"listen tcp 0.0.0.0:18789",
		"listen tcp 127.0.0.1:18792",
		"listen tcp 10.200.31.1:23",
		"listen udp 10.200.31.1:161",
		"listen tcp [::1]:6379",
	)
	state := t.TempDir()
	os.Chmod(state, 0o755)
	approved := filepath.Join(state, "approved_ports.json")
	writeFile(t, approved, `[
  {"port": 18789, "protocol": "tcp", "command": "node", "comment": "OpenClaw gateway"},
  {"port": 18792, "protocol": "tcp", "command": "node", "comment": "browser control"},
  {"port": 6379, "protocol": "tcp", "comment": "cache on loopback"}
]`, 0o644)
	env := []string{"HOME=" + state, "OPENCLAW_STATE_DIR=" + filepath.Join(state, "openclaw"), "OPENCLAW_CYBER_SKILL_DIR="}

	type want struct {
		flags  []string
		risk   string
		status string
		text   string
	}
	wants := map[string]want{
		"tcp 0.0.0.0:18789":    {[]string{"public"}, "high", "partial", "openclaw config set gateway.bind loopback"},
		"tcp 10.200.31.1:23":   {[]string{"unapproved", "insecure", "public"}, "critical", "violation", "SSH"},
		"udp 10.200.31.1:161":  {[]string{"unapproved", "insecure", "public"}, "high", "violation", "SNMPv3"},
		"tcp 127.0.0.1:18792":  {},
		"tcp [::1]:6379":       {},
		"(listeners in total)": {},
	}
	for _, scanner := range []string{"netlink", "procfs"} {
		t.Run(scanner, func(t *testing.T) {
			code, out, errOut := nsRun(t, ns, cw, env, nil, "ports", "--json", "--approved", approved, "--scanner", scanner)
			if code != ExitFindings {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, errOut)
			}
			var rep ports.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if rep.Scanner != scanner || !rep.CompleteAttribution || len(rep.Listeners) != len(wants)-1 {
				t.Errorf("got scanner %s complete %v listeners %d; want %s, true, %d", rep.Scanner, rep.CompleteAttribution, len(rep.Listeners), scanner, len(wants)-1)
			}
			for _, l := range rep.Listeners {
				if l.PID == nil || *l.PID != h.PID || l.Process != "node" || filepath.Base(l.Exe) != "node" {
					t.Errorf("listener %s:%d: owner pid %v %q %q, want helper %d node", l.BindAddress, l.Port, l.PID, l.Process, l.Exe, h.PID)
				}
			}
			got := map[string]ports.Finding{}
			for _, f := range rep.Findings {
				got[f.Protocol+" "+endpoint(f.BindAddress, f.Port)] = f
			}
			for key, w := range wants {
				f, ok := got[key]
				if ok != (w.flags != nil) {
					t.Errorf("%s: flagged %v, want %v", key, ok, w.flags != nil)
					continue
				}
				if !ok {
					continue
				}
				if !slices.Equal(f.Flags, w.flags) || f.Risk != w.risk || f.Status != w.status || !strings.Contains(f.Mitigation, w.text) {
					t.Errorf("%s: got flags %v risk %s status %s mitigation %q; want %v %s %s and %q", key, f.Flags, f.Risk, f.Status, f.Mitigation, w.flags, w.risk, w.status, w.text)
				}
			}
			if _, err := os.Stat(filepath.Join(state, "openclaw", "skills", "cyber-security-engineer", "assessments", ports.ReportFile)); err != nil {
				t.Errorf("report not written: %v", err)
			}
		})
	}

	t.Run("human", func(t *testing.T) {
		code, out, _ := nsRun(t, ns, cw, env, nil, "ports", "--approved", approved, "--no-write")
		lines := strings.Split(out, "\n")
		if code != ExitFindings || !strings.HasPrefix(lines[0], "ports: 3 of 5 listeners flagged (unapproved 2, insecure 2, public 3; scanner netlink)") {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
		for _, w := range []string{"high      tcp    0.0.0.0:18789", "node (pid ", "  fix: Bind the OpenClaw gateway to loopback", "critical  tcp    10.200.31.1:23", "unapproved,insecure,public"} {
			if !strings.Contains(out, w) {
				t.Errorf("output does not contain %q:\n%s", w, out)
			}
		}
	})

	t.Run("unprivileged", func(t *testing.T) {
		if _, err := exec.LookPath("setpriv"); err != nil {
			testenv.Skip(t, "needs setpriv (util-linux)")
		}
		// t.TempDir's parents are private to root: use a traversable one.
		base, err := os.MkdirTemp("", "cwtest-nobody-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(base) })
		os.Chmod(base, 0o755)
		approved := filepath.Join(base, "approved_ports.json")
		data, _ := os.ReadFile(filepath.Join(state, "approved_ports.json"))
		writeFile(t, approved, string(data), 0o644)
		home := filepath.Join(base, "home")
		if err := os.Mkdir(home, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chown(home, 65534, 65534)
		nobodyEnv := []string{"HOME=" + home, "OPENCLAW_STATE_DIR=" + filepath.Join(home, "openclaw"), "OPENCLAW_CYBER_SKILL_DIR="}
		asNobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
		code, out, errOut := nsRun(t, ns, cw, nobodyEnv, asNobody, "ports", "--json", "--approved", approved)
		if code != ExitFindings {
			t.Fatalf("exit %d; stderr:\n%s", code, errOut)
		}
		var rep ports.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if rep.CompleteAttribution || !strings.Contains(rep.AttributionNote, "without root") || !strings.Contains(errOut, "note: 5 socket(s) belong to processes of other users") {
			t.Errorf("got complete %v note %q; stderr:\n%s", rep.CompleteAttribution, rep.AttributionNote, errOut)
		}
		for _, l := range rep.Listeners {
			if l.PID != nil || l.Process != "unknown" || l.UID == nil || *l.UID != 0 {
				t.Errorf("listener %s:%d: got pid %v process %q uid %v; want unknown root-owned", l.BindAddress, l.Port, l.PID, l.Process, l.UID)
			}
		}
		// The gateway is public whoever runs the scan; the approved entry
		// naming "node" cannot match an unknown process.
		f := findPortFinding(rep, "tcp", "0.0.0.0", 18789)
		if f == nil || !slices.Equal(f.Flags, []string{"unapproved", "public"}) || f.Risk != "high" {
			t.Errorf("gateway finding as nobody: %+v", f)
		}
	})

	t.Run("clean namespace", func(t *testing.T) {
		clean := sockettest.NewNetns(t)
		sockettest.StartHelper(t, clean.Command(node, sockettest.HelperArgs()...), "listen tcp 127.0.0.1:18789")
		code, out, errOut := nsRun(t, clean, cw, env, nil, "ports", "--approved", approved, "--no-write")
		if code != ExitOK || !strings.HasPrefix(out, "ports: 1 listeners, nothing flagged") {
			t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	})
}

// TestEgressNetns connects a process named curl in one namespace to servers
// in another over a veth pair, and checks `clawwarden egress` in the client
// namespace: allowed by CIDR, by host (a name from the namespace's hosts
// file), by host_regex over the confirmed reverse name, and not allowed.
func TestEgressNetns(t *testing.T) {
	t.Parallel()
	client := sockettest.NewNetns(t)
	server := sockettest.NewNetns(t)
	sockettest.Link(t, client, server, "10.200.32.1/24", "10.200.32.2/24")
	// ip netns exec mounts these over /etc/hosts and /etc/resolv.conf for
	// commands in the client namespace; no DNS server is reachable there.
	client.SetEtc("hosts", "127.0.0.1 localhost\n10.200.32.2 svc.cwtest.internal\n")
	client.SetEtc("resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

	exe := sockettest.CopyTestBinary(t, "curl")
	cw := sockettest.CopyTestBinary(t, "clawwarden")
	sockettest.StartHelper(t, server.Command(exe, sockettest.HelperArgs()...),
		"listen tcp 10.200.32.2:443", "listen tcp 10.200.32.2:8443", "listen tcp 10.200.32.2:9000", "listen udp 10.200.32.2:5353")
	h := sockettest.StartHelper(t, client.Command(exe, sockettest.HelperArgs()...),
		"dial tcp 10.200.32.2:443", "dial tcp 10.200.32.2:8443", "dial tcp 10.200.32.2:9000", "dial udp 10.200.32.2:5353",
		"listen tcp 127.0.0.1:7000", "dial tcp 127.0.0.1:7000")

	state := t.TempDir()
	allow := filepath.Join(state, "egress_allowlist.json")
	writeFile(t, allow, `[
  {"protocol": "tcp", "cidr": "10.200.32.0/24", "port": 443, "comment": "by CIDR"},
  {"protocol": "tcp", "host": "svc.cwtest.internal", "port": 8443, "command": "curl", "comment": "by host"},
  {"protocol": "udp", "host_regex": "svc\\.cwtest\\.internal", "port": 5353, "comment": "by confirmed reverse name"}
]`, 0o600)
	env := []string{"HOME=" + state, "OPENCLAW_STATE_DIR=" + filepath.Join(state, "openclaw"), "OPENCLAW_CYBER_SKILL_DIR="}

	code, out, errOut := nsRun(t, client, cw, env, nil, "egress", "--json", "--allowlist", allow)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, errOut)
	}
	var rep egress.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, c := range rep.Connections {
		v := "flagged"
		if c.Allowed {
			v = fmt.Sprintf("allowed by %d", *c.AllowedBy)
		}
		if c.PID == nil || *c.PID != h.PID || c.Process != "curl" {
			t.Errorf("%s -> %s:%d: owner %v %q, want helper %d curl", c.LocalAddress, c.RemoteAddress, c.RemotePort, c.PID, c.Process, h.PID)
		}
		got[fmt.Sprintf("%s %s:%d %s", c.Protocol, c.RemoteAddress, c.RemotePort, strings.Join(c.Names, ","))] = v
	}
	want := map[string]string{
		"tcp 10.200.32.2:443 svc.cwtest.internal":  "allowed by 0",
		"tcp 10.200.32.2:8443 svc.cwtest.internal": "allowed by 1",
		"tcp 10.200.32.2:9000 svc.cwtest.internal": "flagged",
		"udp 10.200.32.2:5353 svc.cwtest.internal": "allowed by 2",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("connections:\n got %v\nwant %v", got, want)
	}
	if len(rep.Findings) != 1 {
		t.Fatalf("got %d findings, want 1:\n%s", len(rep.Findings), out)
	}
	f := rep.Findings[0]
	if f.RemoteAddress != "10.200.32.2" || f.Port != 9000 || f.Process != "curl" || f.PID == nil || *f.PID != h.PID ||
		!strings.Contains(f.Mitigation, `"host":"svc.cwtest.internal"`) || !strings.Contains(f.Evidence, "curl (pid") {
		t.Errorf("finding: %+v", f)
	}
	if _, err := os.Stat(filepath.Join(state, "openclaw", "skills", "cyber-security-engineer", "assessments", egress.ReportFile)); err != nil {
		t.Errorf("report not written: %v", err)
	}

	// The human output names the process and the destination.
	code, out, _ = nsRun(t, client, cw, env, nil, "egress", "--allowlist", allow, "--no-write")
	if code != ExitFindings || !strings.HasPrefix(out, "egress: 1 of 4 outbound connections not allowed") ||
		!strings.Contains(out, "10.200.32.2:9000  svc.cwtest.internal  curl (pid") || !strings.Contains(out, "  fix: If curl should reach 10.200.32.2:9000") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}

	// Without an allowlist every destination is flagged, and the output says so.
	code, out, errOut = nsRun(t, client, cw, env, nil, "egress", "--json", "--no-write")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if code != ExitFindings || len(rep.Findings) != 4 || !rep.AllowlistMissing || !strings.Contains(errOut, "every destination is flagged") {
		t.Errorf("no allowlist: exit %d, %d findings, missing %v; stderr:\n%s", code, len(rep.Findings), rep.AllowlistMissing, errOut)
	}
}
