package signed

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxIdle is the longest idle time a kept approval may have.
const MaxIdle = 30 * time.Minute

// Scope is what an approval covers: this request once, or this exact
// request again for as long as it is reused within Idle of its last use.
// Exactly one of the two is set; the zero Scope is invalid, so a forgotten
// field never grants anything.
type Scope struct {
	Once bool
	// Idle is a whole number of minutes from 1 to 30 when Once is false.
	Idle time.Duration
}

// Validate reports whether s is one of the two forms above.
func (s Scope) Validate() error {
	switch {
	case s.Once && s.Idle == 0:
		return nil
	case s.Once:
		return fmt.Errorf("scope: once with an idle time of %v", s.Idle)
	case s.Idle <= 0:
		return fmt.Errorf("scope: neither once nor an idle time")
	case s.Idle > MaxIdle:
		return fmt.Errorf("scope: idle time %v is longer than %v", s.Idle, MaxIdle)
	case s.Idle%time.Minute != 0:
		return fmt.Errorf("scope: idle time %v is not a whole number of minutes", s.Idle)
	}
	return nil
}

// String returns the scope as it appears in the canonical bytes: "once" or
// "idle Nm". It is meaningful only for a valid scope.
func (s Scope) String() string {
	if s.Once {
		return "once"
	}
	return "idle " + strconv.FormatInt(int64(s.Idle/time.Minute), 10) + "m"
}

// parseScope is the inverse of String for valid scopes.
func parseScope(v string) (Scope, error) {
	if v == "once" {
		return Scope{Once: true}, nil
	}
	num, ok := strings.CutPrefix(v, "idle ")
	if ok {
		num, ok = strings.CutSuffix(num, "m")
	}
	n, okN := parseCount(num)
	if !ok || !okN || n > int(MaxIdle/time.Minute) {
		return Scope{}, fmt.Errorf("scope %q: want \"once\" or \"idle Nm\" with N from 1 to 30", v)
	}
	s := Scope{Idle: time.Duration(n) * time.Minute}
	return s, s.Validate()
}
