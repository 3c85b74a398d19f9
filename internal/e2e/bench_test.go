package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/signed"
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

// BenchmarkEnforcedOverhead times enforced mode (issue 10), in one run:
// the agent's `sudo /usr/bin/true` through its shim, the real sudo and the
// root helper with an approval an approver kept (--for), against bare
// `sudo -n /usr/bin/true` (the NOPASSWD test user) and a hello-world Go
// binary's start, as (guarded − bare) / hello; the approval round trip
// from a signed decision dropped into the inbox to the command's start;
// and the root helper's peak RSS (VmHWM while it waits) and binary size.
// It installs enforced mode for clawwarden-agent and removes it again.
func BenchmarkEnforcedOverhead(b *testing.B) {
	u := testenv.RequireUser(b)
	w := newWorld(b, true)
	w.setting("approval_timeout", "60s")
	hello := helloBinary(b)
	w.asRoot("sh", "-c", `printf '{"allow_exact": [["/usr/bin/true"]]}\n' > /etc/clawwarden/command-policy.json`)
	keep := []string{"CLAWWARDEN_KEEP_SESSION=1"}

	// Round trip and RSS: a request, a decision signed here and dropped in
	// the inbox, the command's start (from the audit log's times).
	var trips []time.Duration
	var hwm int64
	for i := range 5 {
		before := w.pendingIDs()
		cmd := w.agentCmd(keep, "sudo", "/usr/bin/true")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		id := w.waitPending(before)
		facts, _ := os.ReadFile("/var/lib/clawwarden/pending/" + id + ".facts.json")
		var f struct {
			HelperPID int `json:"helper_pid"`
		}
		json.Unmarshal(facts, &f)
		if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", f.HelperPID)); err == nil {
			for _, l := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
					var kb int64
					fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
					hwm = max(hwm, kb)
				}
			}
		}
		req, _ := os.ReadFile("/var/lib/clawwarden/pending/" + id + ".request")
		parsed, err := signed.ParseRequest(req)
		if err != nil {
			b.Fatal(err)
		}
		sum := sha256.Sum256(req)
		d := signed.Decision{InstallID: installID(b), RequestSHA256: hex.EncodeToString(sum[:]), Approve: true, NotAfter: parsed.Expires}
		d.Scope = signed.Scope{Once: true}
		if i == 4 {
			d.Scope = signed.Scope{Idle: 30 * time.Minute} // the last one is kept for the loop below
		}
		sig := signWith(b, w.keys[w.alice.Name], d.Marshal())
		dropped := time.Now()
		w.drop(id, d.Marshal(), sig)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("approved request: %v", err)
		}
		var started time.Time
		for _, r := range auditRecords(b) {
			if r["request_id"] == id && r["event"] == "result" {
				at, _ := time.Parse(time.RFC3339Nano, r["time"].(string))
				ms, _ := r["duration_ms"].(float64)
				started = at.Add(-time.Duration(ms * float64(time.Millisecond)))
			}
		}
		trips = append(trips, started.Sub(dropped))
	}

	runAs := func(cmd *exec.Cmd) time.Duration {
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
		return d
	}
	sudo, _ := exec.LookPath("sudo")
	home := testenv.Home(b, u)
	var guarded, bare, hellos []time.Duration
	for b.Loop() {
		guarded = append(guarded, runAs(w.agentCmd(keep, "sudo", "/usr/bin/true")))
		bare = append(bare, runAs(testenv.Command(u, testenv.Env(home), home, sudo, "-n", "--", "/usr/bin/true")))
		hellos = append(hellos, runAs(testenv.Command(u, testenv.Env(home), home, hello)))
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	mg, mb, mh := median(guarded), median(bare), median(hellos)
	b.ReportMetric(ms(mg), "enforced-median-ms")
	b.ReportMetric(ms(mb), "sudo-median-ms")
	b.ReportMetric(ms(mh), "hello-median-ms")
	b.ReportMetric(float64(mg-mb)/float64(mh), "overhead/hello")
	b.ReportMetric(ms(median(trips)), "roundtrip-median-ms")
	b.ReportMetric(float64(hwm)/1024, "helper-peak-rss-MB")
	if fi, err := os.Stat("/usr/local/libexec/clawwarden/clawwarden-root"); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "helper-size-MB")
	}
}
