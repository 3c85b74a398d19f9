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
// its newline). The last line, and whole lines removed from the end, are
// covered by the head file (below). [Result].Head, the hash of the last line,
// covers the last line and, through it, the whole file.
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
// # The head
//
// The chain commits each line to the one before it, so nothing in it notices
// lines removed from the end, or an edit of the last line. Beside the log,
// [Log.Append] keeps its head file, [HeadPath]: the log's name plus ".head",
// one line of JSON,
//
//	{"version":1,"records":15,"head":"<64 hex digits>","size":5120}
//
// with the number of lines of the log (legacy and broken lines included),
// the hash of the last one, and the log's size in bytes. Append writes it
// after every append, under the log's lock and after the log's fsync: it
// creates it as a temporary file renamed into place (0600), and then rewrites
// it in place, which is much cheaper than a new file per append. It does not
// fsync the head, as the log is the durable record. The head can therefore be
// older than the log after a crash (rarely, torn: [HeadInvalid]), never
// newer; [VerifyFile] reads it under the log's lock, so it never sees one half
// written.
//
// [VerifyFile] compares the log with its head in the same pass as the chain:
// a log with fewer lines than the head says, or whose line number "records"
// does not have the head's hash, or whose lines up to it are not "size"
// bytes, is broken ([Result].Broken, with [Result].HeadFile
// [HeadMismatch]); so is a missing log whose head remains. A log that
// continues past its head with chained lines verifies: that is what a crash
// between the two writes leaves, and the next Append moves the head forward
// (when they are at most a megabyte).
// Any other head that does not match the log, Append leaves alone, so that
// Verify keeps reporting it; it still appends, as no record may be lost.
//
// A log without a head verifies, with [Result].HeadFile [HeadMissing]: it was
// written by an older version of clawwarden, or the head was removed, and
// removal of its last records cannot be detected. The next Append counts the
// log's lines once and writes a head. To start a new log, move the head aside
// with the log: a head left behind breaks the new log.
//
// # What the chain and the head prove, and what they do not
//
// A verified chain proves that no line was changed, removed, inserted or
// reordered since it was written, unless whoever did so rewrote every line
// after it and recomputed their hashes. A head that matches adds that no
// record was removed from the end and the last one was not changed since the
// last append, unless whoever did so rewrote the head too.
//
// The log and its head belong to the user who runs the agent (same-user mode),
// so a process running as that user can rewrite the whole file and recompute
// every hash, or drop lines from the end, and then rewrite or delete the head
// to match: the head only catches naive truncation and edits that leave it
// alone. A head kept where the agent's account cannot write (enforced mode,
// to come) closes that. Until then, what detects a rewrite is a hash kept
// where that user cannot write: note [Result].Head (printed by 'clawwarden
// audit verify') elsewhere, and later check that the line with that hash is
// still in the chain ([VerifyAnchored]). Everything up to that line is then
// proven unchanged, because no line before it can change without changing its
// hash.
//
// # Copies off the host
//
// A [Log] with a [Forwarder] also sends each record it appended to the
// host's log pipeline (journald, else syslog as RFC 5424), with its line,
// its hash and its prev, so that a collector elsewhere keeps a copy that
// whoever owns the log cannot rewrite, and can tell a missing record by
// its gap in the chain. The local append comes first and is the record: a
// failure to send goes to [Log.Warn] and never fails [Log.Append].
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
// interleave or lose their chaining; it writes the head under the same lock.
// The log, its head and their directory must pass safefile's trust rules (no
// symlink, our owner, not group/other writable); Append leaves a head that
// does not pass them alone, and [VerifyFile] refuses it with the log.
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

// ErrBroken matches (errors.Is) every error of [Broken]: a log that does
// not verify, a head file that does not match, a missing anchor.
var ErrBroken = errors.New("audit chain broken")

// Broken is an error that says how the log does not verify and matches
// ErrBroken.
func Broken(format string, args ...any) error {
	return &brokenError{fmt.Sprintf(format, args...)}
}

type brokenError struct{ msg string }

func (e *brokenError) Error() string        { return e.msg }
func (e *brokenError) Is(target error) bool { return target == ErrBroken }

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
	Advisory   bool      `json:"advisory,omitempty"`    // the approval was advisory: sudo needed no password (NOPASSWD)
	Approver   string    `json:"approver,omitempty"`    // enforced mode: the signer's principal
	KeyFP      string    `json:"key_fp,omitempty"`      // enforced mode: the signer's key fingerprint (SHA256:…)
	RequestID  string    `json:"request_id,omitempty"`  // ties the records of one request together
	Detail     string    `json:"detail,omitempty"`      // anything else worth keeping, for people
}

// Log is the audit log at Path, normally
// config.Paths.Security(config.AuditLogFile).
type Log struct {
	Path string
	// Forward, when set, also sends every record appended to the host's
	// log pipeline (see [Forwarder]), after the local append.
	Forward *Forwarder
	// Warn, when set, is told what went wrong without failing Append: a
	// *[ForwardError] for records that are in the log but were not sent.
	Warn func(error)
}

// zeroPrev is the prev of the first line of a file.
var zeroPrev [sha256.Size]byte

// Append adds recs to the log, chained, as one write under the log's lock,
// and fsyncs it. It creates the directory (0700) and file (0600) when
// missing. The records passed in are not modified.
//
// After the fsync, still under the lock, Append writes the log's head file
// (see "The head" in the package documentation), without fsyncing it. It
// leaves a head that does not match the log alone, so that Verify keeps
// reporting the mismatch, and a head it cannot write does not fail Append:
// the records are in the log.
//
// With Forward set, Append then sends the records it wrote (also when a
// later step, such as the fsync, failed) within the Forwarder's timeout,
// after releasing the lock; a failure to send goes to Warn, never to the
// returned error.
func (l *Log) Append(recs ...Record) error {
	written, err := l.appendLocal(recs)
	if l.Forward != nil && len(written) > 0 {
		if ferr := l.Forward.forward(written); ferr != nil && l.Warn != nil {
			l.Warn(ferr)
		}
	}
	return err
}

// appendLocal is Append without forwarding; it returns the records that
// reached the file, with their lines and hashes, also with an error.
func (l *Log) appendLocal(recs []Record) (written []entry, err error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if err := safefile.EnsureDir(filepath.Dir(l.Path)); err != nil {
		return written, err
	}
	lock, err := safefile.LockFor(l.Path)
	if err != nil {
		return written, err
	}
	defer lock.Unlock()

	w, err := safefile.OpenAppend(l.Path)
	if err != nil {
		return written, err
	}
	defer w.Close()
	// The append descriptor is write-only; the last line is read through a
	// second, checked descriptor that must be the same file.
	r, err := safefile.Open(l.Path)
	if err != nil {
		return written, err
	}
	defer r.Close()
	wi, err := w.Stat()
	if err != nil {
		return written, err
	}
	ri, err := r.Stat()
	if err != nil {
		return written, err
	}
	if !os.SameFile(wi, ri) {
		return written, fmt.Errorf("%s: %w: replaced while being opened", l.Path, safefile.ErrUnsafe)
	}
	size := ri.Size()
	prev, terminated, err := lastLineHash(r, size)
	if err != nil {
		return written, fmt.Errorf("read %s: %w", l.Path, err)
	}

	// The head to write after the append: how many lines the log holds now.
	hw := prepareHead(l.Path, r, size, prev, terminated)
	defer hw.close()

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
			return written, err
		}
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("append to %s: %w", l.Path, err)
	}
	written = enc.entries
	for i := range written {
		written[i].line = buf.Bytes()[written[i].start:written[i].end]
	}
	if err := w.Sync(); err != nil {
		return written, fmt.Errorf("fsync %s: %w", l.Path, err)
	}
	if size == 0 {
		// The file may be new: make its directory entry durable too.
		if err := safefile.SyncDir(filepath.Dir(l.Path)); err != nil {
			return written, err
		}
	}
	if hw != nil {
		// The records are durable; the head is not written when the log grew
		// by more than this append (a writer that ignores the lock), and a
		// head that cannot be written is only older than the log, which
		// Verify accepts and the next Append moves forward.
		newSize := size + int64(buf.Len())
		if fi, err := w.Stat(); err == nil && fi.Size() == newSize {
			hw.write(head{records: hw.lines + len(recs), hash: prev, size: newSize})
		}
	}
	return written, w.Close()
}

// encoder turns records into chained lines appended to a buffer.
type encoder struct {
	buf     *bytes.Buffer
	enc     *json.Encoder
	entries []entry // the records encoded, as written
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
	sum := sha256.Sum256(line)
	// The line is the span, not the slice: the buffer may move as it grows.
	e.entries = append(e.entries, entry{rec: *rec, start: start, end: e.buf.Len() - 1, hash: sum})
	return sum, nil
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
