package hook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Uninstall undoes what the state file says install changed, in reverse
// order, and nothing else: a shim path (sudo or sudoedit) that install did
// not record is left in place and reported as skipped. A change that was
// modified again since install is undone only as far as clawwarden's part
// of it goes (the shim's directory is taken out, the rest is kept). What
// cannot be undone stays in the state file and the error wraps
// [ErrIncomplete].
func (h *Hook) Uninstall(ctx context.Context) (*Report, error) {
	r := &Report{StateFile: h.StatePath()}
	if _, err := os.Lstat(h.Paths.SecurityDir); errors.Is(err, fs.ErrNotExist) {
		r.add("state", Unchanged, "no hook installed: "+h.StatePath()+" does not exist", "")
		for _, l := range h.shimLinks(&State{}) {
			keepUnrecordedShim(l, r)
		}
		return r, nil
	}
	st, lock, err := h.prepareState()
	if err != nil {
		return r, err
	}
	defer lock.Unlock()
	if st.empty() {
		r.add("state", Unchanged, "no hook installed: nothing recorded in "+h.StatePath(), "")
		for _, l := range h.shimLinks(st) {
			keepUnrecordedShim(l, r)
		}
		return r, saveState(h.StatePath(), st)
	}
	failed := false
	if st.DropIn != nil {
		done, err := h.removeDropIn(ctx, st.DropIn, r)
		if err != nil {
			return r, errors.Join(err, saveState(h.StatePath(), st))
		}
		if done {
			st.DropIn = nil
		} else {
			failed = true
		}
	}
	if st.Plist != nil {
		done, err := h.restorePlist(st.Plist, r)
		if err != nil {
			return r, errors.Join(err, saveState(h.StatePath(), st))
		}
		if done {
			st.Plist = nil
		} else {
			failed = true
		}
	}
	if st.Plugin != nil {
		if h.removePlugin(ctx, st.Plugin, r) {
			st.Plugin = nil
		} else {
			failed = true
		}
	}
	var authored json.RawMessage
	if len(st.PathPrepend) > 0 && h.Config != nil {
		authored = h.authored(ctx)
	}
	for i := len(st.PathPrepend) - 1; i >= 0; i-- {
		if h.restorePrepend(ctx, st.PathPrepend[i], authored, r) {
			st.PathPrepend = slices.Delete(st.PathPrepend, i, i+1)
		} else {
			failed = true
		}
	}
	// sudoedit before sudo: the sudo shim's record owns the bin directory,
	// which can go only once both links are gone.
	for _, l := range slices.Backward(h.shimLinks(st)) {
		if *l.rec == nil {
			keepUnrecordedShim(l, r) // an install from before the sudoedit shim
			continue
		}
		if err := removeShim(l, r); err != nil {
			return r, errors.Join(err, saveState(h.StatePath(), st))
		}
		*l.rec = nil
	}
	if err := saveState(h.StatePath(), st); err != nil {
		return r, err
	}
	if failed {
		return r, ErrIncomplete
	}
	return r, nil
}

// removeDropIn deletes the drop-in if it is still what install wrote.
func (h *Hook) removeDropIn(ctx context.Context, rec *DropInRecord, r *Report) (bool, error) {
	data, err := safefile.ReadFile(rec.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.add(LayerSystemd, Unchanged, rec.Path+" is already gone", "")
	case err != nil:
		return false, err
	case digest(data) != rec.SHA256:
		r.add(LayerSystemd, Skipped, rec.Path+" changed since clawwarden wrote it; left in place", "remove it yourself if it is not wanted: rm "+quote.Word(rec.Path))
	default:
		if err := os.Remove(rec.Path); err != nil {
			return false, err
		}
		r.add(LayerSystemd, Changed, "removed drop-in "+rec.Path, "")
		if rec.DirCreated {
			removeEmptyDir(filepath.Dir(rec.Path))
		}
		if h.Service != nil {
			if err := h.Service.Reload(ctx); err != nil {
				r.add(LayerSystemd, Skipped, "could not reload the user manager: "+err.Error(), "run it in the gateway user's session: systemctl --user daemon-reload")
			}
			r.Restart = append(r.Restart, h.Service.RestartCommand())
		}
	}
	return true, nil
}

// removeEmptyDir removes dir if it is empty; a non-empty directory stays.
func removeEmptyDir(dir string) {
	os.Remove(dir) // fails, harmlessly, when something else is in it
}

// restorePlist puts the LaunchAgent plist back: byte for byte from the
// backup when it is still what install wrote, else by taking the shim's
// directory out of its PATH.
func (h *Hook) restorePlist(rec *PlistRecord, r *Report) (bool, error) {
	fi, err := safefile.Check(rec.Path)
	if errors.Is(err, fs.ErrNotExist) {
		r.add(LayerLaunchd, Unchanged, rec.Path+" is gone; nothing to restore", "")
		h.dropBackup(rec)
		return true, nil
	}
	if err != nil {
		return false, err
	}
	cur, err := safefile.ReadFile(rec.Path)
	if err != nil {
		return false, err
	}
	var out []byte
	how := ""
	if digest(cur) == rec.WrittenSHA256 {
		orig, err := safefile.ReadFile(rec.Backup)
		if err == nil && digest(orig) == rec.OriginalSHA256 {
			out, how = orig, "restored from "+rec.Backup
		}
	}
	if out == nil {
		next, changed, err := RestorePlistPATH(cur, h.Paths.BinDir, rec.WrittenPATH, rec.OldPATH, rec.HadEnv)
		if err != nil {
			r.add(LayerLaunchd, Failed, fmt.Sprintf("%s: %v", rec.Path, err), "take "+h.Paths.BinDir+" out of its EnvironmentVariables PATH yourself; the original is "+rec.Backup)
			return false, nil
		}
		if !changed {
			r.add(LayerLaunchd, Unchanged, rec.Path+" no longer has "+h.Paths.BinDir+" on its PATH", "")
			h.dropBackup(rec)
			return true, nil
		}
		out, how = next, "took "+h.Paths.BinDir+" out of its PATH (it changed since install, so the rest is kept)"
	}
	if !h.SkipConfirm && h.Confirm != nil {
		ok, err := h.Confirm(fmt.Sprintf("clawwarden will undo its edit of the OpenClaw gateway's LaunchAgent\n  %s\n(%s).\nEdit it?", rec.Path, how))
		if err != nil || !ok {
			r.add(LayerLaunchd, Skipped, rec.Path+" left unchanged: not confirmed", "answer y, or set OPENCLAW_SKIP_PLIST_CONFIRM=1 to edit it without asking")
			return false, nil
		}
	}
	if err := safefile.WriteFile(rec.Path, out); err != nil {
		return false, err
	}
	mode := fs.FileMode(rec.Mode).Perm()
	if digest(cur) != rec.WrittenSHA256 {
		mode = fi.Mode().Perm()
	}
	if err := os.Chmod(rec.Path, mode); err != nil {
		return false, err
	}
	r.add(LayerLaunchd, Changed, rec.Path+": "+how, "")
	h.dropBackup(rec)
	if h.Service != nil {
		r.Restart = append(r.Restart, h.Service.RestartCommand())
	}
	return true, nil
}

// dropBackup removes install's copy of the original plist, and its
// directory when empty.
func (h *Hook) dropBackup(rec *PlistRecord) {
	if rec.Backup == "" {
		return
	}
	if _, err := safefile.Check(rec.Backup); err == nil {
		os.Remove(rec.Backup)
		removeEmptyDir(filepath.Dir(rec.Backup))
	}
}

// keepUnrecordedShim reports a file at l's path that install did not
// record creating: it stays.
func keepUnrecordedShim(l shimLink, r *Report) {
	if s, err := inspectShim(l.path); err == nil && s.exists {
		r.add(l.layer, Skipped, l.path+" exists but clawwarden did not record creating it; left in place", "remove it yourself if it is not wanted: rm "+quote.Word(l.path))
	}
}

// removeShim removes l's symlink if it is still the one install made.
func removeShim(l shimLink, r *Report) error {
	rec := *l.rec
	s, err := inspectShim(rec.Path)
	if err != nil {
		return err
	}
	switch {
	case !s.exists:
		r.add(l.layer, Unchanged, rec.Path+" is already gone", "")
	case s.symlink && s.target == rec.Target:
		if err := os.Remove(rec.Path); err != nil {
			return err
		}
		r.add(l.layer, Changed, "removed "+rec.Path, "")
	default:
		r.add(l.layer, Skipped, rec.Path+" is no longer the symlink clawwarden made; left in place", "remove it yourself if it is not wanted: rm "+quote.Word(rec.Path))
	}
	if rec.BinDirCreated {
		removeEmptyDir(filepath.Dir(rec.Path))
	}
	return nil
}
