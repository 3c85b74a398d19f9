// Package oscal builds an OSCAL Assessment Results document (OSCAL 1.0.4,
// JSON) from clawwarden's latest assessment, for the compliance tooling of
// regulated shops.
//
// # Layout
//
// The document holds one result: the assessment. Each check is one
// observation (what was observed, with its evidence) and one finding (the
// check as the objective, satisfied or not, with its ISO/IEC 27001:2022 and
// NIST CSF 2.0 controls as properties); a check that is not compliant also
// has a risk with its gap, mitigation and due date. The reviewed controls
// are every control the checks map to. The host is the one inventory item
// the observations are about. The document names no assessment plan of its
// own: import-ap points at a back-matter resource that describes the
// checks.
//
// # Stable identifiers
//
// UUIDs are version 5 (name-based, SHA-1; RFC 9562) under a namespace of
// the host, which is derived from a host identity (the machine id where
// there is one): the observation, finding and risk of a check keep their
// UUIDs across assessments of the same host, so tools can follow a finding
// over time; the result and the document are named by the assessment's
// time.
package oscal

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/report"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Version is the OSCAL version of the documents.
const Version = "1.0.4"

// NS is the namespace of clawwarden's own properties.
const NS = "https://github.com/clawwarden/clawwarden/ns/oscal"

// namespace is the UUID namespace every clawwarden UUID descends from.
var namespace = mustParseUUID("6f1c0c4e-3a9b-4c4e-9d2a-7b0e5d1f2a83")

// ErrNoAssessment: the reports directory holds no assessment yet.
var ErrNoAssessment = errors.New("no assessment yet")

// Load reads the latest assessment from the reports directory.
func Load(reportsDir string) (*assess.Assessment, error) {
	path := filepath.Join(reportsDir, assess.AssessmentFile)
	data, err := safefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoAssessment, path)
	}
	if err != nil {
		return nil, err
	}
	var a assess.Assessment
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, safefile.ErrInvalid, err)
	}
	return &a, nil
}

// Options say what the document cannot learn from the assessment.
type Options struct {
	// HostID identifies the host across runs (its machine id); the
	// assessment's host name when empty. Only a hash of it is written.
	HostID string
	// Tool is the version of clawwarden, for the document's metadata.
	Tool string
}

// Build returns the Assessment Results document of a.
func Build(a *assess.Assessment, o Options) *Document {
	hostID := o.HostID
	if hostID == "" {
		hostID = "hostname:" + a.Host
	}
	host := uuidV5(namespace, "host:"+hostID)
	id := func(kind string) string { return uuidV5(host, kind).String() }
	plan := uuidV5(namespace, "assessment-plan").String()
	item := id("inventory-item")

	res := Result{
		UUID:        id("result:" + a.GeneratedAt),
		Title:       "clawwarden assessment of " + a.Host,
		Description: "The checks of the OpenClaw cyber-security-engineer skill, run by clawwarden on " + a.Host + " as " + a.User + ", mapped to " + frameworks(a) + ".",
		Start:       a.GeneratedAt,
		End:         a.GeneratedAt,
		Props: []Prop{
			{Name: "status", NS: NS, Value: a.Summary.Status},
			{Name: "score-percent", NS: NS, Value: fmt.Sprint(a.Summary.Score)},
		},
		LocalDefinitions: &LocalDefinitions{InventoryItems: []InventoryItem{{
			UUID:        item,
			Description: "The host " + a.Host + ", which runs the OpenClaw gateway.",
			Props:       []Prop{{Name: "host-name", NS: NS, Value: a.Host}},
		}}},
		ReviewedControls: ReviewedControls{
			Description:       "The ISO/IEC 27001:2022 Annex A and NIST CSF 2.0 controls the checks map to.",
			ControlSelections: []ControlSelection{{IncludeControls: reviewed(a)}},
		},
	}
	for _, c := range a.AllChecks() {
		obs := Observation{
			UUID:        id("observation:" + c.CheckID),
			Title:       c.Title,
			Description: nonEmpty(c.Observed, c.Title),
			Props:       []Prop{{Name: "check-id", NS: NS, Value: c.CheckID}, {Name: "source", NS: NS, Value: c.Source}},
			Methods:     []string{"TEST"},
			Subjects:    []SubjectRef{{SubjectUUID: item, Type: "inventory-item"}},
			Collected:   a.GeneratedAt,
		}
		if ev := strings.TrimSpace(c.Evidence); ev != "" {
			obs.RelevantEvidence = []Evidence{{Description: ev}}
		}
		res.Observations = append(res.Observations, obs)

		f := Finding{
			UUID:        id("finding:" + c.CheckID),
			Title:       c.Title,
			Description: findingText(c),
			Props: []Prop{
				{Name: "status", NS: NS, Value: c.Status},
				{Name: "risk", NS: NS, Value: c.Risk},
			},
			Target: Target{
				Type:     "objective-id",
				TargetID: token(c.CheckID),
				Title:    c.Title,
				Status:   status(c.Status),
			},
			RelatedObservations: []RelatedObservation{{ObservationUUID: obs.UUID}},
		}
		for _, ctl := range c.ISO27001 {
			f.Props = append(f.Props, Prop{Name: "control-id", NS: NS, Class: "iso27001", Value: ctl.ID, Remarks: ctl.Name})
		}
		for _, ctl := range c.NISTCSF {
			f.Props = append(f.Props, Prop{Name: "control-id", NS: NS, Class: "nist_csf", Value: ctl.ID, Remarks: ctl.Name})
		}
		if c.Status != assess.StatusCompliant && c.Status != assess.StatusNotAssessed {
			r := Risk{
				UUID:                id("risk:" + c.CheckID),
				Title:               c.Title,
				Description:         nonEmpty(c.Gap, c.Observed, c.Title),
				Statement:           nonEmpty(c.Mitigation, "See the check's evidence."),
				Props:               []Prop{{Name: "risk", NS: NS, Value: c.Risk}, {Name: "owner", NS: NS, Value: nonEmpty(c.Owner, "unassigned")}},
				Status:              "open",
				RelatedObservations: []RelatedObservation{{ObservationUUID: obs.UUID}},
			}
			if c.DueDate != "" {
				r.Deadline = c.DueDate + "T00:00:00Z"
			}
			res.Risks = append(res.Risks, r)
			f.RelatedRisks = []RelatedRisk{{RiskUUID: r.UUID}}
		}
		res.Findings = append(res.Findings, f)
	}

	title := "clawwarden assessment results: " + a.Host + ", " + a.GeneratedAt
	return &Document{AssessmentResults: AssessmentResults{
		UUID: id("assessment-results:" + a.GeneratedAt),
		Metadata: Metadata{
			Title:        title,
			LastModified: a.GeneratedAt,
			Version:      a.GeneratedAt,
			OSCALVersion: Version,
			Props:        []Prop{{Name: "tool", NS: NS, Value: nonEmpty(strings.TrimSpace(a.Tool+" "+o.Tool), "clawwarden")}},
		},
		ImportAP: ImportAP{Href: "#" + plan},
		Results:  []Result{res},
		BackMatter: &BackMatter{Resources: []Resource{{
			UUID:        plan,
			Title:       "clawwarden's checks for hosts that run OpenClaw",
			Description: "The assessment plan: the checks of the OpenClaw cyber-security-engineer skill, each run from evidence read on the host at assessment time, and their mapping to " + frameworks(a) + ". 'clawwarden assess' runs them.",
		}}},
	}}
}

// Write writes d as indented JSON.
func (d *Document) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func frameworks(a *assess.Assessment) string {
	var names []string
	for _, k := range []string{"iso27001", "nist_csf"} {
		if n := a.Frameworks[k]; n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "ISO/IEC 27001:2022 Annex A and NIST CSF 2.0"
	}
	return strings.Join(names, " and ")
}

// reviewed lists every control the checks map to, ISO first, in the
// summary's order.
func reviewed(a *assess.Assessment) []SelectControl {
	var out []SelectControl
	for _, c := range report.Summarize(a).Controls {
		s := SelectControl{ControlID: token(c.ID)}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// status maps a check's status to the objective's: only compliant is
// satisfied; the reason keeps clawwarden's word.
func status(s string) Status {
	st := Status{State: "not-satisfied", Reason: "fail"}
	switch s {
	case assess.StatusCompliant:
		st = Status{State: "satisfied", Reason: "pass"}
	case assess.StatusNotAssessed:
		st.Reason = "not-assessed"
		st.Remarks = "The evidence could not be read, so the check was not assessed; the observation says why."
	case assess.StatusPartial:
		st.Reason = "partial"
	}
	return st
}

func findingText(c assess.Check) string {
	parts := []string{nonEmpty(c.Observed, c.Title)}
	if c.Gap != "" {
		parts = append(parts, "Gap: "+c.Gap)
	}
	if c.Mitigation != "" && c.Status != assess.StatusCompliant {
		parts = append(parts, "Mitigation: "+c.Mitigation)
	}
	if c.Owner != "" && c.DueDate != "" {
		parts = append(parts, "Owner: "+c.Owner+"; due "+c.DueDate+".")
	}
	return strings.Join(parts, "\n\n")
}

func nonEmpty(s ...string) string {
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" {
			return x
		}
	}
	return ""
}

// token makes s an OSCAL token (a letter or underscore, then letters,
// digits, '.', '-' and '_'): OpenClaw's "openclaw:…" check ids have a
// colon.
func token(s string) string {
	var b strings.Builder
	for i, r := range s {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
		if i > 0 {
			ok = ok || r >= '0' && r <= '9' || r == '.' || r == '-'
		}
		if !ok {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// UUID is an RFC 9562 UUID.
type UUID [16]byte

// String returns u in its canonical hyphenated lower-case form.
func (u UUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// uuidV5 is the name-based UUID of name in namespace ns (SHA-1, version 5).
func uuidV5(ns UUID, name string) UUID {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u UUID
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return u
}

func mustParseUUID(s string) UUID {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("oscal: bad UUID " + s)
	}
	return UUID(b)
}

// HostID returns the host's machine id (systemd's /etc/machine-id, or
// D-Bus's copy), read under root ("" or "/" for the real one), or "" when
// there is none; [Build] then falls back to the host name. The id is only
// ever hashed into UUIDs: machine-id(5) asks that it not be exposed.
func HostID(root string) string {
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		data, err := os.ReadFile(filepath.Join(root, p))
		if id := strings.TrimSpace(string(data)); err == nil && id != "" {
			return "machine-id:" + id
		}
	}
	return ""
}
