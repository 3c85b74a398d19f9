package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/session"
)

func init() { subcommands = append(subcommands, subcommand{"session", newSessionCmd}) }

func newSessionCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "Show or drop the privileged-session state",
		Args:  noArgs,
	}
	var asJSON bool
	status := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show approved commands, last activity and time left before the 30-minute idle expiry",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.sessionStatus(asJSON)
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	drop := &cobra.Command{
		Use:   "drop",
		Short: "Drop every approval now (a corrupt state file is kept aside, not deleted)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.sessionDrop()
		},
	}
	cmd.AddCommand(status, drop)
	return cmd
}

type sessionStatusJSON struct {
	Path          string             `json:"path"`
	Elevated      bool               `json:"elevated"`
	Expired       bool               `json:"expired"`
	LastActivity  *time.Time         `json:"last_activity,omitempty"`
	IdleTimeout   string             `json:"idle_timeout"`
	IdleRemaining string             `json:"idle_remaining"`
	Approvals     []session.Approval `json:"approvals"`
}

func (a *app) sessionStatus(asJSON bool) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	store := &session.Store{Path: paths.Security(config.SessionStateFile), Now: a.now}
	st, err := store.Load()
	if err != nil {
		return err
	}
	now := a.now()
	expired := st.Expired(now) && len(st.Approvals) > 0
	out := sessionStatusJSON{
		Path:          store.Path,
		Elevated:      len(st.Approvals) > 0 && !expired,
		Expired:       expired,
		IdleTimeout:   session.IdleTimeout.String(),
		IdleRemaining: st.IdleRemaining(now).Round(time.Second).String(),
		Approvals:     st.Approvals,
	}
	if out.Approvals == nil {
		out.Approvals = []session.Approval{}
	}
	if !st.LastActivity.IsZero() {
		t := st.LastActivity
		out.LastActivity = &t
	}
	if asJSON {
		return writeJSON(a.stdio.Out, out)
	}
	w := a.stdio.Out
	switch {
	case expired:
		fmt.Fprintf(w, "privileged session: expired (idle for more than %s); the next command needs a new approval\n", session.IdleTimeout)
	case out.Elevated:
		fmt.Fprintf(w, "privileged session: %d approved command(s), expires after %s more idle time\n", len(st.Approvals), out.IdleRemaining)
	default:
		fmt.Fprintln(w, "privileged session: none (every privileged command needs approval)")
	}
	if !st.LastActivity.IsZero() {
		fmt.Fprintf(w, "last privileged activity: %s\n", st.LastActivity.Local().Format(time.RFC3339))
	}
	for _, ap := range st.Approvals {
		sid := ap.SessionID
		if sid == "" {
			sid = "(none)"
		}
		fmt.Fprintf(w, "  %s  cwd=%s  session=%s  approved %s via %s\n", approval.Display(ap.Argv, ap.SudoArgs, ap.Edit),
			quote.Word(ap.Cwd), quote.Word(sid), ap.ApprovedAt.Local().Format(time.RFC3339), ap.Via)
	}
	return nil
}

func (a *app) sessionDrop() error {
	ap, err := a.approver()
	if err != nil {
		return err
	}
	aside, done, err := ap.DropSession()
	if !done {
		return err
	}
	if err != nil {
		a.printf("warning: %v", err)
	}
	if aside != "" {
		a.printf("the unreadable state file was kept as %s", aside)
	}
	fmt.Fprintln(a.stdio.Out, "privileged session dropped: every privileged command needs approval again")
	return nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
