package unitfile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/quote"
)

// CronQuote quotes s as one /bin/sh word ([quote.Shell]), always in single
// quotes, as crontab lines written before were, so a reinstall finds them
// unchanged; and it escapes %, which cron would otherwise turn into a
// newline (cron drops the backslash before the shell sees it; crontab(5)).
func CronQuote(s string) string {
	q := quote.Shell(s)
	if q == s { // nothing to quote, so no single quote inside
		q = "'" + s + "'"
	}
	return strings.ReplaceAll(q, "%", `\%`)
}

// marked reports whether a crontab line ends in marker.
func marked(line, marker string) bool {
	return strings.HasSuffix(strings.TrimRight(line, " \t\r"), marker)
}

// SetCronLine returns crontab with every line ending in marker replaced by
// line (or removed when line is empty); other lines are kept byte for
// byte. changed reports whether the result differs.
func SetCronLine(crontab, marker, line string) (out string, changed bool) {
	var b strings.Builder
	placed := false
	rest := crontab
	for rest != "" {
		l, tail, found := strings.Cut(rest, "\n")
		rest = tail
		if marked(l, marker) {
			if line != "" && !placed {
				b.WriteString(line + "\n")
				placed = true
			}
			continue
		}
		b.WriteString(l)
		if found {
			b.WriteString("\n")
		}
	}
	out = b.String()
	if line != "" && !placed {
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += line + "\n"
	}
	return out, out != crontab
}

// CronLine returns the first line of crontab that ends in marker, if any.
func CronLine(crontab, marker string) (string, bool) {
	for _, l := range strings.Split(crontab, "\n") {
		if marked(l, marker) {
			return l, true
		}
	}
	return "", false
}

// cronField is the set of values one cron field allows.
type cronField struct {
	set [61]bool
	all bool
}

func parseCronField(s string, lo, hi int) (cronField, error) {
	var f cronField
	f.all = s == "*"
	for _, part := range strings.Split(s, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return f, fmt.Errorf("cron field %q: bad step", s)
			}
			step = n
		}
		a, b := lo, hi
		if rng != "*" {
			x, y, isRange := strings.Cut(rng, "-")
			var err error
			if a, err = strconv.Atoi(x); err != nil {
				return f, fmt.Errorf("cron field %q: %w", s, err)
			}
			b = a
			if isRange {
				if b, err = strconv.Atoi(y); err != nil {
					return f, fmt.Errorf("cron field %q: %w", s, err)
				}
			} else if hasStep {
				b = hi
			}
		}
		if a < lo || b > hi || a > b {
			return f, fmt.Errorf("cron field %q: out of range %d-%d", s, lo, hi)
		}
		for v := a; v <= b; v += step {
			f.set[v] = true
		}
	}
	return f, nil
}

// NextCron returns the first time strictly after now, in now's location,
// that the five-field cron spec matches (numbers, *, ranges, lists and
// steps; no names). Day of month and day of week combine as in cron: when
// both are restricted, either may match.
func NextCron(spec string, now time.Time) (time.Time, error) {
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return time.Time{}, fmt.Errorf("cron spec %q: want 5 fields", spec)
	}
	bounds := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	var f [5]cronField
	for i, s := range fields {
		var err error
		if f[i], err = parseCronField(s, bounds[i][0], bounds[i][1]); err != nil {
			return time.Time{}, err
		}
	}
	if f[4].set[7] {
		f[4].set[0] = true
	}
	t := now.Truncate(time.Minute).Add(time.Minute)
	if t.Before(now) || t.Equal(now) {
		t = t.Add(time.Minute)
	}
	end := now.AddDate(5, 0, 0)
	for t.Before(end) {
		if !f[3].set[int(t.Month())] {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
			continue
		}
		dom, dow := f[2].set[t.Day()], f[4].set[int(t.Weekday())]
		dayOK := dom && dow
		if !f[2].all && !f[4].all {
			dayOK = dom || dow
		}
		if !dayOK {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
			continue
		}
		if !f[1].set[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, t.Location())
			continue
		}
		if !f[0].set[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cron spec %q: never matches", spec)
}
