// Package audit is clawwarden's tamper-evident log of privileged activity,
// ~/.openclaw/security/privileged-audit.jsonl: every request, policy
// decision, approval, result, 'sudo -k' and session change of the guard.
//
// # Format
//
// The file holds one compact JSON object per line, each line ending in a
// newline ("JSON Lines"), the format and location the original
// cyber-security-engineer skill used. A record written by clawwarden has the
// fields of [Record]; its first key is always "prev":
//
//	{"prev":"<64 hex digits>","time":"2025-01-01T12:00:00.123456789Z","event":"exec",…}
//
// # The chain
//
// "prev" is the lowercase hex SHA-256 of the previous line's bytes, without
// its newline; the first line of a file has 64 zeros. Every line is thereby
// committed to by the line after it: editing, removing, inserting or
// reordering any line but the last one breaks the chain at a line that
// [Verify] names, and so does a truncated or torn write (a last line without
// its newline). [Result].Head, the hash of the last line, covers the last line
// and, through it, the whole file.
//
// [Log.Append] never chains over a torn line: if the file does not end in a
// newline (a crash in the middle of a write), it first ends the torn line, so
// the torn line stays in the file as a broken line that [Verify] reports, and
// the new record's prev is that line's hash.
//
// # Legacy lines
//
// The original skill's audit_logger.py wrote JSON objects without "prev". Such
// lines are accepted before the first chained record and counted in
// [Result].Legacy, not reported as tampering. The first chained record commits
// to the last legacy line (its prev is that line's hash), so an edit of that
// line is detected, but the legacy lines before it are not protected by
// anything. A line without "prev" after a chained record breaks the chain.
//
// # What the chain proves, and what it does not
//
// A verified chain proves that no line was changed, removed, inserted or
// reordered since it was written, unless whoever did so rewrote every line
// after it and recomputed their hashes. The file belongs to the user who runs
// the agent, so a process running as that user can do exactly that, or drop
// lines from the end: the chain alone cannot detect a rewrite of the whole
// file. What detects it is a hash kept where that user cannot write: note
// [Result].Head (printed by 'clawwarden audit verify') elsewhere, and later
// check that the line with that hash is still in the chain ([VerifyAnchored]).
// Everything up to that line is then proven unchanged, because no line before
// it can change without changing its hash.
//
// # Secrets
//
// Nothing secret belongs in the log, and this package does not filter: callers
// must not pass approval tokens, passphrases or environment values in any
// field.
//
// # Concurrency and durability
//
// [Log.Append] holds an exclusive flock on a sibling ".lock" file, opens the
// log with O_APPEND, writes all of its records in one write(2) and fsyncs
// before it releases the lock, so records of concurrent processes never
// interleave or lose their chaining. The file and its directory must pass
// safefile's trust rules (no symlink, our owner, not group/other writable).
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Record is one event of the privileged pipeline. Append fills Prev, and
// Time, UID and PID when they are zero.
type Record struct {
	Prev       string    `json:"prev"`                  // hex SHA-256 of the previous line; set by Append
	Time       time.Time `json:"time"`                  // UTC, RFC 3339 with nanoseconds
	Event      string    `json:"event"`                 // "request", "policy", "approval", "exec", "result", "sudo-reset", "session", …
	Argv       []string  `json:"argv,omitempty"`        // the command, argv[0] resolved when known
	Cwd        string    `json:"cwd,omitempty"`         // working directory of the requester
	UID        int       `json:"uid"`                   // real uid of the writing process
	PID        int       `json:"pid"`                   // pid of the writing process
	SessionID  string    `json:"session_id,omitempty"`  // the agent's task session id
	Reason     string    `json:"reason,omitempty"`      // the stated reason for elevation
	Decision   string    `json:"decision,omitempty"`    // "allow", "deny", "approved", "refused", …
	Rule       string    `json:"rule,omitempty"`        // the policy rule that decided
	ExitCode   *int      `json:"exit_code,omitempty"`   // the command's exit status
	DurationMS *float64  `json:"duration_ms,omitempty"` // how long the command ran
	RequestID  string    `json:"request_id,omitempty"`  // ties the records of one request together
	Detail     string    `json:"detail,omitempty"`      // anything else worth keeping, for people
}

// Log is the audit log at Path, normally
// config.Paths.Security(config.AuditLogFile).
type Log struct {
	Path string
}

// zeroPrev is the prev of the first line of a file.
var zeroPrev [sha256.Size]byte

// Append adds recs to the log, chained, as one write under the log's lock,
// and fsyncs it. It creates the directory (0700) and file (0600) when
// missing. The records passed in are not modified.
func (l *Log) Append(recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := safefile.EnsureDir(filepath.Dir(l.Path)); err != nil {
		return err
	}
	lock, err := safefile.LockFor(l.Path)
	if err != nil {
		return err
	}
	defer lock.Unlock()

	w, err := safefile.OpenAppend(l.Path)
	if err != nil {
		return err
	}
	defer w.Close()
	// The append descriptor is write-only; the last line is read through a
	// second, checked descriptor that must be the same file.
	r, err := safefile.Open(l.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	wi, err := w.Stat()
	if err != nil {
		return err
	}
	ri, err := r.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(wi, ri) {
		return fmt.Errorf("%s: %w: replaced while being opened", l.Path, safefile.ErrUnsafe)
	}
	size := ri.Size()
	prev, terminated, err := lastLineHash(r, size)
	if err != nil {
		return fmt.Errorf("read %s: %w", l.Path, err)
	}

	var buf bytes.Buffer
	if !terminated {
		buf.WriteByte('\n') // end the torn line; it stays a broken line
	}
	now := time.Now()
	uid, pid := os.Getuid(), os.Getpid()
	enc := newEncoder(&buf)
	for _, rec := range recs {
		if rec.Time.IsZero() {
			rec.Time = now
		}
		if rec.UID == 0 {
			rec.UID = uid
		}
		if rec.PID == 0 {
			rec.PID = pid
		}
		if prev, err = enc.encode(prev, &rec); err != nil {
			return err
		}
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("append to %s: %w", l.Path, err)
	}
	if err := w.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", l.Path, err)
	}
	if size == 0 {
		// The file may be new: make its directory entry durable too.
		if err := safefile.SyncDir(filepath.Dir(l.Path)); err != nil {
			return err
		}
	}
	return w.Close()
}

// encoder turns records into chained lines appended to a buffer.
type encoder struct {
	buf *bytes.Buffer
	enc *json.Encoder
}

func newEncoder(buf *bytes.Buffer) *encoder {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return &encoder{buf: buf, enc: enc}
}

// encode sets rec.Prev from prev, appends rec as one line with its newline,
// and returns the hash of that line.
func (e *encoder) encode(prev [sha256.Size]byte, rec *Record) ([sha256.Size]byte, error) {
	rec.Prev = hex.EncodeToString(prev[:])
	rec.Time = rec.Time.UTC()
	start := e.buf.Len()
	if err := e.enc.Encode(rec); err != nil {
		e.buf.Truncate(start)
		return prev, fmt.Errorf("encode audit record: %w", err)
	}
	line := e.buf.Bytes()[start : e.buf.Len()-1] // Encode adds the newline
	return sha256.Sum256(line), nil
}

// lastLineHash returns the hash of the last line of the file of the given
// size (zeroPrev for an empty file) and whether the file ends in a newline.
func lastLineHash(r io.ReaderAt, size int64) (sum [sha256.Size]byte, terminated bool, err error) {
	if size == 0 {
		return zeroPrev, true, nil
	}
	spans, terminated, err := lastLines(r, size, 1)
	if err != nil {
		return sum, false, err
	}
	h := sha256.New()
	s := spans[0]
	buf := make([]byte, min(s.end-s.start, scanChunk))
	for off := s.start; off < s.end; {
		chunk := buf[:min(int64(len(buf)), s.end-off)]
		if _, err := r.ReadAt(chunk, off); err != nil {
			return sum, false, noEOF(err)
		}
		h.Write(chunk)
		off += int64(len(chunk))
	}
	h.Sum(sum[:0])
	return sum, terminated, nil
}

// span is the byte range of one line, without its newline.
type span struct{ start, end int64 }

// lastLines reads backwards in chunks that start small (a record is a few
// hundred bytes) and double up to scanChunk.
const (
	firstChunk = 4 << 10
	scanChunk  = 64 << 10
)

// lastLines finds the last n lines of the file of the given size (which must
// be more than zero) by reading backwards from the end, and returns their
// spans, last line first, and whether the file ends in a newline.
func lastLines(r io.ReaderAt, size int64, n int) ([]span, bool, error) {
	var b [1]byte
	if _, err := r.ReadAt(b[:], size-1); err != nil {
		return nil, false, noEOF(err)
	}
	terminated := b[0] == '\n'
	lineEnd := size
	if terminated {
		lineEnd--
	}
	var spans []span
	buf := make([]byte, firstChunk)
	pos := lineEnd // [0, pos) is not scanned yet
	for len(spans) < n {
		if pos == 0 {
			spans = append(spans, span{0, lineEnd})
			break
		}
		lo := max(0, pos-int64(len(buf)))
		chunk := buf[:pos-lo]
		if _, err := r.ReadAt(chunk, lo); err != nil {
			return nil, false, noEOF(err)
		}
		for len(spans) < n {
			i := bytes.LastIndexByte(chunk, '\n')
			if i < 0 {
				break
			}
			spans = append(spans, span{lo + int64(i) + 1, lineEnd})
			lineEnd = lo + int64(i)
			chunk = chunk[:i]
		}
		pos = lo
		if len(buf) < scanChunk {
			buf = make([]byte, 2*len(buf))
		}
	}
	return spans, terminated, nil
}

// noEOF turns an unexpected EOF (the file shrank while being read) into an
// error that says so.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
