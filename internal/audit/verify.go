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
	"runtime"
	"sync"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Result is the outcome of verifying a log.
type Result struct {
	Records int    // chained records that verified (before the break, if any)
	Legacy  int    // lines of the original skill (JSON objects without "prev") before the first chained record
	Head    string // hex SHA-256 of the last line; empty when the log is broken or empty
	Broken  *Break // the first line that does not verify, in the chain or against the head file; nil when the log verifies

	// HeadFile says whether the log matches its head file (VerifyFile
	// only). HeadMismatch comes with Broken; HeadMissing and HeadInvalid
	// do not break the log, but mean that removal of its last records
	// cannot be detected.
	HeadFile HeadState

	// AnchorLine is the 1-based line whose hash is the anchor passed to
	// VerifyAnchored, or 0 when no line up to the break has it (always 0
	// without an anchor).
	AnchorLine int
}

// Break says where and why a log does not verify.
//
// A break in the chain is at the first line whose prev does not match the
// line before it (or that is not a record): that line or the one before it
// was changed. A break against the head file (Result.HeadFile is
// HeadMismatch) is at the first missing line when records were removed from
// the end, else at the line the head file names as the last.
type Break struct {
	Line   int    // 1-based number of the first line that does not verify
	Reason string // why, for people
}

// Why a line does not verify.
const (
	reasonEmpty     = "empty line"
	reasonNotJSON   = "not a valid JSON object: the line was altered, or a write was torn"
	reasonBadPrev   = `"prev" is not 64 lowercase hex digits`
	reasonNoNewline = "the last line has no newline at the end: the file was truncated, or a write was interrupted"
	reasonTooLong   = "line longer than 64 MiB: not written by clawwarden"
)

func reasonMismatch(line int) string {
	if line == 1 {
		return "line 1's prev is not 64 zeros, as the first line of a log must have: lines before it were removed, or it was altered"
	}
	return fmt.Sprintf("line %d's prev does not match line %d: one of them was altered, or lines were inserted or removed", line, line-1)
}

func reasonTruncated(lines, want int) string {
	return fmt.Sprintf("the log has %s but its head file says %d: records were removed from the end", pluralRecords(lines), want)
}

func reasonHeadLine(line, lines int) string {
	if line == lines {
		return "the last record does not match the head file: the log was rewritten after its last append"
	}
	return fmt.Sprintf("line %d does not match the head file, which says the log ended there: the log was rewritten after that append", line)
}

func reasonHeadSize(line int, size, want int64) string {
	return fmt.Sprintf("lines 1-%d have %d bytes but the head file says %d: lines before the first chained record, which the chain does not protect, were changed", line, size, want)
}

func reasonLogMissing(records int) string {
	return fmt.Sprintf("the log is missing but its head file says it had %s: it was deleted or moved", pluralRecords(records))
}

func pluralRecords(n int) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

func reasonLegacyAfterChain(line int) string {
	return fmt.Sprintf("line %d has no prev (the original skill's format) but follows chained records: it was inserted or altered, or the original skill still writes to this log", line)
}

// Verify reads a whole log from r and checks its chain. It stops at the first
// line that does not verify. The error is non-nil only when reading fails.
// A stream has no head file: use VerifyFile to check that too.
//
// Lines in clawwarden's own shape ({"prev":"<64 hex>",…}) are checked by their
// hash and shape; only the last line of each block of about a megabyte is
// fully parsed as JSON. That loses nothing: a line that is not what was
// written no longer has the hash the next line's prev commits to, and the
// last line is always parsed. Hashing runs on all available cores.
func Verify(r io.Reader) (Result, error) {
	return verify(r, nil, nil)
}

// VerifyAnchored is Verify that also looks for the line whose hash is anchor,
// a Head noted earlier, and sets Result.AnchorLine to its number. A verified
// chain that still contains the anchor proves that nothing up to the anchor's
// line changed since the anchor was noted.
func VerifyAnchored(r io.Reader, anchor string) (Result, error) {
	var a [sha256.Size]byte
	if !decodeHex(a[:], []byte(anchor)) {
		return Result{}, fmt.Errorf("anchor %q is not 64 lowercase hex digits", anchor)
	}
	return verify(r, &a, nil)
}

// VerifyFile verifies the log at path, which must pass safefile's trust
// rules, and compares it with its head file, HeadPath(path), when there is
// one (which must pass them too). The log is broken when it has fewer lines
// than the head says, when the head's last line is not the line at that
// position, or when the lines up to it are not the head's size; a log that
// continues past its head with chained lines verifies (an append that crashed
// before its head was written).
//
// The head is read before the log, under the log's lock (which creates the
// ".lock" file beside a log that has a head, when it can), so that an append
// while the log is read can only make the log run ahead of its head.
// Comparing them costs no extra read of the log.
//
// A missing log yields an error satisfying errors.Is(err, fs.ErrNotExist):
// there is no audit log yet. A missing log with a head file is not that: it
// yields a Result broken at line 1, as the log was deleted or moved.
func VerifyFile(path string) (Result, error) {
	return verifyFile(path, "")
}

// VerifyFileAnchored is VerifyAnchored for the log at path, with the errors
// of VerifyFile.
func VerifyFileAnchored(path, anchor string) (Result, error) {
	if anchor == "" {
		return Result{}, errors.New("empty anchor")
	}
	return verifyFile(path, anchor)
}

func verifyFile(path, anchor string) (Result, error) {
	var a *[sha256.Size]byte
	if anchor != "" {
		a = new([sha256.Size]byte)
		if !decodeHex(a[:], []byte(anchor)) {
			return Result{}, fmt.Errorf("anchor %q is not 64 lowercase hex digits", anchor)
		}
	}
	h, state, err := readHead(path)
	if err != nil {
		return Result{}, err
	}
	f, err := safefile.Open(path)
	if errors.Is(err, fs.ErrNotExist) && state == HeadOK {
		return Result{HeadFile: HeadMismatch, Broken: &Break{Line: 1, Reason: reasonLogMissing(h.records)}}, nil
	}
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	var hp *head
	if state == HeadOK {
		hp = &h
	}
	res, err := verify(f, a, hp)
	if err != nil {
		return Result{}, fmt.Errorf("read %s: %w", path, err)
	}
	if hp == nil {
		res.HeadFile = state
	}
	return res, nil
}

const (
	blockSize = 1 << 20  // how much is read and handed to a worker at a time
	maxLine   = 64 << 20 // longer lines are refused rather than buffered
)

type lineKind uint8

const (
	kindChained lineKind = iota
	kindLegacy
	kindBad
)

// lineResult is what a worker finds out about one line.
type lineResult struct {
	hash [sha256.Size]byte
	prev [sha256.Size]byte // for kindChained
	kind lineKind
	size int32  // bytes of the line and its newline (a line is at most maxLine)
	why  string // for kindBad
}

// block is a run of whole lines on its way through the pipeline: the reader
// fills buf, a worker fills lines and closes done, the checker walks lines in
// file order.
type block struct {
	buf     []byte
	tooLong bool // the next line is longer than maxLine; buf is empty
	lines   []lineResult
	done    chan struct{}
}

// verify runs the pipeline: one reader cuts the input into blocks of whole
// lines, workers hash and classify the lines of each block in parallel, and
// this goroutine checks the chain across them in order, and then the log
// against h when it is not nil.
func verify(r io.Reader, anchor *[sha256.Size]byte, h *head) (Result, error) {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 8)
	nblocks := workers + 2
	free := make(chan *block, nblocks)
	for range nblocks {
		free <- &block{buf: make([]byte, 0, blockSize)}
	}
	work := make(chan *block, nblocks)
	order := make(chan *block, nblocks)
	stop := make(chan struct{})

	var readErr error
	go func() {
		defer close(order)
		defer close(work)
		readErr = readBlocks(r, free, work, order, stop)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range work {
				b.check()
				close(b.done)
			}
		})
	}

	c := checker{anchor: anchor, head: h}
	if h != nil {
		c.headLine = h.records
	}
	stopped := false
	for b := range order {
		<-b.done
		if !stopped && !c.check(b) {
			stopped = true
			close(stop)
		}
		free <- b
	}
	wg.Wait()
	if readErr != nil {
		return Result{}, readErr
	}
	return c.result(), nil
}

// readBlocks cuts r into blocks that end at a line boundary (the last block
// may end without a newline) and sends each to the workers and, in file
// order, to the checker. It returns when r is exhausted, on a read error, or
// when stop is closed.
func readBlocks(r io.Reader, free <-chan *block, work, order chan<- *block, stop <-chan struct{}) error {
	var carry []byte // the start of a line that did not fit in the last block
	for {
		var b *block
		select {
		case <-stop:
			return nil
		case b = <-free:
		}
		b.buf = append(b.buf[:0], carry...)
		b.tooLong = false
		b.done = make(chan struct{})
		var err error
		cut := -1
		for {
			for len(b.buf) < cap(b.buf) && err == nil {
				var n int
				n, err = r.Read(b.buf[len(b.buf):cap(b.buf)])
				b.buf = b.buf[:len(b.buf)+n]
			}
			if err != nil {
				break
			}
			if i := bytes.LastIndexByte(b.buf, '\n'); i >= 0 {
				cut = i + 1
				break
			}
			if len(b.buf) > maxLine {
				b.tooLong = true
				break
			}
			grown := make([]byte, len(b.buf), min(2*cap(b.buf), maxLine+1))
			copy(grown, b.buf)
			b.buf = grown
		}
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return err
		}
		switch {
		case b.tooLong:
			b.buf = b.buf[:0]
		case eof:
			cut = len(b.buf)
		}
		if cut >= 0 {
			carry = append(carry[:0], b.buf[cut:]...)
			b.buf = b.buf[:cut]
		}
		if len(b.buf) > 0 || b.tooLong {
			order <- b
			work <- b
		}
		if eof || b.tooLong {
			return nil
		}
	}
}

// check hashes and classifies every line of b.
func (b *block) check() {
	b.lines = b.lines[:0]
	data := b.buf
	for len(data) > 0 {
		line := data
		terminated := false
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data, terminated = data[:i], data[i+1:], true
		} else {
			data = nil
		}
		lr := lineResult{hash: sha256.Sum256(line), size: int32(len(line) + 1)}
		classify(line, &lr, len(data) == 0)
		if !terminated {
			lr.kind, lr.why, lr.size = kindBad, reasonNoNewline, int32(len(line))
		}
		b.lines = append(b.lines, lr)
	}
}

// fastPrefix starts every record Append writes.
const fastPrefix = `{"prev":"`

// classify sets lr.kind, lr.prev and lr.why for line. Lines in Append's shape
// are fully parsed only when full is set.
func classify(line []byte, lr *lineResult, full bool) {
	if len(line) == 0 {
		lr.kind, lr.why = kindBad, reasonEmpty
		return
	}
	const n = len(fastPrefix)
	if len(line) > n+66 && string(line[:n]) == fastPrefix &&
		line[n+64] == '"' && line[n+65] == ',' && line[len(line)-1] == '}' &&
		decodeHex(lr.prev[:], line[n:n+64]) && (!full || json.Valid(line)) {
		lr.kind = kindChained
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil || obj == nil {
		lr.kind, lr.why = kindBad, reasonNotJSON
		return
	}
	raw, ok := obj["prev"]
	if !ok {
		lr.kind = kindLegacy
		return
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || !decodeHex(lr.prev[:], []byte(s)) {
		lr.kind, lr.why = kindBad, reasonBadPrev
		return
	}
	lr.kind = kindChained
}

// decodeHex decodes exactly 2*len(dst) lowercase hex digits from src.
func decodeHex(dst, src []byte) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	var bad byte
	for i := range dst {
		hi, lo := nibbles[src[2*i]], nibbles[src[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0x0f
	}
	return bad&0xf0 == 0
}

// nibbles maps a lowercase hex digit to its value and every other byte to
// 0xff.
var nibbles = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// checker walks the classified lines in file order and checks the chain.
type checker struct {
	res     Result
	line    int               // lines seen
	last    [sha256.Size]byte // hash of the previous line; zero before line 1
	chained bool              // a chained record was seen
	anchor  *[sha256.Size]byte

	// What the head file is compared with, noted in passing.
	head       *head
	headLine   int               // head.records; 0 without a head
	size       int64             // bytes of the lines seen
	headHash   [sha256.Size]byte // hash of line headLine
	headEnd    int64             // bytes up to and including line headLine
	headBefore [2]int            // Records and Legacy before line headLine
}

// check walks b's lines and reports false at the first that does not verify.
func (c *checker) check(b *block) bool {
	if b.tooLong {
		c.res.Broken = &Break{Line: c.line + 1, Reason: reasonTooLong}
		return false
	}
	for i := range b.lines {
		lr := &b.lines[i]
		c.line++
		if c.line == c.headLine {
			c.headBefore = [2]int{c.res.Records, c.res.Legacy}
		}
		switch lr.kind {
		case kindBad:
			c.res.Broken = &Break{Line: c.line, Reason: lr.why}
			return false
		case kindLegacy:
			if c.chained {
				c.res.Broken = &Break{Line: c.line, Reason: reasonLegacyAfterChain(c.line)}
				return false
			}
			c.res.Legacy++
		case kindChained:
			if lr.prev != c.last {
				c.res.Broken = &Break{Line: c.line, Reason: reasonMismatch(c.line)}
				return false
			}
			c.chained = true
			c.res.Records++
		}
		c.last = lr.hash
		c.size += int64(lr.size)
		if c.line == c.headLine {
			c.headHash, c.headEnd = lr.hash, c.size
		}
		if c.anchor != nil && lr.hash == *c.anchor {
			c.res.AnchorLine = c.line
		}
	}
	return true
}

func (c *checker) result() Result {
	res := c.res
	if c.head != nil {
		c.checkHead(&res)
	}
	if res.Broken == nil && c.line > 0 {
		res.Head = hex.EncodeToString(c.last[:])
	}
	return res
}

// checkHead compares the log with its head file. It leaves a break in the
// chain at or before the head's line alone (the head cannot be compared with
// lines that did not verify) and replaces a later one, as the head's line is
// then the first that does not verify.
func (c *checker) checkHead(res *Result) {
	h := c.head
	if res.Broken != nil && res.Broken.Line <= h.records {
		res.HeadFile = HeadUnchecked
		return
	}
	var b Break
	switch {
	case c.line < h.records: // the chain verifies: it would break on a later line
		b = Break{Line: c.line + 1, Reason: reasonTruncated(c.line, h.records)}
	case c.headHash != h.hash:
		b = Break{Line: h.records, Reason: reasonHeadLine(h.records, c.line)}
	case c.headEnd != h.size:
		b = Break{Line: h.records, Reason: reasonHeadSize(h.records, c.headEnd, h.size)}
	default:
		res.HeadFile = HeadOK
		return
	}
	if c.line >= h.records { // the head's line does not verify: count up to it
		res.Records, res.Legacy = c.headBefore[0], c.headBefore[1]
	}
	if res.AnchorLine >= b.Line {
		res.AnchorLine = 0
	}
	res.Broken, res.HeadFile = &b, HeadMismatch
}
