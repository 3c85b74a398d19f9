// Package rootfile decides whether a file can be trusted to run as root: it
// resolves a command name to an absolute path without the caller's PATH,
// checks that the file and every directory above it are root-owned and not
// writable by group or others, and hashes the file it opened.
//
// The rule behind every check: whoever can write a file that root runs, or a
// directory on the way to it, is root. An agent's account must be neither.
package rootfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// SecurePath is the PATH used to resolve bare command names and given to
// privileged commands. The caller's PATH is never used: an agent's PATH may
// start with directories it can write to.
const SecurePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrUnsafe is wrapped by every refusal of this package.
var ErrUnsafe = errors.New("not a file root can trust")

// Resolve turns a command name into an absolute path and checks with
// [Check] that what it names is safe to run as root and is not setuid or
// setgid. Relative paths ("./x", "bin/x") are refused; bare names are looked
// up in [SecurePath] only. The returned path is the absolute path as found,
// not the symlink target, so multi-call binaries keep their name.
func Resolve(name string) (string, error) {
	var abs string
	switch {
	case name == "":
		return "", fmt.Errorf("%w: empty command name", ErrUnsafe)
	case filepath.IsAbs(name):
		abs = filepath.Clean(name)
	case strings.ContainsRune(name, '/'):
		return "", fmt.Errorf("%w: %q is a relative path; give an absolute path or a bare name found in %s", ErrUnsafe, name, SecurePath)
	default:
		for _, dir := range filepath.SplitList(SecurePath) {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				abs = p
				break
			}
		}
		if abs == "" {
			return "", fmt.Errorf("%w: %q not found in %s", ErrUnsafe, name, SecurePath)
		}
	}
	if _, err := Check(abs, NotSetuid); err != nil {
		return "", err
	}
	return abs, nil
}

// Setuid says what [Check] requires of the setuid and setgid bits.
type Setuid int

// The requirements.
const (
	NotSetuid  Setuid = iota // refuse setuid and setgid files (commands)
	WantSetuid               // require a setuid file (the real sudo)
)

// Check follows symlinks from path and checks the target and every directory
// on the way to it, and the directories holding path itself: regular file,
// executable, owned by root, not writable by group or others, and setuid as
// want says. It returns the target.
func Check(path string, want Setuid) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w: %s does not exist", ErrUnsafe, path)
		}
		return "", fmt.Errorf("%w: %v", ErrUnsafe, err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnsafe, err)
	}
	if err := checkFile(target, fi, want); err != nil {
		return "", err
	}
	for _, p := range []string{filepath.Dir(target), filepath.Dir(path)} {
		if err := checkDirChain(p); err != nil {
			return "", err
		}
	}
	return target, nil
}

func checkFile(path string, fi fs.FileInfo, want Setuid) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrUnsafe, path)
	}
	if err := rootOwnedNotWritable(path, fi); err != nil {
		return err
	}
	mode := fi.Mode()
	switch {
	case want == WantSetuid && mode&fs.ModeSetuid == 0:
		return fmt.Errorf("%w: %s is not setuid root, so it cannot be the real sudo", ErrUnsafe, path)
	case want == NotSetuid && mode&(fs.ModeSetuid|fs.ModeSetgid) != 0:
		return fmt.Errorf("%w: %s is setuid or setgid; running it through sudo is refused", ErrUnsafe, path)
	case mode&0o111 == 0:
		return fmt.Errorf("%w: %s is not executable", ErrUnsafe, path)
	}
	return nil
}

// checkDirChain checks dir and each of its parents up to /.
func checkDirChain(dir string) error {
	for {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnsafe, err)
		}
		if err := rootOwnedNotWritable(dir, fi); err != nil {
			return err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

func rootOwnedNotWritable(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: %s: cannot read the owner", ErrUnsafe, path)
	}
	if st.Uid != 0 {
		return fmt.Errorf("%w: %s is owned by uid %d, not root", ErrUnsafe, path, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by group or others (mode %04o)", ErrUnsafe, path, fi.Mode().Perm())
	}
	return nil
}

// Hash returns the hex SHA-256 of the file at path, read through one open
// descriptor that is checked to be the same file [Check] would pass: a
// root-owned regular file not writable by others. What was hashed is what
// the descriptor holds; the caller that needs to run exactly those bytes
// uses [Open].
func Hash(path string) (string, error) {
	f, sum, err := Open(path)
	if err != nil {
		return "", err
	}
	f.Close()
	return sum, nil
}

// Open opens path (symlinks followed), checks the opened file like [Check]
// (without the directory chain, which [Resolve] already checked), and
// returns it with its hex SHA-256. The file's offset is at its end.
func Open(path string) (*os.File, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrUnsafe, err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkFile(path, fi, NotSetuid)
	}
	if err != nil {
		f.Close()
		return nil, "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, "", fmt.Errorf("read %s: %w", path, err)
	}
	return f, hex.EncodeToString(h.Sum(nil)), nil
}
