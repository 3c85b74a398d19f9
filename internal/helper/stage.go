package helper

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/clawwarden/clawwarden/internal/signed"
)

// maxStaged bounds the inputs one request may stage, and their size.
const (
	maxStaged      = 8
	maxStagedBytes = 64 << 20
)

// stage copies every regular file named in argv (after the command) that
// the agent's account can change — it owns it, a group of its may write it,
// anyone may write it, or it may write the directory holding it — into a
// root-owned directory, hashed, and rewrites argv to the copies. What the
// approver sees (size and hash) is then what runs. Arguments of the form
// --opt=FILE are not looked into.
func (h *helper) stage() error {
	var dir string
	for i := 1; i < len(h.req.Argv); i++ {
		arg := h.req.Argv[i]
		p := arg
		if !filepath.IsAbs(p) {
			p = filepath.Join(h.req.Cwd, p)
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || !h.agentCanChange(p, fi) {
			continue
		}
		if len(h.req.Staged) == maxStaged {
			return fmt.Errorf("more than %d agent-writable files in argv", maxStaged)
		}
		if dir == "" {
			dir = filepath.Join(h.layout.StagingDir(), h.id)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
		}
		cp := filepath.Join(dir, strconv.Itoa(i)+"-"+filepath.Base(p))
		size, sum, err := copyHashed(p, cp)
		if err != nil {
			return fmt.Errorf("stage %s: %w", arg, err)
		}
		h.req.Staged = append(h.req.Staged, signed.Staged{Path: p, Copy: cp, Size: size, SHA256: sum})
		h.req.Argv[i] = cp
	}
	return nil
}

// agentCanChange reports whether the agent's account could change the
// file at p (fi is its Stat).
func (h *helper) agentCanChange(p string, fi fs.FileInfo) bool {
	if writable(fi, h.settings.AgentUID, h.gids) {
		return true
	}
	if di, err := os.Stat(filepath.Dir(p)); err == nil && writable(di, h.settings.AgentUID, h.gids) {
		return true
	}
	return false
}

func writable(fi fs.FileInfo, uid int, gids []int) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	m := fi.Mode().Perm()
	switch {
	case int(st.Uid) == uid:
		return true // the owner can always chmod it writable
	case slices.Contains(gids, int(st.Gid)) && m&0o020 != 0:
		return true
	case m&0o002 != 0:
		// A sticky world-writable directory lets others add, not replace.
		return !(fi.IsDir() && fi.Mode()&fs.ModeSticky != 0)
	}
	return false
}

// copyHashed copies src (opened without following a final symlink... the
// agent may swap it, which only changes what is copied and shown) to dst,
// root-owned 0600, and returns its size and SHA-256.
func copyHashed(src, dst string) (int64, string, error) {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0, "", err
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil || !fi.Mode().IsRegular() {
		return 0, "", fmt.Errorf("%s is not a regular file", src)
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
