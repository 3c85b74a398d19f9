package helper

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/clawwarden/clawwarden/internal/signed"
)

// Bounds on what one request may stage.
const (
	maxStaged      = 8
	maxStagedBytes = 16 << 20 // all staged inputs of one request together, by size
)

// stage examines every argument after the command that names a path — the
// argument itself, and the value of --opt=VALUE and key=VALUE forms —
// walking it from / one component at a time without following symlinks
// blindly. When the agent's account controls any part of the way (a
// symlink, or a directory it owns or may write) or the file itself, then:
//
//   - a regular file the agent may read itself is copied to root-owned
//     staging, through a descriptor opened without following symlinks, and
//     the argument rewritten to the copy, so what the approver saw (size and
//     hash) is what runs;
//   - anything else — a directory, FIFO or device, a path that does not
//     exist yet, a file the agent could not read — is refused: root would
//     act on whatever is there when it runs, or read for the agent what it
//     may not read.
func (h *helper) stage() error {
	var dir string
	var total int64
	for i := 1; i < len(h.req.Argv); i++ {
		arg := h.req.Argv[i]
		prefix, value := splitValue(arg)
		if !pathLike(value) {
			continue
		}
		w := h.walk(value)
		if w.err != nil {
			return w.err
		}
		if !w.controlled {
			continue
		}
		fi, err := os.Stat(w.final)
		switch {
		case err != nil:
			return fmt.Errorf("argument %d names %s, which does not exist yet in a place the agent controls (%s): root would act on whatever is there when it runs; use a path root controls", i, value, w.why)
		case !fi.Mode().IsRegular():
			return fmt.Errorf("argument %d names %s, a %s the agent controls (%s): only regular files are staged", i, value, kind(fi), w.why)
		case !h.agentMayRead(w.final, fi):
			return fmt.Errorf("argument %d names %s, which leads to %s, a file the agent's account may not read itself: refused", i, value, w.final)
		}
		if len(h.req.Staged) == maxStaged {
			return fmt.Errorf("more than %d agent-controlled files in argv", maxStaged)
		}
		if total += fi.Size(); total > maxStagedBytes {
			return fmt.Errorf("agent-controlled inputs of more than %d bytes in all", maxStagedBytes)
		}
		if dir == "" {
			dir = filepath.Join(h.layout.StagingDir(), h.id)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
		}
		cp := filepath.Join(dir, strconv.Itoa(i)+"-"+filepath.Base(w.final))
		size, sum, err := copyHashed(w.final, cp, func(fi fs.FileInfo) bool { return h.permits(w.final, fi, 4) })
		if err != nil {
			return fmt.Errorf("stage %s: %w", value, err)
		}
		h.req.Staged = append(h.req.Staged, signed.Staged{Path: w.final, Copy: cp, Size: size, SHA256: sum})
		h.req.Argv[i] = prefix + cp
	}
	return nil
}

// splitValue separates "--opt=" or "key=" from a value that may be a path.
func splitValue(arg string) (prefix, value string) {
	if i := strings.IndexByte(arg, '='); i > 0 && !strings.ContainsRune(arg[:i], '/') {
		return arg[:i+1], arg[i+1:]
	}
	return "", arg
}

// pathLike: an absolute path, or a relative one with a slash or a dot start.
// A bare word is taken for a path only when it exists where the command runs
// (checked by the walk, which finds nothing to stage for it otherwise).
func pathLike(s string) bool {
	return s != "" && (strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || strings.Contains(s, "/") || !strings.HasPrefix(s, "-"))
}

// walked is what the walk found about one path.
type walked struct {
	final      string // the path with every symlink resolved
	controlled bool   // the agent controls some part of the way or the file
	why        string
	err        error
}

// walk resolves p (relative to the run directory) component by component.
func (h *helper) walk(p string) walked {
	if !filepath.IsAbs(p) {
		p = filepath.Join(h.req.Cwd, p)
	}
	rest := strings.Split(strings.TrimPrefix(filepath.Clean(p), "/"), "/")
	cur := "/"
	var w walked
	mark := func(why string) {
		if !w.controlled {
			w.controlled, w.why = true, why
		}
	}
	for hops := 0; len(rest) > 0; {
		comp := rest[0]
		rest = rest[1:]
		if comp == "" || comp == "." {
			continue
		}
		if comp == ".." {
			cur = filepath.Dir(cur)
			continue
		}
		if di, err := os.Lstat(cur); err == nil && h.agentControls(di) {
			mark(cur + " is the agent's to change")
		}
		next := filepath.Join(cur, comp)
		fi, err := os.Lstat(next)
		if err != nil {
			w.final = filepath.Join(append([]string{next}, rest...)...)
			return w
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if hops++; hops > 40 {
				w.err = fmt.Errorf("%s: too many symlinks", p)
				return w
			}
			if h.agentControls(fi) {
				mark(next + " is a symlink of the agent's")
			}
			target, err := os.Readlink(next)
			if err != nil {
				w.err = err
				return w
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			rest = append(strings.Split(strings.Trim(target, "/"), "/"), rest...)
			continue
		}
		cur = next
	}
	w.final = cur
	if fi, err := os.Lstat(cur); err == nil && !fi.IsDir() && h.agentControls(fi) {
		mark(cur + " is the agent's to change")
	}
	return w
}

// agentControls reports whether the agent's account may change the object
// fi describes: it owns it, or a group of its or anyone may write it, or an
// access control list may let it (not evaluated: counted as controlled).
func (h *helper) agentControls(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	m := fi.Mode().Perm()
	switch {
	case int(st.Uid) == h.settings.AgentUID:
		return true // the owner can always make it writable
	case slices.Contains(h.gids, int(st.Gid)) && m&0o020 != 0:
		return true
	case m&0o002 != 0:
		// A sticky directory lets others add entries, not replace them.
		return !(fi.IsDir() && fi.Mode()&fs.ModeSticky != 0)
	}
	return false
}

// agentMayRead reports whether the agent's account could read the file at
// path (symlinks resolved) itself: search permission on every directory on
// the way and read permission on the file, from owner, group and mode bits.
// A file or directory with an access control list is not evaluated: no.
func (h *helper) agentMayRead(path string, fi fs.FileInfo) bool {
	if !h.permits(path, fi, 4) {
		return false
	}
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		di, err := os.Stat(d)
		if err != nil || !h.permits(d, di, 1) {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

func (h *helper) permits(path string, fi fs.FileInfo, bit fs.FileMode) bool {
	if _, err := unix.Getxattr(path, "system.posix_acl_access", nil); err == nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	m := fi.Mode().Perm()
	switch {
	case int(st.Uid) == h.settings.AgentUID:
		return m&(bit<<6) != 0
	case slices.Contains(h.gids, int(st.Gid)):
		return m&(bit<<3) != 0
	}
	return m&bit != 0
}

func kind(fi fs.FileInfo) string {
	switch m := fi.Mode(); {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// copyHashed copies the file at src — opened without following any symlink
// (the walk resolved them), and only if readable says the opened file is
// one the agent may read — to dst, root-owned 0600, and returns its size
// and SHA-256.
func copyHashed(src, dst string, readable func(fs.FileInfo) bool) (int64, string, error) {
	fd, err := unix.Openat2(unix.AT_FDCWD, src, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w (it changed since it was examined)", src, err)
	}
	in := os.NewFile(uintptr(fd), src)
	defer in.Close()
	if fi, err := in.Stat(); err != nil || !fi.Mode().IsRegular() || !readable(fi) {
		return 0, "", errors.New(src + " changed: it is no longer a regular file the agent may read")
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(in, maxStagedBytes+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > maxStagedBytes {
		err = fmt.Errorf("larger than %d bytes", maxStagedBytes)
	}
	if err != nil {
		os.Remove(dst)
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
