package assess

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/ports"
)

// The network checks, judged from the latest port and egress reports.

// worstRisk returns the highest of risks; low when there are none.
func worstRisk(risks []checkRisk) checkRisk {
	order := []checkRisk{RiskLow, RiskMedium, RiskHigh, RiskCritical}
	best := -1
	for _, r := range risks {
		if i := slices.Index(order, r); i > best {
			best = i
		}
	}
	if best < 0 {
		return RiskLow
	}
	return order[best]
}

// maxReportAge is how old a clean network report may be and still count as
// evidence of compliance.
const maxReportAge = 24 * time.Hour

// fromReport judges a check from a network report's status for it and its
// findings' titles, risks and mitigations.
func fromReport(now time.Time, file, generatedAt string, status checkStatus, scanCmd string, titles []string, risks []checkRisk, mitigations []string) outcome {
	evText := fmt.Sprintf("%s (generated %s)", file, generatedAt)
	if len(titles) == 0 && (status == "" || status == StatusCompliant) {
		at, err := time.Parse(time.RFC3339, generatedAt)
		switch {
		case err != nil:
			return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "nothing flagged, but the scan has no valid time", Evidence: evText,
				Gap: "the evidence cannot be dated", Mitigation: "Run `" + scanCmd + "` again."}
		case now.Sub(at) > maxReportAge:
			return outcome{Status: StatusPartial, Risk: RiskLow, Observed: fmt.Sprintf("nothing flagged, but the latest scan is %d hours old", int(now.Sub(at).Hours())), Evidence: evText,
				Gap: "the evidence is stale: exposure may have changed since", Mitigation: "Run `" + scanCmd + "` (or schedule `clawwarden cycle`) and assess again."}
		default:
			return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "nothing flagged in the latest scan", Evidence: evText}
		}
	}
	if status == "" {
		status = StatusViolation
	}
	shown := titles
	if len(shown) > 5 {
		shown = append(slices.Clone(shown[:5]), fmt.Sprintf("and %d more", len(titles)-5))
	}
	mit := "See the findings in " + file + "."
	if len(mitigations) > 0 {
		mit = mitigations[0] + " (first finding; see " + file + " for the others)"
	}
	return outcome{Status: status, Risk: worstRisk(risks), Observed: fmt.Sprintf("%d finding(s) in the latest scan", len(titles)),
		Evidence: evText + ": " + strings.Join(shown, "; "), Gap: "flagged network exposure not covered by the approved baseline or allowlist", Mitigation: mit}
}

// reportMissing judges a network check whose report cannot be read.
func reportMissing(err error, file, scanCmd string) outcome {
	if errors.Is(err, fs.ErrNotExist) {
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "no scan report", Evidence: file + " does not exist",
			Gap: "no evidence of what is on the network", Mitigation: "Run `" + scanCmd + "` (or `clawwarden cycle`) and assess again."}
	}
	return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the scan report cannot be read", Evidence: err.Error(),
		Gap: "no usable evidence", Mitigation: "Fix or remove " + file + ", then run `" + scanCmd + "` again."}
}

// portCheck judges the ports check id from the latest port report.
func portCheck(ev *evidence, id string) outcome {
	file := filepath.Join(ev.ReportsDir, ports.ReportFile)
	rep := ev.portsRep
	if rep == nil {
		return reportMissing(ev.portsErr, file, "clawwarden ports")
	}
	var titles, mits []string
	var risks []checkRisk
	for _, f := range rep.Findings {
		if f.CheckID == id {
			titles, risks, mits = append(titles, f.Title), append(risks, f.Risk), append(mits, f.Mitigation)
		}
	}
	if id == ports.CheckApproved && rep.BaselineMissing {
		return outcome{Status: StatusViolation, Risk: worstRisk(append(risks, RiskMedium)), Observed: "no approved port baseline exists",
			Evidence:   fmt.Sprintf("%s: baseline_missing; %d listeners", file, rep.Summary.Listeners),
			Gap:        "every listener is unapproved: there is nothing to compare exposure against",
			Mitigation: "Create a baseline with `clawwarden ports baseline`, review and prune " + rep.ApprovedFile + ", then run `clawwarden ports`."}
	}
	return fromReport(ev.Now, file, rep.GeneratedAt, rep.Summary.Checks[id], "clawwarden ports", titles, risks, mits)
}

// egressAllowlist judges whether outbound destinations can be judged.
func egressAllowlist(ev *evidence) outcome {
	path, err := ev.allowlistPath, ev.allowlistErr
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "no egress allowlist", Evidence: path + " does not exist",
			Gap:        "outbound destinations cannot be judged: every connection is flagged",
			Mitigation: "Create " + path + ` with the destinations agents need, e.g. [{"protocol":"tcp","host":"api.openai.com","port":443}], then run ` + "`clawwarden egress`."}
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the egress allowlist is unusable", Evidence: err.Error(),
			Gap:        "a malformed or unsafe allowlist is not applied",
			Mitigation: "Fix " + path + " (JSON array of {protocol, host|host_regex|cidr, port, command}; mode 0600, owned by you)."}
	case ev.allowlistRules == 0:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "the egress allowlist is empty", Evidence: path + ": 0 entries",
			Gap: "no destination is allowed, so every outbound connection is flagged", Mitigation: "Add the destinations agents need to " + path + "."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("the egress allowlist has %d entries", ev.allowlistRules), Evidence: path}
	}
}

// egressReport judges the latest egress report.
func egressReport(ev *evidence) outcome {
	file := filepath.Join(ev.ReportsDir, egress.ReportFile)
	rep := ev.egressRep
	if rep == nil {
		return reportMissing(ev.egressErr, file, "clawwarden egress")
	}
	var titles, mits []string
	var risks []checkRisk
	for _, f := range rep.Findings {
		titles, risks, mits = append(titles, f.Title), append(risks, f.Risk), append(mits, f.Mitigation)
	}
	return fromReport(ev.Now, file, rep.GeneratedAt, rep.Summary.Checks[egress.CheckID], "clawwarden egress", titles, risks, mits)
}
