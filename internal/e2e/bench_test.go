package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// BenchmarkExecOverhead times, in one run and interleaved, the same
// pre-approved command through `clawwarden exec` and through bare sudo, both
// as the unprivileged test user, and reports the medians and the per-call
// overhead (ms), and the same call through the sudo shim
// (~/.openclaw/bin/sudo, with CLAWWARDEN_KEEP_SESSION=1 so the approval is
// kept) for the shim's overhead over exec. Run it through ./scripts/bench.
func BenchmarkExecOverhead(b *testing.B) {
	u := testenv.RequireUser(b)
	bin := testenv.Binary(b, "")
	home := testenv.Home(b, u)
	env := testenv.Env(home)

	// Pre-approve /usr/bin/true for this session on a real terminal.
	c := testenv.Start(b, testenv.Command(u, env, home, bin, "exec", "--keep-session", "--", "/usr/bin/true"))
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	if code := c.Wait(); code != 0 {
		b.Fatalf("pre-approval: exit %d:\n%s", code, c.Output())
	}

	runOnce := func(name string, args ...string) time.Duration {
		cmd := testenv.Command(u, env, home, name, args...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return d
	}
	sudo, err := exec.LookPath("sudo")
	if err != nil {
		b.Fatal(err)
	}
	// The shim, as `hook install` sets it up: ~/.openclaw/bin/sudo → clawwarden.
	shimDir := filepath.Join(home, ".openclaw", "bin")
	os.MkdirAll(shimDir, 0o700)
	shim := filepath.Join(shimDir, "sudo")
	os.Symlink(bin, shim)
	for _, p := range []string{shimDir, shim} {
		os.Lchown(p, int(u.UID), int(u.GID))
	}
	shimEnv := append(append([]string{}, env...), "CLAWWARDEN_KEEP_SESSION=1", "OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1")
	runShim := func() time.Duration {
		cmd := testenv.Command(u, shimEnv, home, "sudo", "/usr/bin/true")
		cmd.Path = shim
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("shim: %v\n%s", err, out)
		}
		return d
	}
	var viaGuard, viaSudo, viaShim []time.Duration
	for b.Loop() {
		viaSudo = append(viaSudo, runOnce(sudo, "-n", "--", "/usr/bin/true"))
		viaGuard = append(viaGuard, runOnce(bin, "exec", "--keep-session", "--approval-timeout", "2s", "--", "/usr/bin/true"))
		viaShim = append(viaShim, runShim())
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	mg, msu := median(viaGuard), median(viaSudo)
	b.ReportMetric(ms(msu), "sudo-median-ms")
	b.ReportMetric(ms(mg), "exec-median-ms")
	b.ReportMetric(ms(mg-msu), "overhead-median-ms")
	b.ReportMetric(float64(mg)/float64(msu), "exec/sudo")
	b.ReportMetric(ms(median(viaShim)), "shim-median-ms")
	b.ReportMetric(ms(median(viaShim)-mg), "shim-over-exec-ms")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
