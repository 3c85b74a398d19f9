package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

func TestWriteFileAtomicAndPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %04o, want 0700", fi.Mode().Perm())
	}
	p := filepath.Join(dir, "s.json")
	for _, content := range []string{"one", "two"} {
		if err := WriteFile(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil || string(got) != content {
			t.Fatalf("ReadFile = %q, %v; want %q", got, err, content)
		}
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %04o, want 0600", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestTrustRules(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("x"), 0o600)

	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	groupW := filepath.Join(dir, "groupw")
	os.WriteFile(groupW, []byte("x"), 0o600)
	os.Chmod(groupW, 0o620)
	otherW := filepath.Join(dir, "otherw")
	os.WriteFile(otherW, []byte("x"), 0o600)
	os.Chmod(otherW, 0o602)
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}

	cases := map[string]string{"symlink": link, "group-writable": groupW, "other-writable": otherW, "fifo": fifo}
	if os.Geteuid() == 0 {
		foreign := filepath.Join(dir, "foreign")
		os.WriteFile(foreign, []byte("x"), 0o600)
		os.Chown(foreign, 65534, 65534)
		// Root may read files it owns; a file owned by another user is
		// foreign to root too.
		cases["foreign owner"] = foreign
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadFile(p); !errors.Is(err, ErrUnsafe) {
				t.Errorf("ReadFile: err = %v, want ErrUnsafe", err)
			}
			if err := WriteFile(p, []byte("y")); !errors.Is(err, ErrUnsafe) {
				t.Errorf("WriteFile: err = %v, want ErrUnsafe", err)
			}
			if _, err := OpenAppend(p); !errors.Is(err, ErrUnsafe) {
				t.Errorf("OpenAppend: err = %v, want ErrUnsafe", err)
			}
		})
	}
	if got, _ := os.ReadFile(target); string(got) != "x" {
		t.Errorf("symlink target was written through: %q", got)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: err = %v, want ErrNotExist", err)
	}
	wdir := filepath.Join(dir, "wdir")
	os.Mkdir(wdir, 0o777)
	os.Chmod(wdir, 0o777)
	if err := WriteFile(filepath.Join(wdir, "f"), []byte("x")); !errors.Is(err, ErrUnsafe) {
		t.Errorf("write into world-writable dir: err = %v, want ErrUnsafe", err)
	}
}

func TestUpdateIsSerialisedAndAbortsOnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "counter")
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			err := Update(p, func(old []byte) ([]byte, error) {
				n, _ := strconv.Atoi(string(old))
				return []byte(strconv.Itoa(n + 1)), nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, _ := ReadFile(p); string(got) != "40" {
		t.Fatalf("counter = %q, want 40 (lost updates)", got)
	}
	boom := errors.New("boom")
	if err := Update(p, func([]byte) ([]byte, error) { return []byte("junk"), boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if got, _ := ReadFile(p); string(got) != "40" {
		t.Fatalf("failed update wrote %q", got)
	}
}

func TestLockRefusesSymlinkedLockFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s")
	os.Symlink(filepath.Join(dir, "elsewhere"), p+".lock")
	if _, err := LockFor(p); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("err = %v, want ErrUnsafe", err)
	}
}
