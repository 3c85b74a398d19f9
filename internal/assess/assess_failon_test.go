package assess

import (
	"errors"
	"testing"
)

func TestFailOn(t *testing.T) {
	mk := func(violations, partials int) *Assessment {
		a := &Assessment{}
		a.Summary.ByStatus = map[string]int{StatusViolation: violations, StatusPartial: partials, StatusCompliant: 3}
		return a
	}
	tests := []struct {
		a    *Assessment
		f    FailOn
		want bool
	}{
		{mk(1, 1), FailNever, false},
		{mk(1, 0), FailViolation, true},
		{mk(0, 2), FailViolation, false},
		{mk(0, 2), FailPartial, true},
		{mk(0, 0), FailPartial, false},
		{mk(2, 0), FailPartial, true},
	}
	for _, tt := range tests {
		if got := tt.a.Fails(tt.f); got != tt.want {
			t.Errorf("%+v fails at %s = %v, want %v", tt.a.Summary.ByStatus, tt.f, got, tt.want)
		}
	}
	for _, s := range []string{"none", "violation", "partial"} {
		if f, err := ParseFailOn(s); err != nil || string(f) != s {
			t.Errorf("ParseFailOn(%q) = %q, %v", s, f, err)
		}
	}
	for _, s := range []string{"", "critical", "Violation"} {
		if _, err := ParseFailOn(s); !errors.Is(err, ErrBadFailOn) {
			t.Errorf("ParseFailOn(%q): %v, want ErrBadFailOn", s, err)
		}
	}
}
