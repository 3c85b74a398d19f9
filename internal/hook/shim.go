package hook

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// ownedByOther reports whether fi belongs to a user other than the
// effective one (root counts as ours, as in package safefile).
func ownedByOther(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	uid := int(st.Uid)
	return uid, uid != os.Geteuid() && uid != 0
}

// shimLink is one of the shim's symlinks in the bin directory: sudo, and
// sudoedit beside it. Both point at the clawwarden binary, which acts as the
// shim under either name.
type shimLink struct {
	layer string       // LayerShim or LayerSudoedit
	name  string       // the command it stands in for: "sudo" or "sudoedit"
	path  string       // in the bin directory
	rec   **ShimRecord // where the state records it
	guess string       // what a file that is not a symlink at path probably is, or ""
}

// notLink says that the link's path holds something other than a symlink.
func (l shimLink) notLink(what string) string {
	if l.guess == "" {
		return what
	}
	return what + " (" + l.guess + ")"
}

// shimLinks returns the shim's symlinks in install order: sudo first, whose
// record also says whether install created the bin directory. Uninstall
// goes through them in reverse.
func (h *Hook) shimLinks(st *State) []shimLink {
	return []shimLink{
		{layer: LayerShim, name: "sudo", path: h.Paths.Shim(), rec: &st.Shim,
			guess: "the original skill's shell shim?"},
		{layer: LayerSudoedit, name: "sudoedit", path: h.Paths.SudoeditShim(), rec: &st.SudoeditShim},
	}
}

// shimState is what is at the shim's path.
type shimState struct {
	exists  bool
	symlink bool
	target  string // the link text, when symlink
}

// inspectShim looks at path without following it. A symlink owned by
// another user is unsafe.
func inspectShim(path string) (shimState, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return shimState{}, nil
	}
	if err != nil {
		return shimState{}, err
	}
	if uid, other := ownedByOther(fi); other {
		return shimState{}, fmt.Errorf("%s: %w: owned by uid %d, not by uid %d", path, safefile.ErrUnsafe, uid, os.Geteuid())
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return shimState{exists: true}, nil
	}
	t, err := os.Readlink(path)
	if err != nil {
		return shimState{}, err
	}
	return shimState{exists: true, symlink: true, target: t}, nil
}

// linkShim makes path a symlink to target, replacing an existing symlink
// atomically (new link beside it, then rename).
func linkShim(path, target string) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+rand.Text()[:8])
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return safefile.SyncDir(filepath.Dir(path))
}

// resolved returns path with every symlink resolved, or path itself when
// that fails.
func resolved(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	return path
}

// checkBinary refuses a clawwarden binary that someone else could replace:
// the shim hands every sudo and sudoedit of the agent to it.
func checkBinary(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if uid, other := ownedByOther(fi); other {
			return refuse(p, fmt.Sprintf("the clawwarden binary the shim would point at is owned by uid %d", uid),
				"install clawwarden where only you or root can change it, and run that copy's 'hook install'")
		}
		if fi.Mode().Perm()&0o022 != 0 && !(fi.IsDir() && fi.Mode()&os.ModeSticky != 0) {
			return refuse(p, fmt.Sprintf("mode %04o lets others replace the clawwarden binary the shim would point at", fi.Mode().Perm()),
				"install clawwarden where only you or root can change it (chmod go-w), and run 'hook install' again")
		}
	}
	return nil
}

// temporaryBinaryHint warns when the shim points at a binary that `go run`
// or `go test` built and will delete.
func temporaryBinaryHint(path string) string {
	if !strings.Contains(path, string(filepath.Separator)+"go-build") {
		return ""
	}
	return "this binary was built by 'go run' and will disappear: build it to a permanent place (go build -o ~/bin/clawwarden ./cmd/clawwarden) and run that copy's 'hook install'"
}
