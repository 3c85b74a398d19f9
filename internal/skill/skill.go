// Package skill holds the OpenClaw skill that teaches an agent to use
// clawwarden (SKILL.md, built into the binary) and installs, inspects and
// removes it in OpenClaw's managed skills directory.
//
// OpenClaw loads "managed" skills from <state-dir>/skills/NAME/SKILL.md
// (OpenClaw's docs/tools/skills.md, "Loading order"), visible to every agent
// that uses that state directory; `openclaw skills list` shows them with
// source "openclaw-managed". The front matter follows OpenClaw's format: name,
// description, and a metadata.openclaw block whose requires.bins lists
// clawwarden, so OpenClaw marks the skill eligible only where clawwarden is on
// PATH.
//
// A SKILL.md that differs from the built-in one (the original Python
// skill's, an edited copy, another clawwarden version's) is never replaced
// without force, and then a copy of it is kept beside it as
// SKILL.md.TIME.bak.
package skill

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Content is the SKILL.md clawwarden installs.
//
//go:embed SKILL.md
var Content []byte

// FileName is the skill file OpenClaw looks for in a skill's directory.
const FileName = "SKILL.md"

// marker is in every SKILL.md clawwarden wrote, whatever its version.
var marker = []byte("<!-- clawwarden-skill:")

// ErrModified is returned by Install when the SKILL.md in place differs from
// the built-in one, and by Uninstall when clawwarden did not write it, and
// force was not given.
var ErrModified = errors.New("differs from clawwarden's SKILL.md")

// State is what is installed.
type State string

// States of an installed skill.
const (
	Current  State = "current"  // our SKILL.md, identical to the built-in one
	Outdated State = "outdated" // a SKILL.md clawwarden wrote, from another version
	Foreign  State = "foreign"  // a SKILL.md clawwarden did not write (or edited)
	Missing  State = "missing"  // no SKILL.md
)

// Status describes the installed skill.
type Status struct {
	Dir   string `json:"dir"`
	File  string `json:"file"`
	State State  `json:"state"`
}

// Inspect reports what is installed in dir.
func Inspect(dir string) (Status, error) {
	s := Status{Dir: dir, File: filepath.Join(dir, FileName)}
	data, err := safefile.ReadFile(s.File)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.State = Missing
	case err != nil:
		return s, err
	default:
		s.State = classify(data)
	}
	return s, nil
}

func classify(data []byte) State {
	switch {
	case bytes.Equal(data, Content):
		return Current
	case bytes.Contains(data, marker):
		return Outdated
	}
	return Foreign
}

// Result says what Install or Uninstall did.
type Result struct {
	Status
	Action string `json:"action"`           // installed, unchanged, replaced, removed or absent
	Backup string `json:"backup,omitempty"` // where a replaced foreign SKILL.md was kept
}

// Install writes the built-in SKILL.md into dir (created 0700 if missing).
// An identical file is left alone; any other SKILL.md, including one from
// another clawwarden version, is replaced only with force, after a copy is
// kept beside it.
func Install(dir string, force bool, now time.Time) (Result, error) {
	if err := safefile.EnsureDir(dir); err != nil {
		return Result{}, err
	}
	st, err := Inspect(dir)
	if err != nil {
		return Result{Status: st}, err
	}
	r := Result{Status: st}
	switch st.State {
	case Current:
		r.Action = "unchanged"
		return r, nil
	case Missing:
		r.Action = "installed"
	default:
		if !force {
			return r, fmt.Errorf("%s: %w", st.File, ErrModified)
		}
		old, err := safefile.ReadFile(st.File)
		if err != nil {
			return r, err
		}
		r.Backup = filepath.Join(dir, FileName+"."+now.UTC().Format("20060102T150405Z")+".bak")
		if err := safefile.WriteFile(r.Backup, old); err != nil {
			return r, err
		}
		r.Action = "replaced"
	}
	if err := safefile.WriteFile(st.File, Content); err != nil {
		return r, err
	}
	r.State = Current
	return r, nil
}

// Uninstall removes SKILL.md from dir when clawwarden wrote it (or with
// force), and dir itself when that leaves it empty. Report files in
// assessments/ and backups stay.
func Uninstall(dir string, force bool) (Result, error) {
	st, err := Inspect(dir)
	r := Result{Status: st}
	if err != nil {
		return r, err
	}
	switch st.State {
	case Missing:
		r.Action = "absent"
		return r, nil
	case Foreign:
		if !force {
			return r, fmt.Errorf("%s: %w", st.File, ErrModified)
		}
	}
	if err := os.Remove(st.File); err != nil {
		return r, err
	}
	os.Remove(dir) // only succeeds when empty
	r.Action, r.State = "removed", Missing
	return r, nil
}
