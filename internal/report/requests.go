package report

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/quote"
)

// Outcomes of a [Request].
const (
	OutcomeRan      = "ran"      // the command ran; ExitCode is its status
	OutcomeNotRun   = "not run"  // approved, but it did not start; Why says why
	OutcomeRefused  = "refused"  // the policy or the person refused it
	OutcomePending  = "pending"  // waiting for a person's decision
	OutcomeUnknown  = "unknown"  // approved, and how it ended was not recorded
	OutcomeApproved = "approved" // approved, no result recorded yet (running, or the guard was killed)
)

// Request is one privileged request as its audit records tell it: the
// records that share a request id, from the request through the policy
// decision and the approval to the result. A record without a request id
// (a session dropped, a passphrase set) is a Request of its own with Event
// set and no Outcome.
type Request struct {
	ID       string `json:"request_id,omitempty"`
	Time     string `json:"time"` // of its first record, RFC 3339 UTC
	Command  string `json:"command"`
	Session  string `json:"session,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Policy   string `json:"policy,omitempty"` // the policy decision and rule: "allow (rule)", "deny (rule)"
	Approver string `json:"approver,omitempty"`
	Advisory bool   `json:"advisory,omitempty"` // sudo needed no password, so the approval did not bind
	Outcome  string `json:"outcome,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
	Why      string `json:"why,omitempty"`   // why it did not run, was refused or waits
	Event    string `json:"event,omitempty"` // for a record outside any request: its event and decision
}

// Result says in a few words how the request ended: "ran, exit 0",
// "not run", "refused", "pending", "approved, no result yet".
func (r Request) Result() string {
	switch r.Outcome {
	case OutcomeRan:
		if r.ExitCode != nil {
			return "ran, exit " + strconv.Itoa(*r.ExitCode)
		}
		return "ran"
	case OutcomeApproved:
		return "approved, no result yet"
	}
	return r.Outcome
}

// Requests groups audit records (oldest first) by request id and returns
// at most n requests, newest first. The oldest group may have lost its first
// records to the tail's limit; it keeps what is there.
func Requests(recs []audit.Record, n int) []Request {
	var out []*Request
	byID := map[string]*Request{}
	for _, rec := range recs {
		var r *Request
		if rec.RequestID != "" {
			r = byID[rec.RequestID]
		}
		if r == nil {
			r = &Request{ID: rec.RequestID, Time: rec.Time.UTC().Format(time.RFC3339)}
			out = append(out, r)
			if rec.RequestID != "" {
				byID[rec.RequestID] = r
			} else {
				r.Event = strings.TrimSpace(rec.Event + " " + rec.Decision)
				r.Why = quote.Text(rec.Detail)
			}
		}
		if rec.RequestID == "" {
			r.Command = quote.Argv(rec.Argv)
			r.Session = quote.Text(rec.SessionID)
			r.Reason = quote.Text(rec.Reason)
			continue
		}
		apply(r, rec)
	}
	slices.Reverse(out)
	if len(out) > n {
		out = out[:n]
	}
	res := make([]Request, len(out))
	for i, r := range out {
		res[i] = *r
	}
	return res
}

// apply adds one record of a request to what is known of it.
func apply(r *Request, rec audit.Record) {
	if r.Command == "" && len(rec.Argv) > 0 {
		r.Command = quote.Argv(rec.Argv)
	}
	if r.Session == "" {
		r.Session = quote.Text(rec.SessionID)
	}
	if r.Reason == "" {
		r.Reason = quote.Text(rec.Reason)
	}
	if rec.Advisory {
		r.Advisory = true
	}
	detail := quote.Text(rec.Detail)
	switch rec.Event {
	case "request":
		if r.Outcome == "" {
			r.Outcome = OutcomePending
		}
	case "policy":
		r.Policy = quote.Text(rec.Decision)
		if rec.Rule != "" {
			r.Policy += " (" + quote.Text(rec.Rule) + ")"
		}
		if rec.Decision == "deny" {
			r.Outcome, r.Why = OutcomeRefused, "policy: "+firstNonEmpty(detail, quote.Text(rec.Rule))
		} else if r.Outcome == "" {
			r.Outcome = OutcomePending
		}
	case "approval", "decision":
		switch rec.Decision {
		case "approved", "granted":
			if r.Outcome != OutcomeRan && r.Outcome != OutcomeNotRun && r.Outcome != OutcomeUnknown {
				r.Outcome, r.Why = OutcomeApproved, ""
			}
			if r.Approver == "" {
				r.Approver = approver(rec)
			}
		case "pending":
			if r.Outcome == "" || r.Outcome == OutcomePending {
				r.Outcome, r.Why = OutcomePending, detail
			}
		default: // refused, rejected, denied
			r.Outcome, r.Why = OutcomeRefused, detail
		}
	case "refused":
		r.Outcome, r.Why = OutcomeRefused, firstNonEmpty(detail, quote.Text(rec.Rule))
	case "result":
		switch {
		case rec.Decision == "ran", rec.Decision == "" && rec.ExitCode != nil:
			r.Outcome, r.ExitCode, r.Why = OutcomeRan, rec.ExitCode, ""
		case rec.Decision == "not run":
			r.Outcome, r.Why = OutcomeNotRun, detail
		default:
			r.Outcome, r.Why = OutcomeUnknown, detail
		}
	}
}

// approver says who approved: the signer's principal and key in enforced
// mode, otherwise where the person answered ("terminal /dev/pts/3",
// "clawwarden approve on /dev/pts/1").
func approver(rec audit.Record) string {
	if rec.Approver != "" {
		s := quote.Text(rec.Approver)
		if rec.KeyFP != "" {
			s += " (" + quote.Text(rec.KeyFP) + ")"
		}
		return s
	}
	d := quote.Text(rec.Detail)
	if d == "" {
		return "a person (not recorded where)"
	}
	if rest, ok := strings.CutPrefix(d, "pending:"); ok {
		// "pending:ID; by uid 1000 on clawwarden approve on /dev/pts/1; runs there (pid 7)"
		if _, after, ok := strings.Cut(rest, "; by "); ok {
			d, _, _ = strings.Cut(after, "; runs there")
			return d
		}
	}
	return d
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// readRequests reads the last records of the audit log at path and groups
// them into at most n requests; nil when the log cannot be read (the
// assessment's chain verdict says why).
func readRequests(path string, n int) []Request {
	if path == "" {
		return nil
	}
	entries, err := audit.Tail(path, 20*n)
	if err != nil {
		return nil
	}
	var recs []audit.Record
	for _, en := range entries {
		if en.Invalid == "" && !en.Legacy {
			recs = append(recs, en.Record)
		}
	}
	return Requests(recs, n)
}
