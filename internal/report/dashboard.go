package report

import (
	_ "embed"
	"html/template"
	"io"
	"sync"

	"github.com/clawwarden/clawwarden/internal/assess"
)

//go:embed dashboard.html.tmpl
var dashboardTmpl string

// dashboard is parsed on first use, not at program start.
var dashboard = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("dashboard").Parse(dashboardTmpl))
})

// bar is one bar of the inline SVG chart.
type bar struct {
	Label string
	Count int
	Class string
	Y     int // top of the bar's row
	Width int // bar length in pixels
}

type dashboardData struct {
	A        *assess.Assessment
	S        Summary
	Checks   []assess.Check
	Bars     []bar
	ChartH   int
	RiskBars []bar
}

// chartWidth is the longest bar in pixels.
const chartWidth = 360

func bars(labels []string, counts map[string]int, prefix string) []bar {
	max := 0
	for _, l := range labels {
		if counts[l] > max {
			max = counts[l]
		}
	}
	var out []bar
	for i, l := range labels {
		w := 0
		if max > 0 {
			w = counts[l] * chartWidth / max
		}
		if counts[l] > 0 && w < 2 {
			w = 2
		}
		out = append(out, bar{Label: l, Count: counts[l], Class: prefix + l, Y: i * 28, Width: w})
	}
	return out
}

// WriteDashboard writes compliance-dashboard.html: one self-contained page
// (inline CSS, SVG and script; a Content-Security-Policy that blocks every
// network request) with the status and risk counts, a sortable, filterable
// table of checks, the network findings, the per-control status, the audit
// chain's verdict and the recent privileged actions. Every value from the
// host is escaped by html/template.
func WriteDashboard(w io.Writer, a *assess.Assessment) error {
	statuses := []string{assess.StatusViolation, assess.StatusPartial, assess.StatusNotAssessed, assess.StatusCompliant}
	risks := []string{assess.RiskCritical, assess.RiskHigh, assess.RiskMedium, assess.RiskLow}
	d := dashboardData{
		A:        a,
		S:        Summarize(a),
		Checks:   a.AllChecks(),
		Bars:     bars(statuses, a.Summary.ByStatus, "s-"),
		RiskBars: bars(risks, a.Summary.ByRisk, "r-"),
		ChartH:   4 * 28,
	}
	return dashboard().Execute(w, d)
}
