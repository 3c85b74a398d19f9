// Package notify runs the violation notifier: when the latest reports hold
// violations that were not notified before, it runs the command named by
// OPENCLAW_VIOLATION_NOTIFY_CMD — only if OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST
// allows exactly that argv — with the summary as data, never through a
// shell.
//
// The notifier gets the summary twice: as JSON on its standard input and as
// one line of text in its last argument. The set of violations last
// notified is kept in the state file (violation-notify-state.json), so the
// same set is not sent again; a run that finds no new violation records the
// current set, so a violation that is fixed and comes back is sent again.
package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/command"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

// ErrNotAllowlisted is returned when the notify command is not in the
// allowlist; the command is not run.
var ErrNotAllowlisted = errors.New("notify command is not allowlisted")

// ErrNotifierFailed is returned when the notify command fails or times out;
// the state is not updated, so the next run tries again.
var ErrNotifierFailed = errors.New("the notifier failed")

// ErrConfig marks a malformed OPENCLAW_VIOLATION_NOTIFY_CMD or
// OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST.
var ErrConfig = errors.New("bad notifier configuration")

// Violation is one violation found in a report.
type Violation struct {
	Key     string `json:"key"`    // stable identity: report, check id and title
	Report  string `json:"report"` // assessment, ports or egress
	CheckID string `json:"check_id"`
	Title   string `json:"title"`
	Risk    string `json:"risk"`
}

// Collect reads the violations of the latest assessment, port and egress
// reports in dir. Missing reports are skipped (their names are returned in
// missing); a malformed or unsafe report is an error.
func Collect(dir string) (vs []Violation, missing []string, err error) {
	read := func(name string, v any) (bool, error) {
		path := filepath.Join(dir, name)
		data, err := safefile.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, path)
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if err := json.Unmarshal(data, v); err != nil {
			return false, fmt.Errorf("%s: %w: %v", path, safefile.ErrInvalid, err)
		}
		return true, nil
	}
	add := func(report, id, title, risk, status string) {
		if status != assess.StatusViolation {
			return
		}
		vs = append(vs, Violation{Key: report + "|" + id + "|" + title, Report: report, CheckID: id, Title: title, Risk: risk})
	}
	var a assess.Assessment
	if ok, err := read(assess.AssessmentFile, &a); err != nil {
		return nil, nil, err
	} else if ok {
		for _, c := range a.AllChecks() {
			add("assessment", c.CheckID, c.Title, c.Risk, c.Status)
		}
	}
	var pr ports.Report
	if ok, err := read(ports.ReportFile, &pr); err != nil {
		return nil, nil, err
	} else if ok {
		for _, f := range pr.Findings {
			add("ports", f.CheckID, f.Title, f.Risk, f.Status)
		}
	}
	var er egress.Report
	if ok, err := read(egress.ReportFile, &er); err != nil {
		return nil, nil, err
	} else if ok {
		for _, f := range er.Findings {
			add("egress", f.CheckID, f.Title, f.Risk, f.Status)
		}
	}
	slices.SortFunc(vs, func(x, y Violation) int { return strings.Compare(x.Key, y.Key) })
	vs = slices.CompactFunc(vs, func(x, y Violation) bool { return x.Key == y.Key })
	return vs, missing, nil
}

// Fingerprint is the hex SHA-256 of the sorted violation keys.
func Fingerprint(vs []Violation) string {
	h := sha256.New()
	for _, v := range vs {
		h.Write([]byte(v.Key))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// State is the content of the state file.
type State struct {
	Fingerprint string    `json:"fingerprint"`
	Violations  []string  `json:"violations"` // keys of the last recorded set
	NotifiedAt  time.Time `json:"notified_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// ParseAllowlist parses OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST: a JSON array of
// argv arrays, or comma-separated absolute paths (each an argv of one). Every
// argv[0] must be absolute.
func ParseAllowlist(s string) ([][]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out [][]string
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST: want a JSON array of argv arrays such as [[\"/usr/local/bin/notify\"]] (%v): %w", err, ErrConfig)
		}
	} else {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, []string{p})
			}
		}
	}
	for i, argv := range out {
		if len(argv) == 0 || !filepath.IsAbs(argv[0]) {
			return nil, fmt.Errorf("OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST: entry %d: the command must be an absolute path, got %q: %w", i, argv, ErrConfig)
		}
	}
	return out, nil
}

// ParseCommand parses OPENCLAW_VIOLATION_NOTIFY_CMD: an absolute path, or a
// JSON array argv whose first element is an absolute path.
func ParseCommand(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	var argv []string
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &argv); err != nil {
			return nil, fmt.Errorf("OPENCLAW_VIOLATION_NOTIFY_CMD: want an absolute path or a JSON argv array (%v): %w", err, ErrConfig)
		}
	} else if s != "" {
		argv = []string{s}
	}
	if len(argv) == 0 || !filepath.IsAbs(argv[0]) {
		return nil, fmt.Errorf("OPENCLAW_VIOLATION_NOTIFY_CMD must be an absolute path, got %q: %w", s, ErrConfig)
	}
	return argv, nil
}

// Allowed reports whether argv equals one allowlisted argv exactly: no
// extra, missing or different arguments.
func Allowed(argv []string, allow [][]string) bool {
	return slices.ContainsFunc(allow, func(a []string) bool { return slices.Equal(a, argv) })
}

// Options configure a [Run].
type Options struct {
	ReportsDir string
	StateFile  string
	Command    string // OPENCLAW_VIOLATION_NOTIFY_CMD
	Allowlist  string // OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST
	Host       string
	Now        time.Time
	Timeout    time.Duration // for the notifier; one minute when zero
	DryRun     bool          // decide and report, but run nothing and keep the state
}

// Message is what the notifier receives on standard input.
type Message struct {
	Host          string      `json:"host"`
	GeneratedAt   string      `json:"generated_at"`
	NewViolations []Violation `json:"new_violations"`
	Violations    []Violation `json:"violations"` // every current violation
	Fingerprint   string      `json:"fingerprint"`
}

// Result says what a run did.
type Result struct {
	Violations int      `json:"violations"`
	New        []string `json:"new"`      // keys of violations not notified before
	Notified   bool     `json:"notified"` // the notifier ran and succeeded
	Command    []string `json:"command,omitempty"`
	Missing    []string `json:"missing_reports,omitempty"`
	Reason     string   `json:"reason"` // why it did or did not notify
}

// Run compares the current violations with the state file and runs the
// notifier for new ones. It holds the state file's lock throughout, so two
// runs cannot both send the same set. The state is written only after the
// notifier succeeds, so a failed notification is retried next time.
func Run(ctx context.Context, o Options) (Result, error) {
	var res Result
	vs, missing, err := Collect(o.ReportsDir)
	if err != nil {
		return res, err
	}
	res.Violations, res.Missing = len(vs), missing
	if err := safefile.EnsureDir(filepath.Dir(o.StateFile)); err != nil {
		return res, err
	}
	lock, err := safefile.LockFor(o.StateFile)
	if err != nil {
		return res, err
	}
	defer lock.Unlock()
	var st State
	data, err := safefile.ReadFile(o.StateFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return res, err
	default:
		if err := json.Unmarshal(data, &st); err != nil {
			return res, fmt.Errorf("%s: %w: %v (remove it to start over)", o.StateFile, safefile.ErrInvalid, err)
		}
	}
	var fresh []Violation
	for _, v := range vs {
		if !slices.Contains(st.Violations, v.Key) {
			fresh = append(fresh, v)
			res.New = append(res.New, v.Key)
		}
	}
	keys := make([]string, 0, len(vs))
	for _, v := range vs {
		keys = append(keys, v.Key)
	}
	next := State{Fingerprint: Fingerprint(vs), Violations: keys, NotifiedAt: st.NotifiedAt, UpdatedAt: o.Now.UTC()}
	if len(fresh) == 0 {
		res.Reason = "no new violations since the last notification"
		if o.DryRun || (st.Fingerprint == next.Fingerprint && len(st.Violations) == len(keys)) {
			return res, nil
		}
		return res, save(o.StateFile, next)
	}
	if strings.TrimSpace(o.Command) == "" {
		res.Reason = "OPENCLAW_VIOLATION_NOTIFY_CMD is not set: nothing to run"
		return res, nil
	}
	argv, err := ParseCommand(o.Command)
	if err != nil {
		return res, err
	}
	res.Command = argv
	allow, err := ParseAllowlist(o.Allowlist)
	if err != nil {
		return res, err
	}
	if !Allowed(argv, allow) {
		res.Reason = "not allowlisted"
		return res, fmt.Errorf("%q is not in OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST (add exactly this argv to it): %w", argv, ErrNotAllowlisted)
	}
	if o.DryRun {
		res.Reason = "dry run: would run the notifier"
		return res, nil
	}
	msg := Message{Host: o.Host, GeneratedAt: o.Now.UTC().Format(time.RFC3339), NewViolations: fresh, Violations: vs, Fingerprint: next.Fingerprint}
	if msg.Violations == nil {
		msg.Violations = []Violation{}
	}
	if err := runNotifier(ctx, argv, msg, o.Timeout); err != nil {
		res.Reason = "the notifier failed"
		return res, fmt.Errorf("%w: %w", ErrNotifierFailed, err)
	}
	next.NotifiedAt = o.Now.UTC()
	res.Notified = true
	res.Reason = fmt.Sprintf("notified %d new violation(s)", len(fresh))
	return res, save(o.StateFile, next)
}

func save(path string, st State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(path, append(data, '\n'))
}

// Line is the one-line text summary passed as the notifier's last argument.
func Line(m Message) string {
	ids := make([]string, 0, len(m.NewViolations))
	for _, v := range m.NewViolations {
		ids = append(ids, v.CheckID)
	}
	ids = slices.Compact(ids)
	return fmt.Sprintf("clawwarden: %d new violation(s) on %s (%d in total): %s", len(m.NewViolations), m.Host, len(m.Violations), strings.Join(ids, ", "))
}

// runNotifier runs argv plus the summary line, with the JSON message on
// standard input, without a shell.
func runNotifier(ctx context.Context, argv []string, m Message, timeout time.Duration) error {
	if timeout == 0 {
		timeout = time.Minute
	}
	fi, err := os.Stat(argv[0])
	if err != nil {
		return fmt.Errorf("notify command: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("notify command %s is not an executable file", argv[0])
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	args := append(slices.Clone(argv[1:]), Line(m))
	_, err = command.Exec{}.Run(ctx, command.Cmd{Name: argv[0], Args: args, Stdin: append(body, '\n'), Timeout: timeout})
	if errors.Is(err, command.ErrTimeout) {
		return fmt.Errorf("notify command %s timed out after %s", argv[0], timeout)
	}
	return err
}
