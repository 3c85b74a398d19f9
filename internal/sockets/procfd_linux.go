package sockets

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// attribute fills in PID, Process and Exe of ss with one pass over
// /proc/[pid]/fd: every descriptor link "socket:[INODE]" whose inode is in ss
// names its owner. The pass stops as soon as every socket has an owner; /proc
// lists processes in pid order, so a socket shared by several processes is
// attributed to the lowest pid (a server's parent rather than its workers).
// comm and exe are then read once per owning pid.
//
// It returns the number of sockets left without an owner and whether some
// process could not be inspected for lack of permission.
func attribute(ss []Socket) (unattributed int, denied bool) {
	want := make(map[uint64]int32, len(ss))
	for i := range ss {
		if ss[i].Inode != 0 {
			want[ss[i].Inode] = int32(i)
		}
	}
	remaining := len(want)
	owners := make(map[int]struct{})
	if remaining > 0 {
		denied = scanFDs(want, ss, &remaining, owners)
	}
	type proc struct{ comm, exe string }
	procs := make(map[int]proc, len(owners))
	for pid := range owners {
		dir := "/proc/" + strconv.Itoa(pid)
		var p proc
		if b, err := os.ReadFile(dir + "/comm"); err == nil {
			p.comm = strings.TrimSuffix(string(b), "\n")
		}
		if exe, err := os.Readlink(dir + "/exe"); err == nil {
			p.exe = exe
		}
		procs[pid] = p
	}
	for i := range ss {
		if ss[i].PID == 0 {
			unattributed++
			continue
		}
		p := procs[ss[i].PID]
		ss[i].Process, ss[i].Exe = p.comm, p.exe
	}
	return unattributed, denied
}

// scanFDs walks /proc/[pid]/fd for every process until remaining reaches
// zero. It reads directory entries and descriptor links into reused buffers,
// so the cost is the system calls, not allocations.
func scanFDs(want map[uint64]int32, ss []Socket, remaining *int, owners map[int]struct{}) (denied bool) {
	proc, err := os.Open("/proc")
	if err != nil {
		return false
	}
	defer proc.Close()
	sc := &fdScanner{
		want:    want,
		dirents: make([]byte, 32<<10),
		workers: min(runtime.GOMAXPROCS(0), 4),
	}
	path := make([]byte, 0, 32)
	for *remaining > 0 {
		names, err := proc.Readdirnames(256)
		for _, name := range names {
			pid, perr := strconv.Atoi(name)
			if perr != nil || pid <= 0 {
				continue
			}
			path = append(append(append(path[:0], "/proc/"...), name...), "/fd\x00"...)
			fd, oerr := openDir(path)
			if oerr != nil {
				if errors.Is(oerr, unix.EACCES) || errors.Is(oerr, unix.EPERM) {
					denied = true
				}
				continue
			}
			hits := sc.scan(fd)
			unix.Close(fd)
			for _, i := range hits {
				if ss[i].PID == 0 {
					ss[i].PID = pid
					owners[pid] = struct{}{}
					*remaining--
				}
			}
			if *remaining == 0 {
				return denied
			}
		}
		if err != nil || len(names) == 0 {
			break
		}
	}
	return denied
}

// atFDCWD is AT_FDCWD as a system call argument.
var atFDCWD = unix.AT_FDCWD

// openDir opens the NUL-terminated path as a directory.
func openDir(path []byte) (int, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&path[0])),
			uintptr(unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// parallelFDs is the number of descriptors of one process above which their
// links are read by several goroutines (a server holding thousands of
// sockets).
const parallelFDs = 1024

// fdScanner holds the reused buffers of one pass.
type fdScanner struct {
	want    map[uint64]int32
	dirents []byte
	names   []byte  // NUL-terminated descriptor names of the current process
	offsets []int32 // start of each name in names
	link    []byte
	hits    []int32
	workers int
}

// scan reads the descriptor directory fd and returns the indexes of the
// wanted sockets its descriptors link to.
func (sc *fdScanner) scan(fd int) []int32 {
	sc.names, sc.offsets = sc.names[:0], sc.offsets[:0]
	for {
		n, err := unix.ReadDirent(fd, sc.dirents)
		if err != nil || n <= 0 {
			break
		}
		buf := sc.dirents[:n]
		for len(buf) >= 19 {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[16])))
			if reclen < 19 || reclen > len(buf) {
				break
			}
			name := buf[19:reclen] // NUL-terminated, padded
			buf = buf[reclen:]
			if name[0] == '.' {
				continue
			}
			if end := bytes.IndexByte(name, 0); end > 0 {
				sc.offsets = append(sc.offsets, int32(len(sc.names)))
				sc.names = append(sc.names, name[:end+1]...)
			}
		}
	}
	if len(sc.offsets) < parallelFDs || sc.workers < 2 {
		if sc.link == nil {
			sc.link = make([]byte, 64)
		}
		sc.hits = readLinks(fd, sc.names, sc.offsets, sc.want, sc.link, sc.hits[:0])
		return sc.hits
	}
	parts := make([][]int32, sc.workers)
	var wg sync.WaitGroup
	chunk := (len(sc.offsets) + sc.workers - 1) / sc.workers
	for w := range parts {
		lo, hi := w*chunk, min((w+1)*chunk, len(sc.offsets))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w] = readLinks(fd, sc.names, sc.offsets[lo:hi], sc.want, make([]byte, 64), nil)
		}()
	}
	wg.Wait()
	sc.hits = sc.hits[:0]
	for _, p := range parts {
		sc.hits = append(sc.hits, p...)
	}
	return sc.hits
}

// readLinks reads the link of every descriptor name (relative to the
// directory fd) and appends the indexes of wanted socket inodes to hits.
func readLinks(fd int, names []byte, offsets []int32, want map[uint64]int32, link []byte, hits []int32) []int32 {
	for _, off := range offsets {
		r, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(fd), uintptr(unsafe.Pointer(&names[off])),
			uintptr(unsafe.Pointer(&link[0])), uintptr(len(link)), 0, 0)
		if e != 0 {
			continue
		}
		ino, ok := socketInode(link[:r])
		if !ok {
			continue
		}
		if i, ok := want[ino]; ok {
			hits = append(hits, i)
		}
	}
	return hits
}
