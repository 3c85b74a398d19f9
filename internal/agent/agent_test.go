package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

func TestIsGateway(t *testing.T) {
	for _, tt := range []struct {
		comm string
		argv []string
		want bool
	}{
		{"openclaw-gatewa", []string{"openclaw-gateway"}, true},
		{"node", []string{"openclaw-gateway", "--port", "18789"}, true},
		{"node", []string{"/usr/bin/node", "/usr/lib/node_modules/openclaw/openclaw.mjs", "gateway", "run"}, true},
		{"openclaw", []string{"openclaw", "gateway", "--port", "18789"}, true},
		{"openclaw", []string{"openclaw", "--dev", "gateway"}, true},
		{"openclaw", []string{"openclaw", "config", "get", "gateway"}, false},
		{"node", []string{"/usr/bin/node", "/srv/app/server.js", "gateway"}, false},
		{"bash", []string{"bash"}, false},
		{"sshd", nil, false},
	} {
		if got := IsGateway(tt.comm, tt.argv); got != tt.want {
			t.Errorf("IsGateway(%q, %q) = %v, want %v", tt.comm, tt.argv, got, tt.want)
		}
	}
}

func TestDetectEnvironment(t *testing.T) {
	env := map[string]string{"OPENCLAW_SHELL": "exec"}
	c := Detect(func(k string) string { return env[k] }, nil)
	if !c.Agent || !strings.Contains(c.Why, "OPENCLAW_SHELL=exec") {
		t.Errorf("Detect with OPENCLAW_SHELL=exec = %+v", c)
	}
	env["OPENCLAW_SHELL"] = "tui-local"
	if c := Detect(func(k string) string { return env[k] }, nil); c.Agent {
		t.Errorf("Detect with OPENCLAW_SHELL=tui-local = %+v", c)
	}
}

// TestDetectProcessTree runs this test binary as a child of a real process
// whose name is openclaw-gateway (a copy of /bin/sh under that name), and
// checks that the child sees the gateway among its ancestors.
func TestDetectProcessTree(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the process tree is read from /proc (Linux)")
	}
	if os.Getenv("CLAWWARDEN_AGENT_CHILD") == "1" {
		c := Detect(func(string) string { return "" }, nil)
		if !c.Agent {
			os.Exit(3)
		}
		os.Stdout.WriteString(c.Why)
		os.Exit(0)
	}
	if c := Detect(func(string) string { return "" }, nil); c.Agent {
		t.Fatalf("the test itself runs under a gateway? %+v", c)
	}
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		testenv.Skip(t, "no /bin/sh")
	}
	gw := filepath.Join(t.TempDir(), "openclaw-gateway")
	if err := os.WriteFile(gw, sh, 0o755); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	cmd := exec.Command(gw, "-c", `"$0" -test.run '^TestDetectProcessTree$'; exit $?`, self)
	cmd.Env = append(os.Environ(), "CLAWWARDEN_AGENT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child under openclaw-gateway did not detect it: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "descends from an OpenClaw gateway (openclaw-gatewa") {
		t.Errorf("evidence: %s", out)
	}
}
