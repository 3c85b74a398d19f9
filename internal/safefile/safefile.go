// Package safefile is the one place clawwarden reads and writes its state,
// policy, audit and report files.
//
// Every write goes to a temporary file in the same directory, is fsynced,
// closed, renamed over the target, and the directory is fsynced, so a reader
// sees either the old or the new content, never a torn file. Read-modify-write
// cycles hold an advisory lock (flock on a sibling ".lock" file) throughout.
//
// # Trust rules
//
// Before a file or directory is trusted it must not be a symbolic link, it must
// be owned by the effective user (or by root), and it must not be writable by
// group or others. Directories clawwarden creates are 0700, files 0600. A path
// that breaks a rule yields an error wrapping [ErrUnsafe]; callers fail closed.
//
// Files are opened with O_NOFOLLOW and checked through the open descriptor, so a
// symlink swapped in between the check and the read is refused, not followed.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrUnsafe marks a path that breaks the trust rules: a symlink, a foreign
// owner, group/other write permission, or a non-regular file where a file was
// expected.
var ErrUnsafe = errors.New("unsafe path")

// ErrInvalid marks a file whose content cannot be parsed or fails validation.
// Packages that parse state wrap it so the command line maps it to one exit
// status.
var ErrInvalid = errors.New("invalid content")

// FileMode and DirMode are the permissions of everything clawwarden creates.
const (
	FileMode fs.FileMode = 0o600
	DirMode  fs.FileMode = 0o700
)

// MaxSize bounds how much of a state or policy file is read; anything larger is
// treated as invalid rather than read into memory.
const MaxSize = 16 << 20

// checkInfo applies the trust rules to fi, which describes path.
func checkInfo(path string, fi fs.FileInfo, wantDir bool) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s: %w: is a symbolic link", path, ErrUnsafe)
	}
	if wantDir && !fi.IsDir() {
		return fmt.Errorf("%s: %w: not a directory", path, ErrUnsafe)
	}
	if !wantDir && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w: not a regular file", path, ErrUnsafe)
	}
	if uid, ok := ownerOf(fi); ok {
		euid := os.Geteuid()
		if uid != euid && uid != 0 {
			return fmt.Errorf("%s: %w: owned by uid %d, not by uid %d", path, ErrUnsafe, uid, euid)
		}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s: %w: mode %04o is group or other writable (fix: chmod go-w %s)", path, ErrUnsafe, perm, path)
	}
	return nil
}

func ownerOf(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// Check applies the trust rules to the file at path without following a
// final symlink. A missing file yields an error satisfying errors.Is(err,
// fs.ErrNotExist).
func Check(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	return fi, checkInfo(path, fi, false)
}

// CheckDir applies the trust rules to the directory at path.
func CheckDir(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	return checkInfo(path, fi, true)
}

// EnsureDir creates path (and missing parents) with mode 0700 and then checks
// that the directory itself is trustworthy. Existing parents are left alone.
func EnsureDir(path string) error {
	if err := os.MkdirAll(path, DirMode); err != nil {
		return err
	}
	return CheckDir(path)
}

// Open opens path for reading without following a symlink and checks the
// open descriptor against the trust rules.
func Open(path string) (*os.File, error) {
	return openChecked(path, os.O_RDONLY, 0)
}

// openChecked opens path with flag plus O_NOFOLLOW and O_NONBLOCK (so a
// FIFO cannot block the open) and applies the trust rules to the open
// descriptor.
func openChecked(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
	if err != nil {
		if isSymlinkErr(err) {
			return nil, fmt.Errorf("%s: %w: is a symbolic link", path, ErrUnsafe)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkInfo(path, fi, false)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// isSymlinkErr reports whether err is what open(2) returns for O_NOFOLLOW on
// a symlink (ELOOP on Linux and macOS).
func isSymlinkErr(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

// ReadFile reads a trusted file. The result of a missing file satisfies
// errors.Is(err, fs.ErrNotExist); callers decide whether that is acceptable.
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ErrInvalid, MaxSize)
	}
	return data, nil
}

// WriteFile atomically replaces path with data, mode 0600. The parent
// directory must already exist and be trusted (see [EnsureDir]). An existing
// target that is a symlink or not a regular file is refused, not replaced.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := CheckDir(dir); err != nil {
		return err
	}
	if fi, err := os.Lstat(path); err == nil {
		if err := checkInfo(path, fi, false); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(FileMode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmpName, path); err != nil {
		return err
	}
	committed = true
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so a rename or create in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// Lock is an exclusive advisory lock (flock) on a file's sibling "<name>.lock".
type Lock struct {
	f *os.File
}

// LockFor takes the exclusive lock that guards path, blocking until it is
// free. The lock file is created 0600 beside path and checked through its
// open descriptor like any state file; the lock is taken on that descriptor.
// The caller must call Unlock.
func LockFor(path string) (*Lock, error) {
	lp := path + ".lock"
	f, err := openChecked(lp, os.O_CREATE|os.O_RDWR, FileMode)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", lp, err)
	}
	return &Lock{f: f}, nil
}

// ErrLocked is returned by [TryLockFor] when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// TryLockFor is [LockFor] without waiting: it returns ErrLocked at once when
// the lock is held.
func TryLockFor(path string) (*Lock, error) {
	lp := path + ".lock"
	f, err := openChecked(lp, os.O_CREATE|os.O_RDWR, FileMode)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", lp, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", lp, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock. It is safe to call on a nil Lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}

// Update runs a locked read-modify-write of path: it takes the lock, reads the
// current content (nil if the file does not exist), calls fn, and atomically
// writes what fn returns. If fn returns an error, nothing is written. If fn
// returns nil data with a nil error, the file is left unchanged.
func Update(path string, fn func(old []byte) ([]byte, error)) error {
	lock, err := LockFor(path)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	old, err := ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	data, err := fn(old)
	if err != nil || data == nil {
		return err
	}
	return WriteFile(path, data)
}

// OpenAppend opens path for appending (creating it 0600 if needed) without
// following symlinks, and checks the descriptor against the trust rules.
func OpenAppend(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil {
		if err := checkInfo(path, fi, false); err != nil {
			return nil, err
		}
	}
	return openChecked(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, FileMode)
}
