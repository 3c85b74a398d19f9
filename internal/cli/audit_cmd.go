package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/quote"
)

func init() { subcommands = append(subcommands, subcommand{"audit", newAuditCmd}) }

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify or read the tamper-evident privileged audit log",
		Long: `The privileged audit log, ~/.openclaw/security/privileged-audit.jsonl, records
every step of every privileged command: request, policy decision, approval,
result, 'sudo -k' and session changes. Each line is one JSON object whose
"prev" field is the SHA-256 of the line before it (64 zeros on the first
line), so the lines form a chain. Lines written by the original skill (JSON
without "prev") are accepted before the first chained record.

Beside the log, every append rewrites its head file,
privileged-audit.jsonl.head: the number of lines, the hash of the last one
and the log's size, which the chain alone cannot vouch for.

What the chain and the head prove: 'clawwarden audit verify' detects a line
that was edited, removed, inserted or reordered, a truncated or torn write,
and records removed from the end or a last record changed after the last
append, and names the first line that does not verify.

What they do not prove: the log and its head belong to the user who runs the
agent, so a process running as that user can rewrite the whole file,
recompute every hash and rewrite (or delete) the head to match, and the log
still verifies: the head catches naive truncation, not that. To detect it,
keep the "head" hash that 'audit verify' prints where the agent cannot write
(another host, a password manager, paper), and later run
'clawwarden audit verify --anchor HASH': it checks that the line with that
hash is still in the chain, which proves that nothing up to it has changed.`,
		Args: noArgs,
	}

	var vo auditVerifyOptions
	verify := &cobra.Command{
		Use:   "verify [--json] [--file PATH] [--anchor HASH]",
		Short: "Check the hash chain and name the first record that does not verify",
		Long: `Verify reads the whole audit log, checks its hash chain and compares the
log with its head file (the log's name plus ".head"). It prints

  ok, N records[, M legacy records from the original skill]
  head <SHA-256 of the last line>
  head file ok|missing|invalid

and exits 0, or, at the first line that does not verify,

  broken at line K: <reason>

and exits 11. In the chain, line K does not follow from line K-1: one of them
was changed, so lines 1 to K-2 verified. Against the head file, records were
removed from the end of the log or it was rewritten after its last append. A
missing head file (a log written by an older version, or a removed head) or
one that cannot be read is not a break, but a warning: removal of the last
records cannot be detected; the next privileged command writes a new head.
With no log yet it prints "no audit log yet at PATH" and exits 0; a missing
log whose head file remains is broken at line 1.

--anchor HASH also checks that the line whose hash is HASH (a head noted
earlier) is still in the chain: it prints "anchor found at line K", or exits
11 when the anchor is missing (the log was rewritten, truncated, replaced or
deleted since the anchor was noted).

--json prints {"path","exists","ok","records","legacy","head","head_file",
"broken"} with head_file "ok", "missing", "invalid", "mismatch" (the log does
not match its head file: broken says how) or "unchecked" (the chain breaks
first), and broken null or {"line","reason"}, plus "anchor" and "anchor_line"
with --anchor; the exit status is the same. An unsafe log or head file
(symlink, foreign owner, group or other writable) exits 12.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runAuditVerify(vo)
		},
	}
	verify.Flags().BoolVar(&vo.json, "json", false, "print JSON")
	verify.Flags().StringVar(&vo.file, "file", "", "verify this file instead of the audit log")
	verify.Flags().StringVar(&vo.anchor, "anchor", "", "a head hash noted earlier that must still be in the chain")

	var to auditTailOptions
	tail := &cobra.Command{
		Use:   "tail [-n N] [--json] [--file PATH]",
		Short: "Show the last records of the audit log, for people",
		Long: `Tail prints the last N lines of the audit log (default 20), oldest first, one
per line:

  TIME  EVENT  DECISION  exit=CODE  ARGV  session=ID  reason=TEXT  rule=RULE  detail=TEXT  request=ID

TIME is UTC; a missing decision prints as "-"; fields that are not set are
left out; ARGV and values are shell-quoted, control characters escaped. Lines
of the original skill print as "[legacy] <JSON>", lines that are not records
as "[invalid at byte OFFSET: reason] <text>".

--json prints a JSON array with one element per line: the line's JSON object
as stored (clawwarden's records have "prev", the original skill's do not), or
{"invalid","offset","text"} for a line that is not JSON.

Tail reads from the end of the file and does not verify the chain; run
'clawwarden audit verify' for that.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runAuditTail(to)
		},
	}
	tail.Flags().IntVarP(&to.n, "lines", "n", 20, "how many lines to show")
	tail.Flags().BoolVar(&to.json, "json", false, "print JSON")
	tail.Flags().StringVar(&to.file, "file", "", "read this file instead of the audit log")

	cmd.AddCommand(verify, tail)
	return cmd
}

type auditVerifyOptions struct {
	json   bool
	file   string
	anchor string
}

type auditTailOptions struct {
	n    int
	json bool
	file string
}

// auditPath is the file to read: file when given, else the audit log.
func (a *app) auditPath(file string) (string, error) {
	if file != "" {
		return file, nil
	}
	if _, ok := a.enforced(); ok {
		return enforcedLayout.AuditLog(), nil
	}
	paths, err := a.Paths()
	if err != nil {
		return "", err
	}
	return paths.Security(config.AuditLogFile), nil
}

type auditVerifyJSON struct {
	Path       string          `json:"path"`
	Exists     bool            `json:"exists"`
	OK         bool            `json:"ok"`
	Records    int             `json:"records"`
	Legacy     int             `json:"legacy"`
	Head       string          `json:"head"`
	HeadFile   string          `json:"head_file"`
	Broken     *auditBreakJSON `json:"broken"`
	Anchor     string          `json:"anchor,omitempty"`
	AnchorLine int             `json:"anchor_line,omitempty"`
}

type auditBreakJSON struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (a *app) runAuditVerify(o auditVerifyOptions) error {
	path, err := a.auditPath(o.file)
	if err != nil {
		return err
	}
	v, err := audit.Judge(path, o.anchor)
	if errors.Is(err, audit.ErrBadAnchor) {
		return usageErr("--anchor %v", err)
	}
	if err != nil {
		return err
	}
	res := v.Result
	if o.json {
		out := auditVerifyJSON{
			Path: path, Exists: v.Exists, OK: v.OK(),
			Records: res.Records, Legacy: res.Legacy, Head: res.Head,
			HeadFile: headFileState(res.HeadFile),
			Anchor:   v.Anchor, AnchorLine: res.AnchorLine,
		}
		if b := res.Broken; b != nil {
			out.Broken = &auditBreakJSON{Line: b.Line, Reason: b.Reason}
		}
		if err := writeJSON(a.stdio.Out, out); err != nil {
			return err
		}
	} else {
		printAuditResult(a.stdio.Out, path, v.Exists, v.Anchor, res)
		if v.Warning != "" {
			a.printf("warning: %s", v.Warning)
		}
	}
	if v.Err != nil {
		return withHint(v.Err, v.Hints...)
	}
	return nil
}

// headFileState is the head file's state as 'audit verify --json' prints it.
func headFileState(s audit.HeadState) string {
	if s == audit.HeadUnchecked {
		return "unchecked"
	}
	return string(s)
}

// printAuditResult prints the outcome of 'audit verify' for people.
func printAuditResult(w io.Writer, path string, exists bool, anchor string, res audit.Result) {
	switch {
	case res.Broken != nil:
		fmt.Fprintf(w, "broken at line %d: %s\n", res.Broken.Line, res.Broken.Reason)
	case !exists:
		fmt.Fprintf(w, "no audit log yet at %s\n", path)
	default:
		fmt.Fprintf(w, "ok, %s", plural(res.Records, "record"))
		if res.Legacy > 0 {
			fmt.Fprintf(w, ", %s from the original skill", plural(res.Legacy, "legacy record"))
		}
		fmt.Fprintln(w)
		if res.Head != "" {
			fmt.Fprintf(w, "head %s\n", res.Head)
		}
		fmt.Fprintf(w, "head file %s\n", res.HeadFile)
	}
	switch {
	case anchor == "" || !exists:
	case res.AnchorLine > 0:
		fmt.Fprintf(w, "anchor found at line %d: nothing up to it has changed\n", res.AnchorLine)
	case res.Broken == nil:
		fmt.Fprintf(w, "anchor %s not found\n", anchor)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func (a *app) runAuditTail(o auditTailOptions) error {
	if o.n < 1 {
		return usageErr("-n must be at least 1, got %d", o.n)
	}
	path, err := a.auditPath(o.file)
	if err != nil {
		return err
	}
	entries, err := audit.Tail(path, o.n)
	if errors.Is(err, fs.ErrNotExist) {
		if o.json {
			_, err := io.WriteString(a.stdio.Out, "[]\n")
			return err
		}
		fmt.Fprintf(a.stdio.Out, "no audit log yet at %s\n", path)
		return nil
	}
	if err != nil {
		return err
	}
	if o.json {
		out := make([]any, 0, len(entries))
		for _, e := range entries {
			if e.Invalid != "" {
				out = append(out, struct {
					Invalid string `json:"invalid"`
					Offset  int64  `json:"offset"`
					Text    string `json:"text"`
				}{e.Invalid, e.Offset, strings.ToValidUTF8(string(e.Raw), "\uFFFD")})
				continue
			}
			out = append(out, e.Raw)
		}
		return writeJSON(a.stdio.Out, out)
	}
	for _, e := range entries {
		fmt.Fprintln(a.stdio.Out, formatEntry(e))
	}
	return nil
}

// auditTimeLayout is how 'audit tail' prints times: UTC, milliseconds.
const auditTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// formatEntry renders one audit line for people, on one line, with every
// control character escaped: the log holds argv chosen by the agent, which
// must not be able to move the cursor or fake lines in a person's terminal.
func formatEntry(e audit.Entry) string {
	switch {
	case e.Invalid != "":
		return fmt.Sprintf("[invalid at byte %d: %s] %s", e.Offset, e.Invalid, quote.Text(string(e.Raw)))
	case e.Legacy:
		return "[legacy] " + quote.Text(string(e.Raw))
	}
	r := e.Record
	decision := r.Decision
	if decision == "" {
		decision = "-"
	}
	f := []string{r.Time.UTC().Format(auditTimeLayout), quote.Word(r.Event), quote.Word(decision)}
	if r.ExitCode != nil {
		f = append(f, "exit="+strconv.Itoa(*r.ExitCode))
	}
	if len(r.Argv) > 0 {
		f = append(f, quote.Argv(r.Argv))
	}
	for _, kv := range [][2]string{
		{"session", r.SessionID}, {"reason", r.Reason}, {"rule", r.Rule},
		{"detail", r.Detail}, {"request", r.RequestID},
	} {
		if kv[1] != "" {
			f = append(f, kv[0]+"="+quote.Word(kv[1]))
		}
	}
	return strings.Join(f, "  ")
}
