package oscal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/oscal"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// schemaPath is NIST's published JSON schema for OSCAL 1.0.4 Assessment
// Results, in shared/ beside the repository.
var schemaPath = filepath.Join("..", "..", "..", "shared", "oscal", "oscal_assessment-results_schema.json")

// assessment runs a real assessment of a bare host at t, with one finding
// of OpenClaw's own audit (whose check id is not an OSCAL token).
func assessment(t *testing.T, at time.Time) *assess.Assessment {
	t.Helper()
	dir := t.TempDir()
	paths, err := config.Locate(func(k string) string { return map[string]string{"HOME": filepath.Join(dir, "home")}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "root", "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	return assess.Run(context.Background(), assess.Options{Paths: paths, Now: at, Hostname: "gw1", User: "agent", UID: 1000, Root: filepath.Join(dir, "root"),
		OpenClawAudit: &openclaw.AuditReport{Findings: []openclaw.AuditFinding{
			{CheckID: "gateway.bind:lan", Severity: "critical", Title: "Gateway binds beyond loopback", Detail: "gateway.bind is lan", Remediation: "Set gateway.bind to loopback."},
		}}})
}

func build(t *testing.T, a *assess.Assessment, hostID string) ([]byte, *oscal.Document) {
	t.Helper()
	d := oscal.Build(a, oscal.Options{HostID: hostID, Tool: "test"})
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), d
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaPath)
	if err != nil {
		testenv.Skip(t, "NIST's OSCAL schema is missing (%v): shared/oscal beside the repository holds it", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("oscal_assessment-results_schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("oscal_assessment-results_schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSchema validates the document of a real assessment against NIST's
// schema, and checks what the schema cannot: every check is an observation
// and a finding that points at it, with its controls.
func TestSchema(t *testing.T) {
	schema := compileSchema(t)
	a := assessment(t, time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC))
	data, d := build(t, a, "machine-id-1")
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("the document does not validate: %v", err)
	}
	t.Logf("%d checks: %d bytes", len(a.AllChecks()), len(data))

	ar := d.AssessmentResults
	if ar.Metadata.OSCALVersion != "1.0.4" || len(ar.Results) != 1 {
		t.Fatalf("oscal-version %q, %d results", ar.Metadata.OSCALVersion, len(ar.Results))
	}
	r := ar.Results[0]
	checks := a.AllChecks()
	if len(r.Observations) != len(checks) || len(r.Findings) != len(checks) {
		t.Fatalf("%d checks: %d observations, %d findings", len(checks), len(r.Observations), len(r.Findings))
	}
	for i, c := range checks {
		f := r.Findings[i]
		if f.RelatedObservations[0].ObservationUUID != r.Observations[i].UUID {
			t.Errorf("%s: finding does not point at its observation", c.CheckID)
		}
		if want := c.Status == assess.StatusCompliant; (f.Target.Status.State == "satisfied") != want {
			t.Errorf("%s: status %s, state %s", c.CheckID, c.Status, f.Target.Status.State)
		}
		var iso, nist []string
		for _, p := range f.Props {
			if p.Name == "control-id" && p.Class == "iso27001" {
				iso = append(iso, p.Value)
			}
			if p.Name == "control-id" && p.Class == "nist_csf" {
				nist = append(nist, p.Value)
			}
		}
		if len(iso) != len(c.ISO27001) || len(nist) != len(c.NISTCSF) || len(iso) == 0 || len(nist) == 0 {
			t.Errorf("%s: controls %v %v, want %v %v", c.CheckID, iso, nist, c.ISO27001, c.NISTCSF)
		}
	}
	if last := r.Findings[len(r.Findings)-1]; last.Target.TargetID != "openclaw_gateway.bind_lan" || len(last.RelatedRisks) != 1 {
		t.Errorf("OpenClaw's finding: target %q, risks %v", last.Target.TargetID, last.RelatedRisks)
	}
	if !strings.Contains(string(data), `"control-id": "A.8.2"`) || !strings.Contains(string(data), `"control-id": "PR.AA-05"`) {
		t.Errorf("reviewed controls lack A.8.2 or PR.AA-05")
	}
}

// TestStableUUIDs checks that a check keeps its observation, finding and
// risk UUIDs across two assessments of one host, while the result and the
// document get new ones, and that another host gets other UUIDs.
func TestStableUUIDs(t *testing.T) {
	first := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	_, d1 := build(t, assessment(t, first), "machine-id-1")
	_, d2 := build(t, assessment(t, first.Add(time.Hour)), "machine-id-1")
	_, other := build(t, assessment(t, first), "machine-id-2")
	r1, r2, r3 := d1.AssessmentResults.Results[0], d2.AssessmentResults.Results[0], other.AssessmentResults.Results[0]
	if d1.AssessmentResults.UUID == d2.AssessmentResults.UUID || r1.UUID == r2.UUID {
		t.Errorf("a new assessment kept the document or result UUID")
	}
	for i := range r1.Findings {
		if r1.Findings[i].UUID != r2.Findings[i].UUID || r1.Observations[i].UUID != r2.Observations[i].UUID {
			t.Errorf("%s: UUIDs changed across runs", r1.Findings[i].Target.TargetID)
		}
		if r1.Findings[i].UUID == r3.Findings[i].UUID {
			t.Errorf("%s: two hosts share a finding UUID", r1.Findings[i].Target.TargetID)
		}
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if u, ok := v["uuid"].(string); ok {
				if seen[u] {
					t.Errorf("uuid %s appears twice", u)
				}
				seen[u] = true
				if u[14] != '5' {
					t.Errorf("uuid %s is not version 5", u)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	data, _ := json.Marshal(d1)
	var doc any
	json.Unmarshal(data, &doc)
	walk(doc)
}

func TestLoad(t *testing.T) {
	if _, err := oscal.Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no assessment yet") {
		t.Errorf("Load of an empty directory: %v", err)
	}
}

// TestSchemaRejects makes sure the validation has teeth: documents the
// model forbids fail it.
func TestSchemaRejects(t *testing.T) {
	schema := compileSchema(t)
	_, d := build(t, assessment(t, time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)), "m")
	for name, spoil := range map[string]func(*oscal.Document){
		"unknown state":     func(d *oscal.Document) { d.AssessmentResults.Results[0].Findings[0].Target.Status.State = "partial" },
		"no methods":        func(d *oscal.Document) { d.AssessmentResults.Results[0].Observations[0].Methods = nil },
		"bad uuid":          func(d *oscal.Document) { d.AssessmentResults.UUID = "not-a-uuid" },
		"time without zone": func(d *oscal.Document) { d.AssessmentResults.Metadata.LastModified = "2026-12-02T08:00:00" },
	} {
		data, _ := json.Marshal(d)
		var c oscal.Document
		json.Unmarshal(data, &c)
		spoil(&c)
		data, _ = json.Marshal(c)
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if schema.Validate(inst) == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}
