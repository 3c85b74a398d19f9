package oscal

// The few OSCAL 1.0.4 Assessment Results structures clawwarden writes,
// named as in the model; empty optional members are left out.

// Document is an OSCAL Assessment Results document.
type Document struct {
	AssessmentResults AssessmentResults `json:"assessment-results"`
}

// AssessmentResults is the document's root assembly.
type AssessmentResults struct {
	UUID       string      `json:"uuid"`
	Metadata   Metadata    `json:"metadata"`
	ImportAP   ImportAP    `json:"import-ap"`
	Results    []Result    `json:"results"`
	BackMatter *BackMatter `json:"back-matter,omitempty"`
}

// Metadata describes the document.
type Metadata struct {
	Title        string `json:"title"`
	LastModified string `json:"last-modified"`
	Version      string `json:"version"`
	OSCALVersion string `json:"oscal-version"`
	Props        []Prop `json:"props,omitempty"`
}

// Prop is a name-value property; NS names clawwarden's own.
type Prop struct {
	Name    string `json:"name"`
	NS      string `json:"ns,omitempty"`
	Value   string `json:"value"`
	Class   string `json:"class,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

// ImportAP points at the assessment plan.
type ImportAP struct {
	Href string `json:"href"`
}

// Result is one assessment.
type Result struct {
	UUID             string            `json:"uuid"`
	Title            string            `json:"title"`
	Description      string            `json:"description"`
	Start            string            `json:"start"`
	End              string            `json:"end,omitempty"`
	Props            []Prop            `json:"props,omitempty"`
	LocalDefinitions *LocalDefinitions `json:"local-definitions,omitempty"`
	ReviewedControls ReviewedControls  `json:"reviewed-controls"`
	Observations     []Observation     `json:"observations,omitempty"`
	Risks            []Risk            `json:"risks,omitempty"`
	Findings         []Finding         `json:"findings,omitempty"`
}

// LocalDefinitions holds the assessed host.
type LocalDefinitions struct {
	InventoryItems []InventoryItem `json:"inventory-items,omitempty"`
}

// InventoryItem is an assessed host.
type InventoryItem struct {
	UUID        string `json:"uuid"`
	Description string `json:"description"`
	Props       []Prop `json:"props,omitempty"`
}

// ReviewedControls are the controls the assessment covered.
type ReviewedControls struct {
	Description       string             `json:"description,omitempty"`
	ControlSelections []ControlSelection `json:"control-selections"`
}

// ControlSelection selects controls by id.
type ControlSelection struct {
	IncludeControls []SelectControl `json:"include-controls,omitempty"`
}

// SelectControl names one control.
type SelectControl struct {
	ControlID string `json:"control-id"`
}

// Observation is what one check observed.
type Observation struct {
	UUID             string       `json:"uuid"`
	Title            string       `json:"title,omitempty"`
	Description      string       `json:"description"`
	Props            []Prop       `json:"props,omitempty"`
	Methods          []string     `json:"methods"`
	Subjects         []SubjectRef `json:"subjects,omitempty"`
	RelevantEvidence []Evidence   `json:"relevant-evidence,omitempty"`
	Collected        string       `json:"collected"`
}

// SubjectRef names what was observed.
type SubjectRef struct {
	SubjectUUID string `json:"subject-uuid"`
	Type        string `json:"type"`
}

// Evidence is what a check read, and where.
type Evidence struct {
	Description string `json:"description"`
}

// Finding is one check's conclusion about its objective.
type Finding struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Props               []Prop               `json:"props,omitempty"`
	Target              Target               `json:"target"`
	RelatedObservations []RelatedObservation `json:"related-observations,omitempty"`
	RelatedRisks        []RelatedRisk        `json:"related-risks,omitempty"`
}

// Target is the objective a finding is about: the check.
type Target struct {
	Type     string `json:"type"`
	TargetID string `json:"target-id"`
	Title    string `json:"title,omitempty"`
	Status   Status `json:"status"`
}

// Status says whether the objective is satisfied.
type Status struct {
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

// RelatedObservation points at an observation.
type RelatedObservation struct {
	ObservationUUID string `json:"observation-uuid"`
}

// RelatedRisk points at a risk.
type RelatedRisk struct {
	RiskUUID string `json:"risk-uuid"`
}

// Risk is an open gap: what falls short and what to change, by when.
type Risk struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Statement           string               `json:"statement"`
	Props               []Prop               `json:"props,omitempty"`
	Status              string               `json:"status"`
	Deadline            string               `json:"deadline,omitempty"`
	RelatedObservations []RelatedObservation `json:"related-observations,omitempty"`
}

// BackMatter holds the resources the document points at.
type BackMatter struct {
	Resources []Resource `json:"resources,omitempty"`
}

// Resource is one back-matter resource.
type Resource struct {
	UUID        string `json:"uuid"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}
