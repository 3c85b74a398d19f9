// Package finding holds the output contract every clawwarden check shares:
// a finding's [Status] and [Risk], how they order, when its remediation is
// due ([DueDate]), the fields every network finding starts with ([Fields]),
// and the JSON layout of the report files ([WriteJSON]).
package finding

import "time"

// Status is how a check or finding stands against its control.
type Status string

// Statuses, best first: [Status.Rank] orders them.
const (
	Compliant   Status = "compliant"
	NotAssessed Status = "not_assessed"
	Partial     Status = "partial"
	Violation   Status = "violation"
)

// Statuses lists the statuses, best first.
var Statuses = [...]Status{Compliant, NotAssessed, Partial, Violation}

// Rank orders statuses from compliant (0) to violation (3); an unknown
// status ranks -1, below compliant.
func (s Status) Rank() int {
	switch s {
	case Compliant:
		return 0
	case NotAssessed:
		return 1
	case Partial:
		return 2
	case Violation:
		return 3
	}
	return -1
}

// Worse reports whether s is worse than t.
func (s Status) Worse(t Status) bool { return s.Rank() > t.Rank() }

// Risk is how much harm a finding can do.
type Risk string

// Risks, lowest first: [Risk.Rank] orders them.
const (
	Low      Risk = "low"
	Medium   Risk = "medium"
	High     Risk = "high"
	Critical Risk = "critical"
)

// Risks lists the risks, lowest first.
var Risks = [...]Risk{Low, Medium, High, Critical}

// Rank orders risks from low (0) to critical (3); an unknown risk ranks -1,
// below low.
func (r Risk) Rank() int {
	switch r {
	case Low:
		return 0
	case Medium:
		return 1
	case High:
		return 2
	case Critical:
		return 3
	}
	return -1
}

// Max returns the higher of r and o (r when they rank the same).
func (r Risk) Max(o Risk) Risk {
	if o.Rank() > r.Rank() {
		return o
	}
	return r
}

// Lower returns the risk one level below r, but not below low.
func (r Risk) Lower() Risk {
	if i := r.Rank(); i > 0 {
		return Risks[i-1]
	}
	return Low
}

// Days is how many days a finding of risk r may stay open: 1 for critical,
// 7 for high, 30 for medium, and 90 for low or an unknown risk.
func (r Risk) Days() int {
	switch r {
	case Critical:
		return 1
	case High:
		return 7
	case Medium:
		return 30
	}
	return 90
}

// DueDate returns the remediation due date, as YYYY-MM-DD in UTC, of a
// finding of risk r found at now: [Risk.Days] later.
func DueDate(now time.Time, r Risk) string {
	return now.UTC().AddDate(0, 0, r.Days()).Format(time.DateOnly)
}

// Fields are the members every network finding starts with, in the report
// files' order. Status holds a [Status] and Risk a [Risk].
type Fields struct {
	CheckID    string `json:"check_id"`
	Status     string `json:"status"`
	Risk       string `json:"risk"`
	Title      string `json:"title"`
	Evidence   string `json:"evidence"`
	Mitigation string `json:"mitigation"`
	Owner      string `json:"owner"`
	DueDate    string `json:"due_date"`
}
