// Package report writes the assessment's three report files:
// openclaw-assessment.json (every check with its evidence),
// compliance-summary.json (counts, open items and per-control status for
// tools) and compliance-dashboard.html (one self-contained page for people).
//
// Writers take an io.Writer, so tests read buffers; [WriteAll] writes the
// three files through safefile, and keeps the assessment it replaces as
// openclaw-assessment.previous.json: the dashboard shows which findings are
// new, worse, resolved or improved since then ([Compare]). With a scheduled
// cycle, that is since the last cycle.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/finding"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

// WriteAssessment writes a as indented JSON.
func WriteAssessment(w io.Writer, a *assess.Assessment) error {
	return writeJSON(w, a)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Summary is the content of compliance-summary.json.
type Summary struct {
	GeneratedAt string            `json:"generated_at"`
	Host        string            `json:"host"`
	Frameworks  map[string]string `json:"frameworks"`
	Status      string            `json:"status"`
	Score       int               `json:"score_percent"`
	Total       int               `json:"total"`
	ByStatus    map[string]int    `json:"by_status"`
	ByRisk      map[string]int    `json:"by_risk"`
	OpenItems   []OpenItem        `json:"open_items"`
	Controls    []ControlStatus   `json:"controls"`
	AuditChain  string            `json:"audit_chain"`
	InputErrors []string          `json:"input_errors,omitempty"`
}

// OpenItem is a check that is not compliant, worst first.
type OpenItem struct {
	CheckID    string `json:"check_id"`
	Title      string `json:"title"`
	Status     string `json:"status"`
	Risk       string `json:"risk"`
	Mitigation string `json:"mitigation"`
	Owner      string `json:"owner"`
	DueDate    string `json:"due_date"`
}

// ControlStatus is the worst status among the checks mapped to a control.
type ControlStatus struct {
	Framework string   `json:"framework"` // iso27001 or nist_csf
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Status    string   `json:"status"`
	Checks    []string `json:"checks"`
}

func statusRank(s string) int { return finding.Status(s).Rank() }
func riskRank(r string) int   { return finding.Risk(r).Rank() }

// Summarize builds the summary of a.
func Summarize(a *assess.Assessment) Summary {
	s := Summary{
		GeneratedAt: a.GeneratedAt, Host: a.Host, Frameworks: a.Frameworks,
		Status: a.Summary.Status, Score: a.Summary.Score, Total: a.Summary.Total,
		ByStatus: a.Summary.ByStatus, ByRisk: a.Summary.ByRisk,
		OpenItems: []OpenItem{}, Controls: []ControlStatus{},
		AuditChain: a.AuditChain.Status + ": " + a.AuditChain.Detail, InputErrors: a.InputErrors,
	}
	all := a.AllChecks()
	for _, c := range all {
		if c.Status == assess.StatusCompliant {
			continue
		}
		s.OpenItems = append(s.OpenItems, OpenItem{CheckID: c.CheckID, Title: c.Title, Status: c.Status, Risk: c.Risk, Mitigation: c.Mitigation, Owner: c.Owner, DueDate: c.DueDate})
	}
	slices.SortStableFunc(s.OpenItems, func(x, y OpenItem) int {
		if d := statusRank(y.Status) - statusRank(x.Status); d != 0 {
			return d
		}
		return riskRank(y.Risk) - riskRank(x.Risk)
	})
	idx := map[string]int{}
	add := func(fw string, ctl assess.Control, c assess.Check) {
		key := fw + " " + ctl.ID
		i, ok := idx[key]
		if !ok {
			i = len(s.Controls)
			idx[key] = i
			s.Controls = append(s.Controls, ControlStatus{Framework: fw, ID: ctl.ID, Name: ctl.Name, Status: assess.StatusCompliant})
		}
		cs := &s.Controls[i]
		if !slices.Contains(cs.Checks, c.CheckID) {
			cs.Checks = append(cs.Checks, c.CheckID)
		}
		if statusRank(c.Status) > statusRank(cs.Status) {
			cs.Status = c.Status
		}
	}
	for _, c := range all {
		for _, ctl := range c.ISO27001 {
			add("iso27001", ctl, c)
		}
		for _, ctl := range c.NISTCSF {
			add("nist_csf", ctl, c)
		}
	}
	slices.SortFunc(s.Controls, func(x, y ControlStatus) int {
		if x.Framework != y.Framework {
			if x.Framework < y.Framework {
				return -1
			}
			return 1
		}
		return compareControlIDs(x.ID, y.ID)
	})
	return s
}

// compareControlIDs orders "A.8.9" before "A.8.13" by comparing numeric
// parts as numbers.
func compareControlIDs(a, b string) int {
	pa, pb := splitID(a), splitID(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i].num != pb[i].num || pa[i].text != pb[i].text {
			if pa[i].text != pb[i].text {
				if pa[i].text < pb[i].text {
					return -1
				}
				return 1
			}
			return pa[i].num - pb[i].num
		}
	}
	return len(pa) - len(pb)
}

type idPart struct {
	text string
	num  int
}

func splitID(s string) []idPart {
	var out []idPart
	cur := idPart{}
	inNum := false
	flush := func() { out = append(out, cur); cur = idPart{}; inNum = false }
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			cur.num = cur.num*10 + int(r-'0')
			inNum = true
		case r == '.' || r == '-':
			flush()
		default:
			if inNum {
				flush()
			}
			cur.text += string(r)
		}
	}
	flush()
	return out
}

// WriteSummary writes the summary of a as indented JSON.
func WriteSummary(w io.Writer, a *assess.Assessment) error {
	return writeJSON(w, Summarize(a))
}

// Paths are the report files written by [WriteAll].
type Paths struct {
	Assessment string
	Summary    string
	Dashboard  string
	// Previous is the assessment that Assessment replaced, kept for the
	// next comparison's reader; "" when there was none to keep.
	Previous string
}

// WriteAll renders the three reports and writes them into dir (created
// 0700 when missing) through safefile.
//
// The dashboard shows what changed since the previous assessment: the
// openclaw-assessment.json that this call replaces. WriteAll reads it
// before writing anything and keeps a copy as
// openclaw-assessment.previous.json, written atomically before the new
// assessment replaces the old one, so a crash at any point leaves both
// files whole: at worst the copy equals the assessment not yet replaced,
// and the next run compares with that. An old assessment that cannot be
// read or parsed is left alone and the dashboard says why it compares with
// nothing.
func WriteAll(dir string, a *assess.Assessment) (Paths, error) {
	p := Paths{
		Assessment: filepath.Join(dir, assess.AssessmentFile),
		Summary:    filepath.Join(dir, assess.SummaryFile),
		Dashboard:  filepath.Join(dir, assess.DashboardFile),
	}
	if err := safefile.EnsureDir(dir); err != nil {
		return p, err
	}
	prev, raw, note := readPrevious(p.Assessment)
	ch := Compare(prev, a)
	if note != "" {
		ch.Note = note
	}
	if prev != nil {
		p.Previous = filepath.Join(dir, PreviousAssessmentFile)
		if err := safefile.WriteFile(p.Previous, raw); err != nil {
			return p, err
		}
	}
	for _, f := range []struct {
		path  string
		write func(io.Writer, *assess.Assessment) error
	}{
		{p.Assessment, WriteAssessment},
		{p.Summary, WriteSummary},
		{p.Dashboard, func(w io.Writer, a *assess.Assessment) error { return WriteDashboardChanges(w, a, ch) }},
	} {
		var buf bytes.Buffer
		if err := f.write(&buf, a); err != nil {
			return p, err
		}
		if err := safefile.WriteFile(f.path, buf.Bytes()); err != nil {
			return p, err
		}
	}
	return p, nil
}

// readPrevious reads the assessment at path that is about to be replaced:
// nil and no note when there is none, nil and a note saying why when it
// cannot be used.
func readPrevious(path string) (prev *assess.Assessment, raw []byte, note string) {
	raw, err := safefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, ""
	}
	if err != nil {
		return nil, nil, "the previous assessment could not be read (" + err.Error() + "), so there is nothing"
	}
	var a assess.Assessment
	if err := json.Unmarshal(raw, &a); err != nil || a.GeneratedAt == "" {
		return nil, nil, "the previous assessment " + path + " is not an assessment, so there is nothing"
	}
	return &a, raw, ""
}
