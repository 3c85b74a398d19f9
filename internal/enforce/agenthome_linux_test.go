package enforce

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestLinkShimsMakesAgentOwnedLinks(t *testing.T) {
	home := t.TempDir()
	uid, gid := os.Getuid(), os.Getgid()
	linked, err := linkShims(home, []string{"sudo", "sudoedit"}, "/opt/x/clawwarden-sudo", uid, gid)
	if err != nil || len(linked) != 2 {
		t.Fatalf("linkShims = %v, %v", linked, err)
	}
	for _, p := range linked {
		if got, err := os.Readlink(p); err != nil || got != "/opt/x/clawwarden-sudo" {
			t.Errorf("%s -> %q, %v", p, got, err)
		}
	}
	fi, err := os.Stat(filepath.Join(home, ".openclaw"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf(".openclaw: %v %v", fi, err)
	}
	// Again: the links are replaced, not refused.
	if _, err := linkShims(home, []string{"sudo"}, "/opt/y", uid, gid); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Readlink(filepath.Join(home, ".openclaw/bin/sudo")); got != "/opt/y" {
		t.Errorf("relinked to %q", got)
	}
	// A regular file is the person's: left alone and reported.
	os.Remove(filepath.Join(home, ".openclaw/bin/sudoedit"))
	os.WriteFile(filepath.Join(home, ".openclaw/bin/sudoedit"), []byte("mine"), 0o755)
	if _, err := linkShims(home, []string{"sudoedit"}, "/opt/y", uid, gid); err == nil {
		t.Error("a regular file was replaced")
	}
	if data, _ := os.ReadFile(filepath.Join(home, ".openclaw/bin/sudoedit")); string(data) != "mine" {
		t.Errorf("sudoedit now %q", data)
	}
}

// The agent swaps a directory of its home for a symlink to a system
// directory: root must not create or remove anything there.
func TestShimLinksDoNotFollowTheAgentsSymlinks(t *testing.T) {
	for _, link := range []string{".openclaw", ".openclaw/bin"} {
		t.Run(link, func(t *testing.T) {
			home, victim := t.TempDir(), t.TempDir()
			if link != ".openclaw" {
				os.MkdirAll(filepath.Join(home, ".openclaw"), 0o700)
			}
			if err := os.Symlink(victim, filepath.Join(home, link)); err != nil {
				t.Fatal(err)
			}
			if _, err := linkShims(home, []string{"sudo"}, "/opt/x", os.Getuid(), os.Getgid()); err == nil {
				t.Error("linkShims followed the symlink")
			}
			entries, _ := os.ReadDir(victim)
			if len(entries) != 0 {
				t.Errorf("root wrote into the symlink's target: %v", entries)
			}
			// Uninstall: a "sudo" link there that points at the shim stays.
			os.MkdirAll(filepath.Join(victim, "bin"), 0o755)
			os.Symlink("/opt/x", filepath.Join(victim, "sudo"))
			os.Symlink("/opt/x", filepath.Join(victim, "bin", "sudo"))
			removed, err := unlinkShim(filepath.Join(home, ".openclaw/bin/sudo"), "/opt/x")
			if removed || err == nil {
				t.Errorf("unlinkShim through a symlink = %v, %v", removed, err)
			}
			for _, p := range []string{filepath.Join(victim, "sudo"), filepath.Join(victim, "bin", "sudo")} {
				if _, err := os.Lstat(p); err != nil {
					t.Errorf("%s removed", p)
				}
			}
		})
	}
}

func TestUnlinkShimOnlyItsOwnTarget(t *testing.T) {
	home := t.TempDir()
	linked, err := linkShims(home, []string{"sudo", "sudoedit"}, "/opt/x", os.Getuid(), os.Getgid())
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(linked[1])
	os.Symlink("/usr/bin/sudoedit", linked[1]) // the person's own link since
	if removed, err := unlinkShim(linked[0], "/opt/x"); !removed || err != nil {
		t.Errorf("own link: %v %v", removed, err)
	}
	if removed, err := unlinkShim(linked[1], "/opt/x"); removed || err != nil {
		t.Errorf("another link: %v %v", removed, err)
	}
	if _, err := os.Lstat(linked[1]); err != nil {
		t.Error("the person's link was removed")
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(linked[0], &st); err == nil {
		t.Error("own link still there")
	}
}
