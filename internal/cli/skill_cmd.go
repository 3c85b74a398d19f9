package cli

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/skill"
)

func init() { subcommands = append(subcommands, subcommand{"skill", newSkillCmd}) }

func newSkillCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "skill",
		Short: "Install, check or remove the OpenClaw skill " + config.SkillName,
		Long: `The skill is the SKILL.md that teaches an OpenClaw agent to use clawwarden:
the controls, how to run privileged commands ('clawwarden exec', never raw
sudo), what the exit statuses mean, how to read the reports, and every file
clawwarden writes. It is built into this binary and installed into OpenClaw's
managed skills directory, ~/.openclaw/skills/` + config.SkillName + `/SKILL.md
($OPENCLAW_STATE_DIR/skills/..., or $OPENCLAW_CYBER_SKILL_DIR when set), where
every agent using that state directory sees it ('openclaw skills list').
OpenClaw lists it as eligible when clawwarden is on PATH.`,
		Args: noArgs,
	}
	var force, asJSON bool
	install := &cobra.Command{
		Use:   "install [--force]",
		Short: "Write the skill's SKILL.md into OpenClaw's managed skills directory",
		Long: `Install writes SKILL.md; an identical file is left alone. A different
SKILL.md (the original Python skill's, an edited copy, another clawwarden
version's) is replaced only with --force, and then kept beside it as
SKILL.md.TIME.bak.

Exit status: 0 installed or already current, 64 a different SKILL.md is in
place and --force was not given, 12 unsafe path (symlink, foreign owner).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.skillInstall(force)
		},
	}
	install.Flags().BoolVar(&force, "force", false, "replace a different SKILL.md (keeping a backup)")
	status := &cobra.Command{
		Use:   "status [--json]",
		Short: "Tell whether the skill is installed and the same as the built-in copy",
		Long: `Status prints the skill file and its state: current (identical to the
copy built into this clawwarden), outdated (written by another clawwarden
version), foreign (a SKILL.md clawwarden did not write) or missing. It also
says whether clawwarden is on PATH, which OpenClaw requires to list the skill
as eligible.

--json prints {"dir","file","state","clawwarden_on_path"}.

Exit status: 0 current, 10 anything else, 12 unsafe path.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.skillStatus(asJSON)
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var uforce bool
	uninstall := &cobra.Command{
		Use:   "uninstall [--force]",
		Short: "Remove the skill's SKILL.md (reports in assessments/ stay)",
		Long: `Uninstall removes SKILL.md when clawwarden wrote it (any version), and the
skill directory when that leaves it empty. A SKILL.md clawwarden did not write
is removed only with --force. Reports in assessments/ and backups stay.

Exit status: 0 removed or not installed, 64 not clawwarden's SKILL.md and
--force not given, 12 unsafe path.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.skillUninstall(uforce)
		},
	}
	uninstall.Flags().BoolVar(&uforce, "force", false, "remove a SKILL.md that clawwarden did not write")
	cmd.AddCommand(install, status, uninstall)
	return cmd
}

func (a *app) skillInstall(force bool) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	r, err := skill.Install(paths.SkillDir, force, a.now())
	if errors.Is(err, skill.ErrModified) {
		return withHint(err, "compare it with 'clawwarden skill status', or rerun with --force to replace it (a copy is kept as SKILL.md.TIME.bak)")
	}
	if err != nil {
		return err
	}
	w := a.stdio.Out
	switch r.Action {
	case "unchanged":
		fmt.Fprintf(w, "skill %s is already installed and current: %s\n", config.SkillName, r.File)
	case "replaced":
		fmt.Fprintf(w, "replaced %s with clawwarden's skill; the previous file is kept as %s\n", r.File, r.Backup)
	default:
		fmt.Fprintf(w, "installed skill %s: %s\n", config.SkillName, r.File)
	}
	if _, err := exec.LookPath("clawwarden"); err != nil {
		a.printf("note: clawwarden is not on PATH, so OpenClaw lists the skill as not eligible until it is")
	}
	fmt.Fprintln(w, "check with: openclaw skills list (new agent sessions pick it up; OpenClaw's skills watcher refreshes running ones)")
	return nil
}

type skillStatusJSON struct {
	skill.Status
	OnPath bool `json:"clawwarden_on_path"`
}

func (a *app) skillStatus(asJSON bool) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	st, err := skill.Inspect(paths.SkillDir)
	if err != nil {
		return err
	}
	_, lerr := exec.LookPath("clawwarden")
	out := skillStatusJSON{Status: st, OnPath: lerr == nil}
	if asJSON {
		if err := writeJSON(a.stdio.Out, out); err != nil {
			return err
		}
	} else {
		w := a.stdio.Out
		switch st.State {
		case skill.Current:
			fmt.Fprintf(w, "skill %s: installed and current: %s\n", config.SkillName, st.File)
		case skill.Outdated:
			fmt.Fprintf(w, "skill %s: %s was written by another clawwarden version\n  fix: clawwarden skill install --force\n", config.SkillName, st.File)
		case skill.Foreign:
			fmt.Fprintf(w, "skill %s: %s was not written by clawwarden (the original skill's, or edited)\n  fix: clawwarden skill install --force (keeps a copy)\n", config.SkillName, st.File)
		default:
			fmt.Fprintf(w, "skill %s: not installed (%s does not exist)\n  fix: clawwarden skill install\n", config.SkillName, st.File)
		}
		if !out.OnPath {
			fmt.Fprintln(w, "clawwarden is not on PATH: OpenClaw lists the skill as not eligible until it is")
		}
	}
	if st.State != skill.Current {
		return silent(ExitFindings)
	}
	return nil
}

func (a *app) skillUninstall(force bool) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	r, err := skill.Uninstall(paths.SkillDir, force)
	if errors.Is(err, skill.ErrModified) {
		return withHint(fmt.Errorf("%s was not written by clawwarden; not removed: %w", r.File, err), "rerun with --force to remove it anyway")
	}
	if err != nil {
		return err
	}
	if r.Action == "absent" {
		fmt.Fprintf(a.stdio.Out, "skill %s is not installed (%s does not exist)\n", config.SkillName, r.File)
		return nil
	}
	fmt.Fprintf(a.stdio.Out, "removed %s\n", r.File)
	return nil
}
