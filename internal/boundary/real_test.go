package boundary

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// The real-system tests create the account cwb-agent (and the group docker
// when missing), sudoers drop-ins /etc/sudoers.d/zz-cwb-*, and remove them
// after. They run Check on the real host with the real sudo.

const realAgent = "cwb-agent"

// requireReal skips unless the test runs as root with sudo and the shadow
// tools installed.
func requireReal(t *testing.T) {
	t.Helper()
	requireRoot(t)
	for _, tool := range []string{"useradd", "userdel", "groupadd", "groupdel", "gpasswd", "visudo"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Skip(t, "%s not installed", tool)
		}
	}
	if _, err := realSudo(context.Background(), "-V"); err != nil {
		testenv.Skip(t, "sudo not usable: %v", err)
	}
}

func run(t *testing.T, argv ...string) {
	t.Helper()
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

func groupExists(name string) bool {
	b, err := os.ReadFile("/etc/group")
	return err == nil && strings.Contains("\n"+string(b), "\n"+name+":")
}

// removeAccount removes the account, its home and its group.
func removeAccount(name string) {
	exec.Command("userdel", "-r", name).Run()
	if groupExists(name) {
		exec.Command("groupdel", name).Run()
	}
}

// realAccount creates cwb-agent with a home, removed after the test.
func realAccount(t *testing.T) string {
	t.Helper()
	requireReal(t)
	removeAccount(realAgent) // left over by an interrupted run
	run(t, "useradd", "--create-home", "--shell", "/usr/sbin/nologin", realAgent)
	t.Cleanup(func() {
		removeAccount(realAgent)
		if groupExists(realAgent) {
			t.Errorf("group %s still exists", realAgent)
		}
	})
	return realAgent
}

// dropIn installs /etc/sudoers.d/zz-cwb-NAME after visudo -cf accepts it,
// removed after the test.
func dropIn(t *testing.T, name, text string) string {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), name)
	must(t, os.WriteFile(tmp, []byte(text), 0o440))
	run(t, "visudo", "-cf", tmp)
	p := "/etc/sudoers.d/zz-cwb-" + name
	t.Cleanup(func() { os.Remove(p) })
	must(t, os.WriteFile(p, []byte(text), 0o440))
	return p
}

func realCheck(t *testing.T, name string) Report {
	t.Helper()
	r := Check(context.Background(), Options{Account: name, Helper: DefaultHelper})
	for _, f := range r.Findings {
		t.Logf("finding %s: %s (fix: %s)", f.Kind, f.Detail, f.Fix)
	}
	return r
}

// findingOf returns the first finding of kind whose detail holds sub.
func findingOf(r Report, kind, sub string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Kind == kind && strings.Contains(f.Detail, sub) {
			return f, true
		}
	}
	return Finding{}, false
}

func TestRealDockerGroup(t *testing.T) {
	name := realAccount(t)
	if !groupExists("docker") {
		run(t, "groupadd", "docker")
		t.Cleanup(func() {
			if err := exec.Command("groupdel", "docker").Run(); err != nil {
				t.Errorf("groupdel docker: %v", err)
			}
		})
	}
	run(t, "gpasswd", "-a", name, "docker")
	t.Cleanup(func() { exec.Command("gpasswd", "-d", name, "docker").Run() })
	r := realCheck(t, name)
	f, ok := findingOf(r, KindGroup, "is a member of group docker")
	if !ok {
		t.Fatalf("no group finding for docker")
	}
	if f.Fix != "gpasswd -d cwb-agent docker" {
		t.Errorf("fix = %q", f.Fix)
	}
}

func TestRealSudoRule(t *testing.T) {
	name := realAccount(t)
	p := dropIn(t, "agent", "# temporary: clawwarden internal/boundary test; safe to delete\n"+
		name+" ALL=(root) NOPASSWD: "+DefaultHelper+"\n"+
		name+" ALL=(ALL) NOPASSWD: /usr/bin/id\n")
	r := realCheck(t, name)
	f, ok := findingOf(r, KindSudoRight, "sudo -ll -U cwb-agent lists (ALL) [!authenticate] /usr/bin/id")
	if !ok {
		t.Fatalf("no sudo-right finding for /usr/bin/id")
	}
	if !strings.Contains(f.Detail, "(from "+p+":3)") || !strings.Contains(f.Fix, "visudo -f "+p) {
		t.Errorf("finding does not name %s:3: %+v", p, f)
	}
	if len(r.Findings) != 1 {
		t.Errorf("%d findings, want only the sudo right", len(r.Findings))
	}
}

func TestRealHelperOnly(t *testing.T) {
	name := realAccount(t)
	r := realCheck(t, name)
	if !r.Clean() || !strings.Contains(strings.Join(r.Evidence, "\n"), "sudo -ll -U cwb-agent: no sudo rights") {
		t.Errorf("without rules: Clean() = %v, evidence:\n%s", r.Clean(), strings.Join(r.Evidence, "\n"))
	}
	dropIn(t, "helper", "# temporary: clawwarden internal/boundary test; safe to delete\n"+name+" ALL=(root) NOPASSWD: "+DefaultHelper+"\n")
	r = realCheck(t, name)
	if !r.Clean() {
		t.Errorf("with exactly the helper's rule: not clean")
	}
	if ev := strings.Join(r.Evidence, "\n"); !strings.Contains(ev, "the helper "+DefaultHelper+" is allowed as (root)") {
		t.Errorf("evidence does not say the helper is allowed:\n%s", ev)
	}
}

// TestRealGatewayProcess starts a program named openclaw-gateway as root,
// then as the account with no_new_privs, and finds each in /proc.
func TestRealGatewayProcess(t *testing.T) {
	name := realAccount(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		testenv.Skip(t, "setpriv (util-linux) not installed")
	}
	dir, err := os.MkdirTemp("", "cwb-gateway-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "openclaw-gateway")
	copyFile(t, "/bin/sleep", bin)

	start := func(argv ...string) *exec.Cmd {
		cmd := exec.Command(argv[0], argv[1:]...)
		must(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "comm")); strings.TrimSpace(string(b)) == gatewayComm {
				return cmd
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s did not start", bin)
		return nil
	}
	asRoot := start(bin, "60")
	r := realCheck(t, name)
	if _, ok := findingOf(r, KindGatewayUser, "process "+strconv.Itoa(asRoot.Process.Pid)+" ("+gatewayComm); !ok {
		t.Errorf("no gateway-user finding for the gateway running as root (pid %d)", asRoot.Process.Pid)
	}
	asRoot.Process.Kill()
	asRoot.Wait()

	nnp := start("setpriv", "--reuid="+name, "--regid="+name, "--init-groups", "--no-new-privs", "--", bin, "60")
	r = realCheck(t, name)
	if _, ok := findingOf(r, KindNoNewPrivileges, "process "+strconv.Itoa(nnp.Process.Pid)+" ("+gatewayComm); !ok {
		t.Errorf("no no-new-privileges finding for the gateway running with no_new_privs (pid %d)", nnp.Process.Pid)
	}
	if _, ok := findingOf(r, KindGatewayUser, "process "+strconv.Itoa(nnp.Process.Pid)); ok {
		t.Errorf("the gateway runs as %s, yet a gateway-user finding", name)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	must(t, err)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	must(t, err)
	_, err = io.Copy(out, in)
	must(t, err)
	must(t, out.Close())
}
