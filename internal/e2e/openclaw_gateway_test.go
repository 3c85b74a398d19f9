package e2e

// The real OpenClaw gateway's exposure test is the script
// testdata/openclaw/gateway_exposure.txtar (TestOpenClawScript).

// assessedCheck is a check of openclaw-assessment.json.
type assessedCheck struct {
	CheckID  string `json:"check_id"`
	Status   string `json:"status"`
	Evidence string `json:"evidence"`
	Source   string `json:"source"`
}
