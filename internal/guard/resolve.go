package guard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// SecurePath is the PATH used to resolve bare command names and given to
// the privileged command. The caller's PATH is never used: an agent's PATH
// may start with directories it can write to.
const SecurePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultSudo lists where the system sudo is looked for.
var DefaultSudo = []string{"/usr/bin/sudo", "/bin/sudo", "/usr/local/bin/sudo"}

// ResolveCommand turns argv[0] into an absolute path and checks that what it
// names is safe to run as root: a regular file (after following symlinks)
// owned by root, not writable by group or others, not setuid or setgid, in
// directories that are root-owned and not writable by group or others.
// Relative paths ("./x", "bin/x") are refused; bare names are looked up in
// SecurePath only. The returned path is the absolute path as found, not the
// symlink target, so multi-call binaries keep their name.
func ResolveCommand(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty command name", ErrInvalidCommand)
	}
	if err := checkText("command", name); err != nil {
		return "", err
	}
	var abs string
	switch {
	case filepath.IsAbs(name):
		abs = filepath.Clean(name)
	case strings.ContainsRune(name, '/'):
		return "", fmt.Errorf("%w: %q is a relative path; give an absolute path or a bare name found in %s", ErrInvalidCommand, name, SecurePath)
	default:
		for _, dir := range filepath.SplitList(SecurePath) {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				abs = p
				break
			}
		}
		if abs == "" {
			return "", fmt.Errorf("%w: %q not found in %s", ErrInvalidCommand, name, SecurePath)
		}
	}
	if err := checkRootFile(abs, false); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidCommand, err)
	}
	return abs, nil
}

// CheckSudo validates the sudo binary: absolute, root-owned, not writable by
// group or others, setuid root, in safe directories, and not this program
// (which would make the shim call itself).
func CheckSudo(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%w: %q is not an absolute path", ErrInvalidSudo, path)
	}
	if err := checkRootFile(path, true); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidSudo, err)
	}
	if self, err := os.Executable(); err == nil && sameFile(self, path) {
		return fmt.Errorf("%w: %s is clawwarden itself, not the real sudo (set OPENCLAW_REAL_SUDO)", ErrInvalidSudo, path)
	}
	return nil
}

// FindSudo returns the sudo to use: override when non-empty, else the first
// of DefaultSudo that exists. It validates the choice.
func FindSudo(override string) (string, error) {
	if override != "" {
		return override, CheckSudo(override)
	}
	for _, p := range DefaultSudo {
		if _, err := os.Lstat(p); err == nil {
			return p, CheckSudo(p)
		}
	}
	return "", fmt.Errorf("%w: sudo not found in %s (install it, or set OPENCLAW_REAL_SUDO)", ErrInvalidSudo, strings.Join(DefaultSudo, ", "))
}

// FindSudoOnPath returns the first sudo in the PATH list pathList that is
// not this program (the shim), validated. It never returns the shim itself.
func FindSudoOnPath(pathList string) (string, error) {
	self, _ := os.Executable()
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, "sudo")
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if self != "" && sameFile(self, p) {
			continue
		}
		return p, CheckSudo(p)
	}
	return FindSudo("")
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// checkRootFile follows symlinks from path and checks the target and every
// directory on the way to it, and the directories holding path itself.
func checkRootFile(path string, wantSetuid bool) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s does not exist", path)
		}
		return err
	}
	fi, err := os.Stat(target)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", target)
	}
	if err := rootOwnedNotWritable(target, fi); err != nil {
		return err
	}
	mode := fi.Mode()
	if wantSetuid {
		if mode&fs.ModeSetuid == 0 {
			return fmt.Errorf("%s is not setuid root, so it cannot be the real sudo", target)
		}
	} else if mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
		return fmt.Errorf("%s is setuid or setgid; running it through sudo is refused", target)
	}
	if mode&0o111 == 0 {
		return fmt.Errorf("%s is not executable", target)
	}
	for _, p := range []string{filepath.Dir(target), filepath.Dir(path)} {
		if err := checkDirChain(p); err != nil {
			return err
		}
	}
	return nil
}

// checkDirChain checks dir and each of its parents up to /.
func checkDirChain(dir string) error {
	for {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
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
		return fmt.Errorf("%s: cannot read the owner", path)
	}
	if st.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not root", path, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o)", path, fi.Mode().Perm())
	}
	return nil
}

// checkText refuses control characters, which could fake lines in the
// approval prompt or the audit view.
func checkText(what, s string) error {
	for i, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s contains a control character at byte %d", ErrInvalidCommand, what, i)
		}
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8 text", ErrInvalidCommand, what)
	}
	return nil
}
