package e2e

import (
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// BenchmarkExecOverhead times, in one run and interleaved, the same
// pre-approved command through `clawwarden exec` and through bare sudo, both
// as the unprivileged test user, and reports the medians and the per-call
// overhead (ms). Run it through ./scripts/bench.
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
	var viaGuard, viaSudo []time.Duration
	for b.Loop() {
		viaSudo = append(viaSudo, runOnce(sudo, "-n", "--", "/usr/bin/true"))
		viaGuard = append(viaGuard, runOnce(bin, "exec", "--keep-session", "--approval-timeout", "2s", "--", "/usr/bin/true"))
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	mg, msu := median(viaGuard), median(viaSudo)
	b.ReportMetric(ms(msu), "sudo-median-ms")
	b.ReportMetric(ms(mg), "exec-median-ms")
	b.ReportMetric(ms(mg-msu), "overhead-median-ms")
	b.ReportMetric(float64(mg)/float64(msu), "exec/sudo")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
