package report

import (
	_ "embed"
	"html"
	"html/template"
	"io"
	"strings"
	"sync"

	"github.com/clawwarden/clawwarden/internal/assess"
)

//go:embed dashboard.html.tmpl
var dashboardTmpl string

// dashboard is parsed on first use, not at program start.
var dashboard = sync.OnceValue(func() *template.Template {
	funcs := template.FuncMap{
		// label shows a status for people: "not assessed", not "not_assessed".
		"label": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		// breakable lets a check id wrap after "_", ".", ":" and "-" rather
		// than inside a word.
		"breakable": breakable,
		// outcomeClass colours a request's result: a command that ran and
		// failed differs from one that ran and succeeded.
		"outcomeClass": func(r Request) string {
			if r.Outcome == OutcomeRan && r.ExitCode != nil && *r.ExitCode != 0 {
				return "o-ran-fail"
			}
			return "o-" + strings.ReplaceAll(r.Outcome, " ", "-")
		},
	}
	return template.Must(template.New("dashboard").Funcs(funcs).Parse(dashboardTmpl))
})

// recentRequests is how many privileged requests the dashboard lists.
const recentRequests = 20

type dashboardData struct {
	A        *assess.Assessment
	S        Summary
	Checks   []assess.Check // worst first
	Changes  Changes
	Counts   map[string]int // changes by kind
	Requests []Request      // newest first
}

// WriteDashboard writes compliance-dashboard.html without a previous
// assessment to compare with; see [WriteDashboardChanges].
func WriteDashboard(w io.Writer, a *assess.Assessment) error {
	return WriteDashboardChanges(w, a, Compare(nil, a))
}

// WriteDashboardChanges writes compliance-dashboard.html: one
// self-contained page (inline CSS and script; a Content-Security-Policy
// that blocks every network request) with the status counts, what changed
// since the previous assessment (ch), the checks worst first (a table on
// wide screens, one card per check on narrow ones, filterable and
// sortable), the network findings, the per-control status, the audit
// chain's verdict and the latest privileged requests with how each ended
// and who approved it.
//
// The requests are read from the audit log the assessment verified
// (a.AuditChain.File), grouped by request id; the assessment's
// recent_privileged_actions lists single records and cannot tell a command
// that ran from one that did not. Every value from the host is escaped by
// html/template.
func WriteDashboardChanges(w io.Writer, a *assess.Assessment, ch Changes) error {
	d := dashboardData{
		A:       a,
		S:       Summarize(a),
		Checks:  SortChecks(a.AllChecks()),
		Changes: ch,
		Counts:  map[string]int{},
	}
	for _, k := range []string{ChangeNew, ChangeWorse, ChangeResolved, ChangeImproved} {
		d.Counts[k] = ch.Count(k)
	}
	switch a.AuditChain.Status {
	case "ok", "broken":
		d.Requests = readRequests(a.AuditChain.File, recentRequests)
	}
	return dashboard().Execute(w, d)
}

// breakable escapes id and adds a line break opportunity (<wbr>) after
// each "_", ".", ":" and "-", so a long check id wraps at its separators.
func breakable(id string) template.HTML {
	var b strings.Builder
	for _, r := range id {
		b.WriteString(html.EscapeString(string(r)))
		switch r {
		case '_', '.', ':', '-':
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}
