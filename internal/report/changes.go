package report

import (
	"cmp"
	"slices"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/finding"
)

// PreviousAssessmentFile is the assessment [WriteAll] replaced: the one the
// dashboard's "changes since the previous assessment" compares with.
const PreviousAssessmentFile = "openclaw-assessment.previous.json"

// Change kinds, in the order the dashboard lists them.
const (
	ChangeNew      = "new"      // open now, compliant or absent before
	ChangeWorse    = "worse"    // open before and now, worse status or risk
	ChangeResolved = "resolved" // open before, compliant or absent now
	ChangeImproved = "improved" // open before and now, better status or risk
)

// Change is one check whose finding changed between two assessments. A
// status or risk of "" means the check was absent from that assessment
// (an OpenClaw audit finding that appeared or went away).
type Change struct {
	Kind       string `json:"kind"`
	CheckID    string `json:"check_id"`
	Title      string `json:"title"`
	FromStatus string `json:"from_status"`
	FromRisk   string `json:"from_risk"`
	ToStatus   string `json:"to_status"`
	ToRisk     string `json:"to_risk"`
}

// Changes is what changed between the previous assessment and the current
// one.
type Changes struct {
	// Since is when the previous assessment was generated; "" when there is
	// none to compare with, and then Note says why.
	Since string   `json:"since"`
	Note  string   `json:"note,omitempty"`
	List  []Change `json:"changes"` // new, worse, resolved, improved; worst first within each
}

// Count returns how many changes are of the given kind.
func (c Changes) Count(kind string) int {
	n := 0
	for _, ch := range c.List {
		if ch.Kind == kind {
			n++
		}
	}
	return n
}

// open reports whether a check with status s is a finding: present and not
// compliant.
func open(s string) bool { return s != "" && s != assess.StatusCompliant }

// Compare says which findings are new, worse, resolved or improved in cur
// compared with prev, every check and OpenClaw audit finding included. A
// check's finding is its status and risk; a compliant check has none, so a
// change of risk alone counts only while the check is open. A nil prev
// yields no changes and the note "no previous assessment".
func Compare(prev, cur *assess.Assessment) Changes {
	if prev == nil {
		return Changes{Note: "no previous assessment", List: []Change{}}
	}
	out := Changes{Since: prev.GeneratedAt, List: []Change{}}
	before := map[string]assess.Check{}
	for _, c := range prev.AllChecks() {
		before[c.CheckID] = c
	}
	seen := map[string]bool{}
	for _, c := range cur.AllChecks() {
		seen[c.CheckID] = true
		p := before[c.CheckID]
		if k := kind(p.Status, p.Risk, c.Status, c.Risk); k != "" {
			out.List = append(out.List, Change{Kind: k, CheckID: c.CheckID, Title: c.Title,
				FromStatus: p.Status, FromRisk: p.Risk, ToStatus: c.Status, ToRisk: c.Risk})
		}
	}
	for _, p := range prev.AllChecks() {
		if !seen[p.CheckID] && open(p.Status) {
			out.List = append(out.List, Change{Kind: ChangeResolved, CheckID: p.CheckID, Title: p.Title,
				FromStatus: p.Status, FromRisk: p.Risk})
		}
	}
	order := map[string]int{ChangeNew: 0, ChangeWorse: 1, ChangeResolved: 2, ChangeImproved: 3}
	slices.SortStableFunc(out.List, func(x, y Change) int {
		if d := order[x.Kind] - order[y.Kind]; d != 0 {
			return d
		}
		// Worst first: by the current finding, or, for a resolved one,
		// by what it was.
		xs, xr, ys, yr := x.ToStatus, x.ToRisk, y.ToStatus, y.ToRisk
		if x.Kind == ChangeResolved {
			xs, xr, ys, yr = x.FromStatus, x.FromRisk, y.FromStatus, y.FromRisk
		}
		return compareFindings(xs, xr, x.CheckID, ys, yr, y.CheckID)
	})
	return out
}

// kind classifies the move from one status and risk to another; "" when
// the finding did not change.
func kind(fromStatus, fromRisk, toStatus, toRisk string) string {
	switch {
	case !open(fromStatus) && !open(toStatus):
		return ""
	case !open(fromStatus):
		return ChangeNew
	case !open(toStatus):
		return ChangeResolved
	}
	d := cmp.Compare(finding.Status(toStatus).Rank(), finding.Status(fromStatus).Rank())
	if d == 0 {
		d = cmp.Compare(finding.Risk(toRisk).Rank(), finding.Risk(fromRisk).Rank())
	}
	switch {
	case d > 0:
		return ChangeWorse
	case d < 0:
		return ChangeImproved
	}
	return ""
}

// compareFindings orders findings worst first: by status (violation,
// partial, not assessed, compliant), then risk (critical to low), then
// check id.
func compareFindings(xs, xr, xid, ys, yr, yid string) int {
	if d := cmp.Compare(finding.Status(ys).Rank(), finding.Status(xs).Rank()); d != 0 {
		return d
	}
	if d := cmp.Compare(finding.Risk(yr).Rank(), finding.Risk(xr).Rank()); d != 0 {
		return d
	}
	return cmp.Compare(xid, yid)
}

// SortChecks returns the checks worst first: by status (violation, partial,
// not assessed, compliant), then risk (critical to low), then check id.
func SortChecks(checks []assess.Check) []assess.Check {
	out := slices.Clone(checks)
	slices.SortStableFunc(out, func(x, y assess.Check) int {
		return compareFindings(x.Status, x.Risk, x.CheckID, y.Status, y.Risk, y.CheckID)
	})
	return out
}
