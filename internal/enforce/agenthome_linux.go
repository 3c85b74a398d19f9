package enforce

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The agent's ~/.openclaw/bin is the agent's to write, and install and
// uninstall run as root: every step there goes through descriptors opened
// without following symlinks, so the agent cannot redirect root's mkdir,
// symlink, rename or unlink to a directory of its choosing (say, to create
// or remove a "sudo" in /etc or /usr/bin) by swapping a path component
// while root works.

var noLinks = unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openDirNoLinks opens the directory dir, whose every component must be a
// real directory, as an O_PATH descriptor.
func openDirNoLinks(dir string) (int, error) {
	fd, err := unix.Openat2(unix.AT_FDCWD, dir, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: uint64(noLinks)})
	if err != nil {
		return -1, fmt.Errorf("%s: %w (a symlink or not a directory?)", dir, err)
	}
	return fd, nil
}

// subdir opens (creating it 0700 for uid:gid if missing) the directory
// name beneath the descriptor parent.
func subdir(parent int, name string, uid, gid int) (int, error) {
	if err := unix.Mkdirat(parent, name, 0o700); err == nil {
		if err := unix.Fchownat(parent, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return -1, err
		}
	} else if !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	return unix.Openat2(parent, name, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: uint64(noLinks | unix.RESOLVE_BENEATH)})
}

// shimDir opens home/.openclaw/bin, creating the missing parts owned by
// the agent.
func shimDir(home string, uid, gid int) (int, error) {
	fd, err := openDirNoLinks(home)
	if err != nil {
		return -1, err
	}
	for _, name := range []string{".openclaw", "bin"} {
		next, err := subdir(fd, name, uid, gid)
		unix.Close(fd)
		if err != nil {
			return -1, fmt.Errorf("%s: %s: %w", home, name, err)
		}
		fd = next
	}
	return fd, nil
}

// linkShims makes home/.openclaw/bin/NAME a symlink to target, owned by the
// agent, for each name; an existing file that is not a symlink is left
// alone and reported. It returns the paths it linked.
func linkShims(home string, names []string, target string, uid, gid int) ([]string, error) {
	dir, err := shimDir(home, uid, gid)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	var done []string
	var errs []error
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT != unix.S_IFLNK {
			errs = append(errs, fmt.Errorf("%s exists and is not a symlink", filepath.Join(home, ".openclaw/bin", name)))
			continue
		}
		tmp := name + ".clawwarden-tmp"
		unix.Unlinkat(dir, tmp, 0)
		if err := unix.Symlinkat(target, dir, tmp); err != nil {
			errs = append(errs, err)
			continue
		}
		unix.Fchownat(dir, tmp, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
		if err := unix.Renameat(dir, tmp, dir, name); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, filepath.Join(home, ".openclaw/bin", name))
	}
	return done, errors.Join(errs...)
}

// unlinkShim removes the symlink p if it still points at one of targets,
// through a descriptor of its directory opened without following symlinks.
func unlinkShim(p string, targets ...string) (bool, error) {
	dir, err := openDirNoLinks(filepath.Dir(p))
	if err != nil {
		return false, err
	}
	defer unix.Close(dir)
	name := filepath.Base(p)
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return false, nil // gone or not a symlink: not ours to remove
	}
	got := string(buf[:n])
	for _, t := range targets {
		if got == t && !strings.Contains(name, "/") {
			return true, unix.Unlinkat(dir, name, 0)
		}
	}
	return false, nil
}
