package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/notify"
)

func init() { subcommands = append(subcommands, subcommand{"notify", newNotifyCmd}) }

type notifyOptions struct {
	asJSON  bool
	dryRun  bool
	reports string
	timeout time.Duration
}

func newNotifyCmd(a *app) *cobra.Command {
	var o notifyOptions
	cmd := &cobra.Command{
		Use:   "notify [--json] [--dry-run] [--reports DIR]",
		Short: "Run the allowlisted notifier when the reports hold new violations",
		Long: `Read the violations of the latest reports (openclaw-assessment.json,
port-monitor-latest.json, egress-monitor-latest.json) and, when some were not
notified before, run OPENCLAW_VIOLATION_NOTIFY_CMD — an absolute path, or a
JSON argv array — but only if OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST (a JSON
array of argv arrays, or comma-separated absolute paths) contains exactly
that argv. The command runs without a shell; it gets the summary as JSON on
standard input and as one line of text in its last argument.

The last notified set is kept in ~/.openclaw/security/violation-notify-state.json
(OPENCLAW_VIOLATION_NOTIFY_STATE overrides), so the same violations are not
sent twice; it is updated only after the notifier succeeds.

Exit status: 0 notified or nothing new, 3 the command is not allowlisted
(it is not run), 10 the notifier failed, 12 a report or the state file is
malformed or unsafe, 64 usage or a malformed notifier variable.`,
		Example: "  OPENCLAW_VIOLATION_NOTIFY_CMD=/usr/local/bin/page-me \\\n  OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST=/usr/local/bin/page-me clawwarden notify",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNotify(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.asJSON, "json", false, "print the result as JSON")
	f.BoolVar(&o.dryRun, "dry-run", false, "say what would be sent; run nothing and keep the state")
	f.StringVar(&o.reports, "reports", "", "read the reports from DIR (default: the reports directory)")
	f.DurationVar(&o.timeout, "timeout", time.Minute, "time limit for the notify command")
	return cmd
}

func runNotify(ctx context.Context, a *app, o notifyOptions) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	state := a.env.NotifyState
	if state == "" {
		state = paths.Security(config.NotifyStateFile)
	}
	dir := o.reports
	if dir == "" {
		dir = paths.ReportsDir
	}
	host, _ := os.Hostname()
	res, err := notify.Run(ctx, notify.Options{
		ReportsDir: dir,
		StateFile:  state,
		Command:    a.env.NotifyCmd,
		Allowlist:  a.env.NotifyAllowlist,
		Host:       host,
		Now:        a.now(),
		Timeout:    o.timeout,
		DryRun:     o.dryRun,
	})
	if o.asJSON && (err == nil || errors.Is(err, notify.ErrNotAllowlisted)) {
		enc := json.NewEncoder(a.stdio.Out)
		enc.SetIndent("", "  ")
		if res.New == nil {
			res.New = []string{}
		}
		if jerr := enc.Encode(res); jerr != nil {
			return jerr
		}
	}
	switch {
	case errors.Is(err, notify.ErrNotAllowlisted):
		return withHint(err, "the command was not run; an administrator must add its exact argv to OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST")
	case err != nil:
		return err
	}
	if !o.asJSON {
		fmt.Fprintf(a.stdio.Out, "notify: %d violation(s), %d new: %s\n", res.Violations, len(res.New), res.Reason)
		for _, k := range res.New {
			fmt.Fprintf(a.stdio.Out, "  new: %s\n", strings.ReplaceAll(k, "|", "  "))
		}
	}
	if len(res.Missing) > 0 {
		a.printf("note: no %s yet (run 'clawwarden assess', 'clawwarden ports' and 'clawwarden egress')", strings.Join(res.Missing, ", "))
	}
	return nil
}
