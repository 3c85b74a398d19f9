package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// HeadPath returns the path of the head file of the log at log: log plus
// ".head". See the package documentation, "The head".
func HeadPath(log string) string { return log + ".head" }

// HeadState is what VerifyFile found out about a log's head file.
type HeadState string

const (
	// HeadUnchecked: the head was not compared with the log, because
	// Verify read a stream rather than a file, or because the chain breaks
	// at or before the head's line (Result.Broken says where).
	HeadUnchecked HeadState = ""
	// HeadOK: the log ends where its head file says, or continues it with
	// whole chained lines (an append that crashed between writing the log and
	// writing the head).
	HeadOK HeadState = "ok"
	// HeadMissing: there is no head file, because the log was written by a
	// version of clawwarden without one, or the head was removed. Removal of
	// the last records cannot be detected.
	HeadMissing HeadState = "missing"
	// HeadInvalid: the head file is not a head this version can read, for
	// example after a crash while it was written. As with HeadMissing, removal
	// of the last records cannot be detected; the next append replaces it.
	HeadInvalid HeadState = "invalid"
	// HeadMismatch: the log does not match its head file: records were
	// removed from its end, or it was rewritten after its last append.
	// Result.Broken says how.
	HeadMismatch HeadState = "mismatch"
)

// head is the content of a head file:
//
//	{"version":1,"records":15,"head":"<64 hex digits>","size":5120}
type head struct {
	records int               // lines of the log, legacy and broken lines included
	hash    [sha256.Size]byte // hash of line number records, the last line
	size    int64             // bytes of the log, up to and including that line's newline
}

// headJSON is head as stored.
type headJSON struct {
	Version int    `json:"version"`
	Records int    `json:"records"`
	Head    string `json:"head"`
	Size    int64  `json:"size"`
}

const (
	headVersion = 1
	// maxHeadFile bounds how much of a head file is read: a real one is
	// about 120 bytes.
	maxHeadFile = 1 << 10
	// maxHeadLag bounds how far the log may run ahead of its head for Append
	// to move the head forward (see follow): an append that crashed before
	// writing the head leaves one batch of records.
	maxHeadLag = 1 << 20
)

// openHead opens the head file of the log at path through a descriptor
// checked against safefile's trust rules, reads it, and returns it open (nil
// when there is none). A head that was read yields HeadOK (it has yet to be
// compared with the log), a missing head HeadMissing and one that cannot be
// parsed HeadInvalid, all with a nil error; the error is for a head that
// breaks the trust rules or cannot be read.
func openHead(path string) (*os.File, head, HeadState, error) {
	f, err := safefile.Open(HeadPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, head{}, HeadMissing, nil
	}
	if err != nil {
		return nil, head{}, "", err
	}
	var buf [maxHeadFile + 1]byte
	n, err := io.ReadFull(f, buf[:])
	switch {
	case err == nil:
		return f, head{}, HeadInvalid, nil // too long
	case !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		f.Close()
		return nil, head{}, "", err
	}
	h, ok := parseHead(buf[:n])
	if !ok {
		return f, head{}, HeadInvalid, nil
	}
	return f, h, HeadOK, nil
}

// readHead is openHead for Verify: it reads the head under the log's lock,
// as Append rewrites it in place under that lock, and closes it. Without a
// head it takes no lock; when the lock cannot be taken (a copy of a log in a
// directory we cannot write), it reads without it.
func readHead(path string) (head, HeadState, error) {
	if _, err := os.Lstat(HeadPath(path)); errors.Is(err, fs.ErrNotExist) {
		return head{}, HeadMissing, nil
	}
	if lock, err := safefile.LockFor(path); err == nil {
		defer lock.Unlock()
	}
	f, h, state, err := openHead(path)
	if f != nil {
		f.Close()
	}
	return h, state, err
}

// parseHead parses and checks the content of a head file.
func parseHead(data []byte) (head, bool) {
	var j headJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return head{}, false
	}
	h := head{records: j.Records, size: j.Size}
	if j.Version != headVersion || j.Records < 1 || j.Size < int64(j.Records) ||
		!decodeHex(h.hash[:], []byte(j.Head)) {
		return head{}, false
	}
	return h, true
}

// marshal returns h as stored, with a final newline.
func (h head) marshal() []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, headVersion, 10)
	b = append(b, `,"records":`...)
	b = strconv.AppendInt(b, int64(h.records), 10)
	b = append(b, `,"head":"`...)
	b = hex.AppendEncode(b, h.hash[:])
	b = append(b, `","size":`...)
	b = strconv.AppendInt(b, h.size, 10)
	return append(b, "}\n"...)
}

// headWriter writes a log's head file after Append has written and fsynced
// the log. Its close must be called.
type headWriter struct {
	path  string   // the log
	lines int      // lines of the log before the append
	f     *os.File // the head as read, to be rewritten in place; nil to create it
}

// prepareHead finds out how many lines the log holds before an append, for
// the head that Append writes after it, and returns nil when Append must
// leave the head alone. r is the log, size its size, last the hash of its last
// line and terminated whether it ends in a newline.
//
// Without a readable head (none yet, or one that cannot be parsed), it counts
// the lines of the whole file, once. With a head that matches the log, it
// takes the head's count. With a head that the log continues by whole chained
// lines (see follow), it adds those. Any other head does not match the log:
// Append leaves it alone, so that Verify keeps reporting the mismatch, and
// so is a head that breaks the trust rules or cannot be read.
func prepareHead(path string, r io.ReaderAt, size int64, last [sha256.Size]byte, terminated bool) *headWriter {
	f, h, state, err := openHead(path)
	if err != nil {
		return nil
	}
	hw := &headWriter{path: path, f: f}
	ok := false
	switch {
	case state == HeadMissing || state == HeadInvalid:
		hw.f = nil // replaced, not rewritten: it may be longer than a head
		var err error
		hw.lines, err = countLines(r, size, terminated)
		ok = err == nil
	case h.size == size && h.hash == last && terminated:
		hw.lines, ok = h.records, true
	default:
		hw.lines, ok = h.follow(r, size)
	}
	if f != nil && (!ok || hw.f == nil) {
		f.Close()
	}
	if !ok {
		return nil
	}
	return hw
}

// write writes h. A head that was read and matched the log is rewritten in
// place: one write at offset 0 of the file that was read and checked, which
// costs a few system calls, where creating and renaming a file each time costs
// an inode, and on ext4 a flush of its data, per append (see BenchmarkHead).
// A head only grows, as the log does, so the write covers the old content.
// Verify reads the head under the log's lock, as Append writes it, so no
// reader sees it half written; a crash may leave it older than the log, or
// torn, which Verify reports as HeadInvalid and the next Append replaces.
//
// A missing or invalid head is created anew by writeHead, and so is a head
// with another name (a hard link), which an in-place write would change too.
func (hw *headWriter) write(h head) error {
	if hw.f == nil {
		return writeHead(hw.path, h)
	}
	ri, err := hw.f.Stat()
	if err != nil {
		return err
	}
	if st, ok := ri.Sys().(*syscall.Stat_t); !ok || st.Nlink != 1 {
		return writeHead(hw.path, h)
	}
	hp := HeadPath(hw.path)
	w, err := os.OpenFile(hp, os.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	wi, err := w.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(wi, ri) {
		return fmt.Errorf("%s: %w: replaced while being opened", hp, safefile.ErrUnsafe)
	}
	data := h.marshal()
	if _, err := w.WriteAt(data, 0); err != nil {
		return err
	}
	if wi.Size() > int64(len(data)) {
		return w.Truncate(int64(len(data)))
	}
	return nil
}

// close releases the head without writing it.
func (hw *headWriter) close() {
	if hw != nil && hw.f != nil {
		hw.f.Close()
	}
}

// writeHead creates the head file of the log at path, or replaces it, with
// h: a temporary file in the same directory (created 0600), renamed over the
// head. Unlike safefile.WriteFile it does not fsync the file or the
// directory: the log, fsynced before, is the durable record, and a head lost
// in a crash is missing or older than the log, which Verify accepts and the
// next Append mends. The directory was checked by Append; the rename replaces
// whatever entry has the head's name without following it.
func writeHead(path string, h head) error {
	hp := HeadPath(path)
	tmp, err := os.CreateTemp(filepath.Dir(hp), "."+filepath.Base(hp)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(h.marshal())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), hp)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// countLines counts the lines of the file of the given size; a last line
// without a newline counts.
func countLines(r io.ReaderAt, size int64, terminated bool) (int, error) {
	n := 0
	if !terminated {
		n++
	}
	buf := make([]byte, min(size, blockSize))
	for off := int64(0); off < size; {
		chunk := buf[:min(int64(len(buf)), size-off)]
		if _, err := r.ReadAt(chunk, off); err != nil {
			return 0, noEOF(err)
		}
		n += bytes.Count(chunk, []byte{'\n'})
		off += int64(len(chunk))
	}
	return n, nil
}

// follow reports whether the log of the given size is h's log continued by
// whole chained lines, at most maxHeadLag bytes of them, and how many lines it
// then holds. That is what an append that crashed (or lost power) after
// fsyncing the log but before its head was written leaves behind, and what
// Verify accepts; an append by a process that chains its lines correctly
// looks the same, and removes nothing.
func (h head) follow(r io.ReaderAt, size int64) (int, bool) {
	if h.size >= size || size-h.size > maxHeadLag {
		return 0, false
	}
	sum, terminated, err := lastLineHash(r, h.size)
	if err != nil || !terminated || sum != h.hash {
		return 0, false
	}
	tail := make([]byte, size-h.size)
	if _, err := r.ReadAt(tail, h.size); err != nil || tail[len(tail)-1] != '\n' {
		return 0, false
	}
	n, prev := 0, h.hash
	for line := range bytes.Lines(tail) {
		line = line[:len(line)-1]
		lr := lineResult{hash: sha256.Sum256(line)}
		classify(line, &lr, true)
		if lr.kind != kindChained || lr.prev != prev {
			return 0, false
		}
		prev = lr.hash
		n++
	}
	return h.records + n, true
}
