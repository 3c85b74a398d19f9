package report

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/audit"
)

func intp(i int) *int { return &i }

func TestRequests(t *testing.T) {
	argv := []string{"/usr/bin/systemctl", "restart", "nginx"}
	t0 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	rec := func(id, event, decision string, more ...func(*audit.Record)) audit.Record {
		r := audit.Record{RequestID: id, Event: event, Decision: decision, Argv: argv, Time: t0}
		for _, m := range more {
			m(&r)
		}
		return r
	}
	exit := func(c int) func(*audit.Record) { return func(r *audit.Record) { r.ExitCode = intp(c) } }
	detail := func(d string) func(*audit.Record) { return func(r *audit.Record) { r.Detail = d } }
	tests := []struct {
		name string
		recs []audit.Record
		want string // "outcome | result | approver | why | policy"
	}{
		{"ran and succeeded",
			[]audit.Record{rec("r", "request", ""), rec("r", "policy", "allow", func(r *audit.Record) { r.Rule = "allow_exact[0]" }),
				rec("r", "approval", "approved", detail("terminal /dev/pts/3")), rec("r", "result", "ran", exit(0))},
			"ran | ran, exit 0 | terminal /dev/pts/3 |  | allow (allow_exact[0])"},
		{"ran and failed",
			[]audit.Record{rec("r", "request", ""), rec("r", "policy", "allow"), rec("r", "approval", "approved", detail("terminal /dev/pts/3")), rec("r", "result", "ran", exit(3))},
			"ran | ran, exit 3 | terminal /dev/pts/3 |  | allow"},
		{"approved but not run",
			[]audit.Record{rec("r", "request", ""), rec("r", "policy", "allow"), rec("r", "approval", "approved", detail("terminal /dev/pts/3")),
				rec("r", "result", "not run", detail("binary changed since approval"))},
			"not run | not run | terminal /dev/pts/3 | binary changed since approval | allow"},
		{"denied by policy",
			[]audit.Record{rec("r", "request", ""), rec("r", "policy", "deny", func(r *audit.Record) { r.Rule = "builtin:shell"; r.Detail = "shells need explicit policy" }),
				rec("r", "refused", "refused", detail("shells need explicit policy"))},
			"refused | refused |  | shells need explicit policy | deny (builtin:shell)"},
		{"refused by the person",
			[]audit.Record{rec("r", "request", ""), rec("r", "policy", "allow"), rec("r", "approval", "refused", detail("clawwarden deny"))},
			"refused | refused |  | clawwarden deny | allow"},
		{"pending",
			[]audit.Record{rec("r", "request", ""), rec("r", "policy", "allow"), rec("r", "approval", "pending", detail("non-interactive sudo; waiting for 'clawwarden approve r'"))},
			"pending | pending |  | non-interactive sudo; waiting for 'clawwarden approve r' | allow"},
		{"pending, granted elsewhere, approved and ran",
			[]audit.Record{rec("r", "request", ""), rec("r", "policy", "allow"), rec("r", "approval", "pending", detail("non-interactive sudo")),
				rec("r", "approval", "granted", detail("clawwarden approve on /dev/pts/1")),
				rec("r", "approval", "approved", detail("pending:r; by uid 1000 on clawwarden approve on /dev/pts/1; runs there (pid 7)")),
				rec("r", "result", "ran", exit(0))},
			"ran | ran, exit 0 | clawwarden approve on /dev/pts/1 |  | allow"},
		{"enforced: the signer approves",
			[]audit.Record{rec("r", "request", ""), rec("r", "policy", "allow"), rec("r", "approval", "pending"),
				rec("r", "approval", "approved", func(r *audit.Record) { r.Approver = "alice@example.org"; r.KeyFP = "SHA256:abc" }),
				rec("r", "result", "ran", exit(0))},
			"ran | ran, exit 0 | alice@example.org (SHA256:abc) |  | allow"},
		{"approved, no result yet",
			[]audit.Record{rec("r", "request", ""), rec("r", "policy", "allow"), rec("r", "approval", "approved", detail("terminal /dev/pts/3"))},
			"approved | approved, no result yet | terminal /dev/pts/3 |  | allow"},
		{"the tail cut off the request record",
			[]audit.Record{rec("r", "approval", "approved", detail("terminal /dev/pts/3")), rec("r", "result", "ran", exit(0))},
			"ran | ran, exit 0 | terminal /dev/pts/3 |  | "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Requests(tt.recs, 10)
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1: %+v", len(got), got)
			}
			r := got[0]
			s := fmt.Sprintf("%s | %s | %s | %s | %s", r.Outcome, r.Result(), r.Approver, r.Why, r.Policy)
			if s != tt.want {
				t.Errorf("got  %q\nwant %q", s, tt.want)
			}
			if r.Command != "/usr/bin/systemctl restart nginx" || r.ID != "r" || r.Time != "2026-11-25T08:00:00Z" {
				t.Errorf("command %q, id %q, time %q", r.Command, r.ID, r.Time)
			}
		})
	}
}

// TestRequestsGroupsAndLimits: records of interleaved requests are grouped
// by id, records without one stand alone, the newest come first and only n
// are kept.
func TestRequestsGroupsAndLimits(t *testing.T) {
	recs := []audit.Record{
		{RequestID: "a", Event: "request", Argv: []string{"/usr/bin/id"}},
		{RequestID: "b", Event: "request", Argv: []string{"/usr/bin/true"}},
		{RequestID: "a", Event: "result", Decision: "ran", ExitCode: intp(0)},
		{Event: "session", Decision: "dropped", Detail: "clawwarden session drop"},
		{RequestID: "c", Event: "request", Argv: []string{"/usr/bin/false"}},
		{RequestID: "b", Event: "approval", Decision: "refused"},
	}
	var got []string
	for _, r := range Requests(recs, 3) {
		got = append(got, r.ID+":"+r.Command+":"+r.Result()+":"+r.Event)
	}
	want := []string{"c:/usr/bin/false:pending:", ":::session dropped", "b:/usr/bin/true:refused:"}
	if !slices.Equal(got, want) {
		t.Errorf("Requests =\n%q\nwant\n%q", got, want)
	}
}
