package finding

import (
	"testing"
	"time"
)

func TestStatusOrder(t *testing.T) {
	tests := []struct {
		a, b  Status
		worse bool
	}{
		{Violation, Partial, true},
		{Partial, NotAssessed, true},
		{NotAssessed, Compliant, true},
		{Compliant, Compliant, false},
		{Compliant, Violation, false},
		{"unknown", Compliant, false},
		{Compliant, "unknown", true},
	}
	for _, tt := range tests {
		if got := tt.a.Worse(tt.b); got != tt.worse {
			t.Errorf("%q.Worse(%q) = %v, want %v", tt.a, tt.b, got, tt.worse)
		}
	}
	for i, s := range Statuses {
		if s.Rank() != i {
			t.Errorf("%q.Rank() = %d, want %d", s, s.Rank(), i)
		}
	}
}

func TestRiskOrder(t *testing.T) {
	tests := []struct {
		r, o       Risk
		max, lower Risk
	}{
		{Low, Medium, Medium, Low},
		{Medium, Low, Medium, Low},
		{High, Critical, Critical, Medium},
		{Critical, High, Critical, High},
		{"", Low, Low, Low},
		{"bogus", "", "bogus", Low},
	}
	for _, tt := range tests {
		if got := tt.r.Max(tt.o); got != tt.max {
			t.Errorf("%q.Max(%q) = %q, want %q", tt.r, tt.o, got, tt.max)
		}
		if got := tt.r.Lower(); got != tt.lower {
			t.Errorf("%q.Lower() = %q, want %q", tt.r, got, tt.lower)
		}
	}
	for i, r := range Risks {
		if r.Rank() != i {
			t.Errorf("%q.Rank() = %d, want %d", r, r.Rank(), i)
		}
	}
}

func TestDueDate(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 30, 0, 0, time.FixedZone("X", -11*3600)) // 21:30 UTC
	tests := []struct {
		risk Risk
		want string
	}{
		{Critical, "2026-11-26"},
		{High, "2026-12-02"},
		{Medium, "2026-12-25"},
		{Low, "2027-02-23"},
		{"", "2027-02-23"},
		{"bogus", "2027-02-23"},
	}
	for _, tt := range tests {
		if got := DueDate(now, tt.risk); got != tt.want {
			t.Errorf("DueDate(%q) = %s, want %s", tt.risk, got, tt.want)
		}
	}
}
