package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/png"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/assess"
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

// Headless Chromium does not make a window narrower than 500 px, so the
// dashboard is laid out in an iframe of the wanted size (srcdoc: same
// origin as the wrapper, the dashboard's own CSP still applies inside),
// and the wrapper's script measures it once it has loaded.

// measureScript measures the dashboard in frame f after its load and writes
// what the test asserts as JSON into <pre id="measurements">, which
// --dump-dom prints: the viewport and document widths, the first check row,
// every pair of visible badges whose boxes overlap, elements that reach past
// the viewport's right edge, owner words and check id parts broken across lines, and how the
// checks table is laid out.
const measureScript = `<script>
function measure(f) {
  "use strict";
  var win = f.contentWindow, doc = f.contentDocument;
  var W = win.innerWidth, out = { innerWidth: W, scrollWidth: doc.documentElement.scrollWidth, scrollHeight: doc.documentElement.scrollHeight };
  var first = doc.querySelector("#checks tbody tr:not([hidden])");
  out.firstCheck = first ? first.getAttribute("data-id") : "";
  out.checksRowDisplay = first ? win.getComputedStyle(first).display : "";
  out.checksHeadVisible = doc.querySelector("#checks thead").getBoundingClientRect().height > 1;
  function label(el) {
    var row = el.closest("tr"), sec = el.closest("section"), h = sec && sec.querySelector("h2");
    return (h ? h.textContent : "") + "/" + (row ? (row.getAttribute("data-id") || row.getAttribute("data-request") || row.rowIndex) : "") + "/" + el.textContent.trim().slice(0, 40);
  }
  var boxes = [];
  Array.prototype.forEach.call(doc.querySelectorAll(".badge"), function (b) {
    var r = b.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) { boxes.push({ el: b, r: r }); }
  });
  out.badges = boxes.length;
  out.overlaps = [];
  for (var i = 0; i < boxes.length; i++) {
    for (var j = i + 1; j < boxes.length; j++) {
      var a = boxes[i].r, b = boxes[j].r;
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) {
        out.overlaps.push(label(boxes[i].el) + " ~ " + label(boxes[j].el));
      }
    }
  }
  out.wide = [];
  Array.prototype.forEach.call(doc.body.querySelectorAll("*"), function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > W + 0.5 && out.wide.length < 10) {
      out.wide.push(el.tagName + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : "") + " right=" + Math.round(r.right) + " " + el.textContent.trim().slice(0, 30));
    }
  });
  out.brokenWords = [];
  Array.prototype.forEach.call(doc.querySelectorAll("td.owner, b.id"), function (el) {
    Array.prototype.forEach.call(el.childNodes, function (node) {
    if (node.nodeType !== 3) { return; }
    var re = /\S+/g, m;
    while ((m = re.exec(node.data))) {
      var range = doc.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      var lines = {};
      Array.prototype.forEach.call(range.getClientRects(), function (r) { if (r.width > 0) { lines[Math.round(r.top)] = true; } });
      if (Object.keys(lines).length > 1) { out.brokenWords.push(m[0]); }
    }
    });
  });
  out.cardsInside = true;
  var summary = doc.querySelector(".cards").getBoundingClientRect();
  Array.prototype.forEach.call(doc.querySelectorAll(".card"), function (c) {
    var r = c.getBoundingClientRect();
    if (r.left < summary.left - 0.5 || r.right > summary.right + 0.5) { out.cardsInside = false; }
  });
  // Sorting by check id and back by status keeps working.
  function firstID() { return doc.querySelector("#checks tbody tr").getAttribute("data-id"); }
  doc.querySelector('button.sort[data-key="id"]').click();
  out.firstByID = firstID();
  doc.querySelector('button.sort[data-key="status"]').click();
  out.firstByStatus = firstID();
  document.getElementById("measurements").textContent = JSON.stringify(out);
}
</script>`

// framed returns a page that shows page in an iframe of the given size,
// measured by measureScript when measure is set.
func framed(page string, width, height int, measure bool) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;background:#fff}iframe{border:0;display:block}</style></head><body>`)
	if measure {
		b.WriteString(measureScript)
	}
	fmt.Fprintf(&b, `<iframe width="%d" height="%d"`, width, height)
	if measure {
		b.WriteString(` onload="measure(this)"`)
	}
	b.WriteString(` srcdoc="` + html.EscapeString(page) + `"></iframe><pre id="measurements"></pre></body></html>`)
	return b.String()
}

// measurements is what measureScript reports.
type measurements struct {
	InnerWidth        int      `json:"innerWidth"`
	ScrollWidth       int      `json:"scrollWidth"`
	ScrollHeight      int      `json:"scrollHeight"`
	FirstCheck        string   `json:"firstCheck"`
	ChecksRowDisplay  string   `json:"checksRowDisplay"`
	ChecksHeadVisible bool     `json:"checksHeadVisible"`
	Badges            int      `json:"badges"`
	Overlaps          []string `json:"overlaps"`
	Wide              []string `json:"wide"`
	BrokenWords       []string `json:"brokenWords"`
	CardsInside       bool     `json:"cardsInside"`
	FirstByID         string   `json:"firstByID"`
	FirstByStatus     string   `json:"firstByStatus"`
}

var measurementsRE = regexp.MustCompile(`(?s)<pre id="measurements">(.*?)</pre>`)

// realisticAssessment is a full assessment of the insecure fixture (every
// check, OpenClaw's audit findings, network findings) from the assess
// package's golden file, with the sample's audit log, and a previous
// assessment that differs in a few checks.
func realisticAssessment(t *testing.T) (cur, prev *assess.Assessment) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "assess", "testdata", "golden", "insecure", assess.AssessmentFile))
	if err != nil {
		t.Fatal(err)
	}
	cur, prev = new(assess.Assessment), new(assess.Assessment)
	if err := json.Unmarshal(data, cur); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, prev); err != nil {
		t.Fatal(err)
	}
	withLog := sampleWithLog(t)
	cur.AuditChain = withLog.AuditChain
	prev.GeneratedAt = "2026-11-24T09:00:00Z"
	// Since the previous assessment: two findings are new, one violation
	// was partial, and two were resolved.
	for i, c := range prev.Checks {
		switch i {
		case 0, 1:
			prev.Checks[i].Status, prev.Checks[i].Risk = assess.StatusCompliant, assess.RiskLow
		case 2:
			if c.Status == assess.StatusViolation {
				prev.Checks[i].Status = assess.StatusPartial
			}
		case 3, 4:
			cur.Checks[i].Status, cur.Checks[i].Risk, cur.Checks[i].DueDate = assess.StatusCompliant, assess.RiskLow, ""
		}
	}
	return cur, prev
}

func checkIDs(a *assess.Assessment) map[string]bool {
	m := map[string]bool{}
	for _, c := range a.AllChecks() {
		m[c.CheckID] = true
	}
	return m
}

// artifactDir is where the screenshots stay for a developer to look at:
// $CLAWWARDEN_ARTIFACTS/<test> when set, else the test's artifact
// directory (kept with go test -artifacts, under -outputdir).
func artifactDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("CLAWWARDEN_ARTIFACTS"); d != "" {
		dir := filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}

// screenshot writes PNGs of page laid out width px wide: the whole page
// (fullHeight px, as NAME-full.png) and its first screen (height px, as
// NAME.png). Chromium's window is at least 500 px wide, so the page is shot
// in an iframe and the PNG cropped to width.
func screenshot(t *testing.T, dir, name, page string, width, height, fullHeight int) {
	t.Helper()
	// A page that long is broken anyway; Chromium would take minutes.
	fullHeight = min(fullHeight, 30000)
	src := filepath.Join(t.TempDir(), "shot.html")
	if err := os.WriteFile(src, []byte(framed(page, width, fullHeight, false)), 0o600); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(t.TempDir(), "shot.png")
	_, log := chromium(t, src, "--screenshot="+raw, fmt.Sprintf("--window-size=%d,%d", max(width, 500), fullHeight), "--hide-scrollbars")
	if lines := consoleLine.FindAllString(log, -1); len(lines) > 0 {
		t.Errorf("console errors while taking the screenshot:\n%s", strings.Join(lines, "\n"))
	}
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		t.Fatalf("screenshot is a %T", img)
	}
	for _, shot := range []struct {
		file string
		h    int
	}{{name + "-full.png", fullHeight}, {name + ".png", height}} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, sub.SubImage(image.Rect(0, 0, width, shot.h))); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, shot.file)
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", out)
	}
}

// TestDashboardLayoutInChromium renders a full dashboard at a desktop and a
// phone width in real headless Chromium and measures it: the worst finding
// is the first row; at 390 px nothing is wider than the viewport, the
// checks are cards, and no two badges overlap (at either width); owners'
// words and check ids are never broken inside a word. The screenshots
// are kept.
func TestDashboardLayoutInChromium(t *testing.T) {
	skipWithoutChromium(t)
	cur, prev := realisticAssessment(t)
	var buf bytes.Buffer
	if err := WriteDashboardChanges(&buf, cur, Compare(prev, cur)); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	shots := artifactDir(t)
	worst := SortChecks(cur.AllChecks())[0]
	if worst.Status != assess.StatusViolation {
		t.Fatalf("the fixture's worst check is %s %s, want a violation", worst.CheckID, worst.Status)
	}

	for _, size := range []struct {
		name          string
		width, height int
		narrow        bool
	}{
		{"desktop", 1400, 1000, false},
		{"phone", 390, 844, true},
	} {
		t.Run(size.name, func(t *testing.T) {
			measured := filepath.Join(t.TempDir(), "measured.html")
			if err := os.WriteFile(measured, []byte(framed(page, size.width, size.height, true)), 0o600); err != nil {
				t.Fatal(err)
			}
			dom, log := chromium(t, measured, "--dump-dom", fmt.Sprintf("--window-size=%d,%d", max(size.width, 500), size.height), "--hide-scrollbars")
			if lines := consoleLine.FindAllString(log, -1); len(lines) > 0 {
				t.Errorf("console errors or blocked requests:\n%s", strings.Join(lines, "\n"))
			}
			m := measurementsRE.FindStringSubmatch(dom)
			if m == nil || m[1] == "" {
				t.Fatalf("the measuring script wrote nothing; log:\n%s", log)
			}
			var got measurements
			if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &got); err != nil {
				t.Fatalf("measurements %s: %v", m[1], err)
			}
			t.Logf("%dx%d: %+v", size.width, size.height, got)
			if got.InnerWidth != size.width {
				t.Fatalf("innerWidth = %d, want %d", got.InnerWidth, size.width)
			}
			if got.FirstCheck != worst.CheckID {
				t.Errorf("first check row = %q, want the worst finding %q (%s, %s)", got.FirstCheck, worst.CheckID, worst.Status, worst.Risk)
			}
			if ids := slices.Sorted(maps.Keys(checkIDs(cur))); got.FirstByID != ids[0] || got.FirstByStatus != worst.CheckID {
				t.Errorf("after sorting by id the first row is %q, want %q; by status %q, want %q", got.FirstByID, ids[0], got.FirstByStatus, worst.CheckID)
			}
			if got.Badges < 40 {
				t.Errorf("%d visible badges, want the status and risk of every check", got.Badges)
			}
			if len(got.Overlaps) > 0 {
				t.Errorf("overlapping badges:\n%s", strings.Join(got.Overlaps, "\n"))
			}
			if len(got.BrokenWords) > 0 {
				t.Errorf("words of owners or check ids broken across lines: %q", got.BrokenWords)
			}
			if !got.CardsInside {
				t.Error("a summary card reaches outside the summary")
			}
			if size.narrow {
				if got.ScrollWidth > got.InnerWidth {
					t.Errorf("document scrollWidth %d > innerWidth %d; too wide: %q", got.ScrollWidth, got.InnerWidth, got.Wide)
				}
				if len(got.Wide) > 0 {
					t.Errorf("elements past the viewport's right edge: %q", got.Wide)
				}
				if got.ChecksRowDisplay != "block" || got.ChecksHeadVisible {
					t.Errorf("checks row display %q, header visible %v; want one card per check (block) and no header row", got.ChecksRowDisplay, got.ChecksHeadVisible)
				}
			} else if got.ChecksRowDisplay != "table-row" || !got.ChecksHeadVisible {
				t.Errorf("checks row display %q, header visible %v; want a table with its header", got.ChecksRowDisplay, got.ChecksHeadVisible)
			}
			screenshot(t, shots, fmt.Sprintf("dashboard-%d", size.width), page, size.width, size.height, got.ScrollHeight)
		})
	}
}
