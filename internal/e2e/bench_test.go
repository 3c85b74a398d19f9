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
// command through `clawwarden exec` with an approval the person kept and
// through bare `sudo -n`, both as the unprivileged test user (a NOPASSWD
// rule for /usr/bin/true), and the start of a hello-world static Go binary;
// it reports the medians, the per-call overhead and the overhead in
// hello-world starts, (guarded − bare) / hello. The same call through the
// sudo shim (~/.openclaw/bin/sudo) gives the shim's overhead over exec. Run
// it through ./scripts/bench.
func BenchmarkExecOverhead(b *testing.B) {
	u := testenv.RequireUser(b)
	bin := testenv.Binary(b, "")
	home := testenv.Home(b, u)
	env := testenv.Env(home)
	hello := helloBinary(b)

	// The person approves /usr/bin/true on a real terminal and keeps it.
	c := testenv.Start(b, testenv.Command(u, env, home, bin, "exec", "--keep-session", "--", "/usr/bin/true"))
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`Also allow this exact command again`)
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
	var viaGuard, viaSudo, viaShim, viaHello, viaVersion []time.Duration
	for b.Loop() {
		viaSudo = append(viaSudo, runOnce(sudo, "-n", "--", "/usr/bin/true"))
		viaGuard = append(viaGuard, runOnce(bin, "exec", "--keep-session", "--approval-timeout", "2s", "--", "/usr/bin/true"))
		viaShim = append(viaShim, runShim())
		viaHello = append(viaHello, runOnce(hello))
		viaVersion = append(viaVersion, runOnce(bin, "version"))
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	mg, msu, mh := median(viaGuard), median(viaSudo), median(viaHello)
	b.ReportMetric(ms(msu), "sudo-median-ms")
	b.ReportMetric(ms(mg), "exec-median-ms")
	b.ReportMetric(ms(mh), "hello-median-ms")
	// The start of clawwarden itself (runtime, package initialisation, the
	// command tree): the part of the overhead that is not the guard's work.
	b.ReportMetric(ms(median(viaVersion)), "version-median-ms")
	b.ReportMetric(ms(mg-msu), "overhead-median-ms")
	b.ReportMetric(float64(mg-msu)/float64(mh), "overhead/hello")
	b.ReportMetric(ms(median(viaShim)), "shim-median-ms")
	b.ReportMetric(ms(median(viaShim)-mg), "shim-over-exec-ms")
}

// helloBinary builds a static hello-world Go program (CGO off, like
// clawwarden) into a directory the test user can run it from: the cost of
// starting any Go program, the unit the overhead is measured in.
func helloBinary(b *testing.B) string {
	b.Helper()
	dir, err := os.MkdirTemp("", "clawwarden-hello-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello, world\\n\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644)
	out := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if o, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build hello: %v\n%s", err, o)
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
