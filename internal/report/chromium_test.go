package report

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromiumPath is the Debian package's browser. The test does not install
// it: scripts/test should (apt-get install -y chromium).
const chromiumPath = "/usr/bin/chromium"

// chromium runs headless Chromium on the file at page with the given extra
// flags and returns its stdout and its log (stderr).
func chromium(t *testing.T, page string, extra ...string) (stdout, log string) {
	t.Helper()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	args = append(args, extra...)
	args = append(args, "file://"+page)
	// The limit only stops a hung browser; nothing asserts on time.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, errb.String())
	}
	return out.String(), errb.String()
}

// consoleLine matches what Chromium logs for console messages, CSP
// violations (a blocked network request) and uncaught exceptions.
var consoleLine = regexp.MustCompile(`(?m)^.*(:CONSOLE[:(]|Refused to|Uncaught|violates the following Content Security Policy).*$`)

func skipWithoutChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is missing (apt-get install -y chromium; scripts/test should install it): %v", chromiumPath, err)
	}
}

// TestChromiumDetectsProblems makes sure the log check below can fail: a page
// that loads a remote image and throws must be caught.
func TestChromiumDetectsProblems(t *testing.T) {
	skipWithoutChromium(t)
	page := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'"></head>` +
		`<body><img src="http://192.0.2.1/x.png"><script>undefinedFunction();</script></body></html>`
	if err := os.WriteFile(page, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, log := chromium(t, page, "--dump-dom")
	got := consoleLine.FindAllString(log, -1)
	if len(got) < 2 {
		t.Fatalf("console lines = %q, want the CSP violation and the uncaught error\nlog:\n%s", got, log)
	}
}

func TestDashboardInChromium(t *testing.T) {
	skipWithoutChromium(t)
	dir := t.TempDir()
	p, err := WriteAll(dir, sample())
	if err != nil {
		t.Fatal(err)
	}

	dom, log := chromium(t, p.Dashboard, "--dump-dom")
	if lines := consoleLine.FindAllString(log, -1); len(lines) > 0 {
		t.Errorf("console errors or blocked requests:\n%s", strings.Join(lines, "\n"))
	}
	// The inline script ran: it fills in the row count.
	if !strings.Contains(dom, `id="shown">4 of 4 shown`) {
		t.Errorf("the table script did not run: no %q in the DOM", "4 of 4 shown")
	}
	for _, want := range []string{"privilege_approval_required", "openclaw:gateway.loopback_no_auth", "&lt;inetd&gt;"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if strings.Contains(dom, "<script>alert") {
		t.Error("rendered DOM contains an injected script")
	}

	shot := filepath.Join(dir, "dashboard.png")
	_, log = chromium(t, p.Dashboard, "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars")
	if lines := consoleLine.FindAllString(log, -1); len(lines) > 0 {
		t.Errorf("console errors or blocked requests while taking the screenshot:\n%s", strings.Join(lines, "\n"))
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1280x2000", b.Dx(), b.Dy())
	}
	// A blank or failed page has a handful of colours; the dashboard has
	// text, badges and the chart.
	colours := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("screenshot has %d distinct colours, want a rendered page (at least 50)", len(colours))
	}
	// The status chart's violation bar is drawn in its colour (#c62828).
	if !colours[[3]uint32{0xc6, 0x28, 0x28}] {
		t.Error("screenshot lacks the violation colour #c62828 of the chart and badges")
	}
}
