package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ErrBadAnchor: an anchor that is not a SHA-256 hash (64 hex digits).
var ErrBadAnchor = errors.New(`must be a SHA-256 hash: 64 hex digits, as 'audit verify' prints after "head"`)

// Verdict is what `clawwarden audit verify` concludes about one log.
type Verdict struct {
	Path     string
	HeadPath string
	Exists   bool // the log file exists (its head file may remain without it)
	Result   Result
	// Anchor is the hash the log must contain (lower case), if one was
	// given; AnchorMissing says it does not.
	Anchor        string
	AnchorMissing bool
	// Warning is a problem that does not break the chain but weakens what
	// verifying it proves (no head file, an unreadable one).
	Warning string
	// Err matches ErrBroken when the log does not verify; Hints say what it
	// means and what to do.
	Err   error
	Hints []string
}

// OK reports whether the log verifies (and contains the anchor).
func (v Verdict) OK() bool { return v.Err == nil }

// Judge verifies the log at path (and, when anchor is not empty, that it
// contains that hash) and says what a break means. The error is for a log
// that cannot be read, or ErrBadAnchor; a log that does not verify is
// v.Err.
func Judge(path, anchor string) (Verdict, error) {
	v := Verdict{Path: path, HeadPath: HeadPath(path), Exists: true}
	if anchor != "" {
		v.Anchor = strings.ToLower(strings.TrimSpace(anchor))
		if len(v.Anchor) != 64 || strings.Trim(v.Anchor, "0123456789abcdef") != "" {
			return v, ErrBadAnchor
		}
	}
	var err error
	if v.Anchor != "" {
		v.Result, err = VerifyFileAnchored(path, v.Anchor)
	} else {
		v.Result, err = VerifyFile(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		v.Exists, err = false, nil
		v.Result.HeadFile = HeadMissing
	}
	if err != nil {
		return v, err
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		v.Exists = false // and its head file remains: Result.Broken says so
	}
	v.AnchorMissing = v.Anchor != "" && v.Result.AnchorLine == 0
	v.judge()
	return v, nil
}

func (v *Verdict) judge() {
	res := v.Result
	switch {
	case !v.Exists || res.Broken != nil:
	case res.HeadFile == HeadMissing:
		v.Warning = fmt.Sprintf("no head file %s (log written by an older version, or the head was removed): removal of the last records cannot be detected; the next privileged command writes one", v.HeadPath)
	case res.HeadFile == HeadInvalid:
		v.Warning = fmt.Sprintf("head file %s cannot be read (a crash while it was written, or it was altered): removal of the last records cannot be detected; the next privileged command replaces it", v.HeadPath)
	}
	switch {
	case res.Broken != nil && res.HeadFile == HeadMismatch:
		what := "the log was truncated or rewritten at its end after its last append, which wrote the head file"
		if !v.Exists {
			what = "the log was deleted or moved after its last append, which wrote the head file"
		}
		v.Err = Broken("audit log %s does not match its head file %s: broken at line %d", v.Path, v.HeadPath, res.Broken.Line)
		v.Hints = []string{what, moveAsideHint(v.Path, v.Exists, res.HeadFile)}
	case res.Broken != nil:
		v.Err = Broken("audit log %s does not verify: broken at line %d", v.Path, res.Broken.Line)
		v.Hints = []string{chainBreakHint(res.Broken.Line), moveAsideHint(v.Path, v.Exists, res.HeadFile)}
	case v.AnchorMissing && !v.Exists:
		v.Err = Broken("no audit log at %s, but an anchor was given: the log was deleted or moved", v.Path)
	case v.AnchorMissing:
		v.Err = Broken("audit log %s does not contain the anchor %s", v.Path, v.Anchor)
		v.Hints = []string{"since the anchor was noted, the log was rewritten, truncated before the anchor's line, or replaced; or the anchor belongs to another log"}
	}
}

// chainBreakHint says what a break in the chain at line k means: line k's
// prev is not the hash of line k-1, so line k-1 is as suspect as line k (an
// edit of line k-1 changes its hash, which shows at line k).
func chainBreakHint(k int) string {
	switch k {
	case 1:
		return "no line verified: line 1 was changed, or lines before it were removed"
	case 2:
		return "no line verified: line 1 or line 2 was changed, or lines between them were removed or inserted (line 2 does not follow from line 1)"
	}
	verified := fmt.Sprintf("lines 1-%d", k-2)
	if k == 3 {
		verified = "line 1"
	}
	return fmt.Sprintf("%s verified; line %d or line %d was changed, or lines between them were removed or inserted (line %d does not follow from line %d)", verified, k-1, k, k, k-1)
}

// moveAsideHint says how to keep a broken log and start a new one: the head
// file goes with the log, as a head left behind breaks the new log.
func moveAsideHint(path string, exists bool, head HeadState) string {
	hp := HeadPath(path)
	switch {
	case !exists:
		return fmt.Sprintf("keep the head file as evidence; to start a new chain, move it aside (mv %s %s.broken); the next privileged command starts a new log", hp, hp)
	case head == HeadMissing:
		return fmt.Sprintf("keep the file as evidence; to start a new chain, move it aside (mv %s %s.broken); the next privileged command starts a new log", path, path)
	}
	return fmt.Sprintf("keep the files as evidence; to start a new chain, move the log and its head file aside (mv %s %s.broken && mv %s %s.broken.head); the next privileged command starts a new log", path, path, hp, path)
}
