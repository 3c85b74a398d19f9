package report

import (
	"fmt"
	"slices"
	"testing"

	"github.com/clawwarden/clawwarden/internal/assess"
)

// assessmentOf builds an assessment from "id status risk" triples; ids that
// start with "openclaw:" become OpenClaw audit findings.
func assessmentOf(at string, checks ...string) *assess.Assessment {
	a := &assess.Assessment{GeneratedAt: at}
	for _, c := range checks {
		var id, st, risk string
		if _, err := fmt.Sscan(c, &id, &st, &risk); err != nil {
			panic(c + ": " + err.Error())
		}
		ch := assess.Check{CheckID: id, Title: "title of " + id, Status: st, Risk: risk}
		if len(id) > 9 && id[:9] == "openclaw:" {
			a.OpenClawAudit.Findings = append(a.OpenClawAudit.Findings, ch)
		} else {
			a.Checks = append(a.Checks, ch)
		}
	}
	return a
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur []string
		want      []string // "kind id from->to"
	}{
		{"nothing changed",
			[]string{"a violation high", "b compliant low"},
			[]string{"a violation high", "b compliant low"},
			nil},
		{"compliant to violation is new",
			[]string{"a compliant low"},
			[]string{"a violation high"},
			[]string{"new a compliant/low->violation/high"}},
		{"violation to compliant is resolved",
			[]string{"a violation high"},
			[]string{"a compliant low"},
			[]string{"resolved a violation/high->compliant/low"}},
		{"partial to violation is worse, the reverse improved",
			[]string{"a partial medium", "b violation high"},
			[]string{"a violation medium", "b partial high"},
			[]string{"worse a partial/medium->violation/medium", "improved b violation/high->partial/high"}},
		{"a higher risk at the same status is worse",
			[]string{"a violation medium"},
			[]string{"a violation critical"},
			[]string{"worse a violation/medium->violation/critical"}},
		{"a compliant check's risk is not a finding",
			[]string{"a compliant low"},
			[]string{"a compliant medium"},
			nil},
		{"not assessed counts as open: compliant to not assessed is new",
			[]string{"a compliant low"},
			[]string{"a not_assessed medium"},
			[]string{"new a compliant/low->not_assessed/medium"}},
		{"an OpenClaw finding that appears is new, one that goes away resolved",
			[]string{"openclaw:old partial medium", "openclaw:gone compliant low"},
			[]string{"openclaw:fresh violation critical"},
			[]string{"new openclaw:fresh /->violation/critical", "resolved openclaw:old partial/medium->/"}},
		{"a new compliant check is no change",
			[]string{},
			[]string{"a compliant low"},
			nil},
		{"order: new, worse, resolved, improved; worst first, then id",
			[]string{"n1 compliant low", "n2 compliant low", "n3 compliant low", "r1 partial low", "r2 violation critical", "w partial high", "i violation low"},
			[]string{"n1 partial high", "n2 violation low", "n3 violation low", "r1 compliant low", "r2 compliant low", "w violation high", "i partial low"},
			[]string{
				"new n2 compliant/low->violation/low", "new n3 compliant/low->violation/low", "new n1 compliant/low->partial/high",
				"worse w partial/high->violation/high",
				"resolved r2 violation/critical->compliant/low", "resolved r1 partial/low->compliant/low",
				"improved i violation/low->partial/low",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := Compare(assessmentOf("2026-11-24T09:00:00Z", tt.prev...), assessmentOf("2026-11-25T09:00:00Z", tt.cur...))
			if ch.Since != "2026-11-24T09:00:00Z" || ch.Note != "" {
				t.Errorf("since %q, note %q; want the previous assessment's time and no note", ch.Since, ch.Note)
			}
			var got []string
			for _, c := range ch.List {
				got = append(got, fmt.Sprintf("%s %s %s/%s->%s/%s", c.Kind, c.CheckID, c.FromStatus, c.FromRisk, c.ToStatus, c.ToRisk))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("changes =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestCompareWithoutPrevious(t *testing.T) {
	ch := Compare(nil, assessmentOf("2026-11-25T09:00:00Z", "a violation high"))
	if ch.Since != "" || ch.Note == "" || len(ch.List) != 0 {
		t.Errorf("Compare(nil, …) = %+v, want no changes and a note", ch)
	}
}

func TestChangesCount(t *testing.T) {
	ch := Compare(assessmentOf("t0", "a compliant low", "b compliant low", "c violation high"),
		assessmentOf("t1", "a violation high", "b partial low", "c compliant low"))
	for kind, want := range map[string]int{ChangeNew: 2, ChangeWorse: 0, ChangeResolved: 1, ChangeImproved: 0} {
		if got := ch.Count(kind); got != want {
			t.Errorf("Count(%s) = %d, want %d", kind, got, want)
		}
	}
}

func TestSortChecks(t *testing.T) {
	in := assessmentOf("t",
		"na_high not_assessed high", "ok compliant low", "p_med partial medium", "v_low violation low",
		"v_crit violation critical", "p_crit partial critical", "b_v_high violation high", "a_v_high violation high",
	).Checks
	var got []string
	for _, c := range SortChecks(in) {
		got = append(got, c.CheckID)
	}
	want := []string{"v_crit", "a_v_high", "b_v_high", "v_low", "p_crit", "p_med", "na_high", "ok"}
	if !slices.Equal(got, want) {
		t.Errorf("SortChecks = %v, want %v", got, want)
	}
	if in[0].CheckID != "na_high" {
		t.Error("SortChecks reordered its argument")
	}
}
