package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/clawwarden/clawwarden/internal/quote"
)

// The host's sockets.
const (
	SyslogSocket  = "/dev/log"
	JournalSocket = "/run/systemd/journal/socket"
)

// DefaultForwardTimeout bounds the sending of one append's records.
const DefaultForwardTimeout = 200 * time.Millisecond

// SDID is the RFC 5424 SD-ID of the structured data element. 32473 is the
// enterprise number RFC 5612 reserves for documentation and examples:
// clawwarden has none of its own, and a collector matches the whole name.
const SDID = "clawwarden@32473"

// Limits on one message: rsyslog's default maxMessageSize for syslog (RFC
// 5424 receivers must take 480 octets, should take 2048), well below the
// socket buffer for journald. A longer record is sent without its line and
// with its argv shortened; its hash and prev are always sent whole.
const (
	maxSyslogMessage  = 8 << 10
	maxJournalMessage = 64 << 10
)

// facility is authpriv: security and authorization messages, where sudo
// logs too.
const facility = 10

// Forwarder sends every record [Log.Append] wrote to the host's log
// pipeline, so that a collector (rsyslog, journald-remote, Vector, Fluent
// Bit) keeps a copy elsewhere. Each record goes as one datagram, after the
// local append is durable and its lock released: the local log is the
// record, and sending can only fail to add a copy.
//
// Where it goes: journald's native socket (/run/systemd/journal/socket) when
// that socket exists, otherwise the syslog socket (/dev/log), as an RFC 5424
// message. journald first because on a host that runs it, /dev/log is
// journald's own syslog socket, which would keep the message as text and
// lose the fields; the native protocol keeps every field (CLAWWARDEN_HASH=…)
// for the journal, journalctl, journald-remote and rsyslog's imjournal.
// Sending to both would put each record twice in the same journal.
//
// Each copy carries the record's hash and its prev, and the whole line the
// hash is computed over (RFC 5424: the MSG; journald: CLAWWARDEN_RECORD), so
// whoever holds the copies can check each line against its hash and the
// chain across them, and a record that did not arrive shows as a gap: the
// next record's prev names a hash the collector never saw.
//
// Its zero value uses the host's sockets; tests point it at their own. A
// Forwarder may be shared by several Logs and goroutines.
type Forwarder struct {
	// Journal is journald's native socket, used when it exists; "" means
	// JournalSocket.
	Journal string
	// Syslog is the syslog socket, used otherwise; "" means SyslogSocket.
	Syslog string
	// Timeout bounds one append's sending; 0 means DefaultForwardTimeout.
	Timeout time.Duration
	// AppName is RFC 5424's APP-NAME and journald's SYSLOG_IDENTIFIER; ""
	// means "clawwarden".
	AppName string
	// Hostname is RFC 5424's HOSTNAME; "" means os.Hostname.
	Hostname string

	sent, failed atomic.Int64
	down         atomic.Bool // the last send failed: the next failures are counted, not reported
	hostOnce     sync.Once
	host         string
}

// ForwardError says that records in the local log did not reach the host's
// log pipeline. [Log.Append] passes it to [Log.Warn]; it never fails the
// append. A Forwarder reports the first failure of an outage; the records
// that fail after it, until one is sent again, are only counted
// ([Forwarder.Stats]), so that a missing receiver costs one warning, not
// one per append.
type ForwardError struct {
	Socket    string // the socket it tried last
	Missed    int    // records not sent
	Of        int    // records appended
	FirstHash string // hash of the first record not sent
	Err       error
}

func (e *ForwardError) Error() string {
	return fmt.Sprintf("%d of %d audit records not sent to %s (they are in the local log; the first is %.16s…): %v",
		e.Missed, e.Of, e.Socket, e.FirstHash, e.Err)
}

func (e *ForwardError) Unwrap() error { return e.Err }

// Stats returns how many records this Forwarder sent and failed to send.
func (f *Forwarder) Stats() (sent, failed int64) { return f.sent.Load(), f.failed.Load() }

// entry is one appended record: as written, its line without the newline,
// and the line's hash.
type entry struct {
	rec        Record
	start, end int // the line in the encoder's buffer
	line       []byte
	hash       [32]byte
}

// forward sends es, each as one datagram, within the Forwarder's timeout.
func (f *Forwarder) forward(es []entry) error {
	if len(es) == 0 {
		return nil
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultForwardTimeout
	}
	deadline := time.Now().Add(timeout)
	n, sock, err := f.send(es, deadline)
	f.sent.Add(int64(n))
	if err == nil {
		f.down.Store(false)
		return nil
	}
	f.failed.Add(int64(len(es) - n))
	if f.down.Swap(true) {
		return nil
	}
	return &ForwardError{Socket: sock, Missed: len(es) - n, Of: len(es), FirstHash: hex.EncodeToString(es[n].hash[:]), Err: err}
}

func (f *Forwarder) send(es []entry, deadline time.Time) (int, string, error) {
	conn, sock, journal, err := f.dial(deadline)
	if err != nil {
		return 0, sock, err
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(deadline); err != nil {
		return 0, sock, err
	}
	app := f.AppName
	if app == "" {
		app = "clawwarden"
	}
	var msg []byte
	for i := range es {
		if journal {
			msg = journalMessage(&es[i], app)
		} else {
			msg = syslogMessage(&es[i], f.hostname(), app, os.Getpid())
		}
		if _, err := conn.Write(msg); err != nil {
			return i, sock, err
		}
	}
	return len(es), sock, nil
}

// dial connects to journald's socket when it exists, else (or when that
// fails) to the syslog socket.
func (f *Forwarder) dial(deadline time.Time) (net.Conn, string, bool, error) {
	d := net.Dialer{Deadline: deadline}
	journal, syslog := f.Journal, f.Syslog
	if journal == "" {
		journal = JournalSocket
	}
	if syslog == "" {
		syslog = SyslogSocket
	}
	var jerr error
	if fi, err := os.Stat(journal); err == nil && fi.Mode().Type() == fs.ModeSocket {
		c, err := d.Dial("unixgram", journal)
		if err == nil {
			return c, journal, true, nil
		}
		jerr = err
	}
	c, err := d.Dial("unixgram", syslog)
	if err != nil {
		return nil, syslog, false, errors.Join(jerr, err)
	}
	return c, syslog, false, nil
}

func (f *Forwarder) hostname() string {
	f.hostOnce.Do(func() {
		h := f.Hostname
		if h == "" {
			h, _ = os.Hostname()
		}
		f.host = headerField(h, 255)
	})
	return f.host
}

// headerField is s as an RFC 5424 header field: printable US-ASCII, at most
// max octets, "-" when empty.
func headerField(s string, max int) string {
	b := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(b) < max; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// severity is warning for refusals and failures, notice otherwise.
func severity(r *Record) int {
	switch r.Decision {
	case "deny", "refused", "rejected", "not run", "failed":
		return 4
	}
	if r.Event == "refused" {
		return 4
	}
	return 5
}

// param is one field of a record as sent: RFC 5424 PARAM-NAME and journald
// field name.
type param struct{ sd, journal, value string }

// params are the record's fields a collector filters on; event, hash and
// prev always, the others when set. Text goes through quote.Text, as the
// agent's argv through quote.Argv: a person reads these in a log viewer, so
// no control or invisible character passes.
func params(e *entry, argv string) []param {
	r := &e.rec
	ps := []param{{"event", "CLAWWARDEN_EVENT", quote.Text(r.Event)}}
	add := func(sd, j, v string) {
		if v != "" {
			ps = append(ps, param{sd, j, quote.Text(v)})
		}
	}
	add("decision", "CLAWWARDEN_DECISION", r.Decision)
	add("request", "CLAWWARDEN_REQUEST", r.RequestID)
	add("argv", "CLAWWARDEN_ARGV", argv)
	ps = append(ps, param{"hash", "CLAWWARDEN_HASH", hex.EncodeToString(e.hash[:])}, param{"prev", "CLAWWARDEN_PREV", r.Prev})
	add("rule", "CLAWWARDEN_RULE", r.Rule)
	if r.ExitCode != nil {
		add("exit", "CLAWWARDEN_EXIT", strconv.Itoa(*r.ExitCode))
	}
	add("session", "CLAWWARDEN_SESSION", r.SessionID)
	add("uid", "CLAWWARDEN_UID", strconv.Itoa(r.UID))
	add("approver", "CLAWWARDEN_APPROVER", r.Approver)
	add("key_fp", "CLAWWARDEN_KEY_FP", r.KeyFP)
	return ps
}

// syslogMessage is the RFC 5424 message for e:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [clawwarden@32473 event="…" … hash="…" prev="…"] LINE
//
// with the record's line as MSG. A message over maxSyslogMessage goes
// without the line, with truncated="1" and argv shortened to fit.
func syslogMessage(e *entry, host, app string, pid int) []byte {
	argv := ""
	if len(e.rec.Argv) > 0 {
		argv = quote.Argv(e.rec.Argv)
	}
	build := func(argv string, line []byte, truncated bool) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "<%d>1 %s %s %s %d %s [%s", facility*8+severity(&e.rec), e.rec.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
			host, headerField(app, 48), pid, headerField(e.rec.Event, 32), SDID)
		for _, p := range params(e, argv) {
			b.WriteByte(' ')
			b.WriteString(p.sd)
			b.WriteString(`="`)
			writeSDValue(&b, p.value)
			b.WriteByte('"')
		}
		if truncated {
			b.WriteString(` truncated="1"`)
		}
		b.WriteByte(']')
		if len(line) > 0 {
			b.WriteByte(' ')
			b.Write(line)
		}
		return b.Bytes()
	}
	msg := build(argv, e.line, false)
	if len(msg) <= maxSyslogMessage {
		return msg
	}
	msg = build("", nil, true)
	// Escaping at most doubles the value.
	return build(shorten(argv, (maxSyslogMessage-len(msg)-64)/2), nil, true)
}

// writeSDValue writes v as an RFC 5424 PARAM-VALUE: valid UTF-8, with '"',
// '\' and ']' escaped by a backslash.
func writeSDValue(b *bytes.Buffer, v string) {
	v = strings.ToValidUTF8(v, "\uFFFD")
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\\', ']':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	const mark = "…"
	if len(s) <= n {
		return s
	}
	n = max(0, n-len(mark))
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + mark
}

// journalMessage is e in journald's native protocol: one FIELD=value per
// line, and every value that may hold a newline (the agent's argv, the
// line) in the binary form (name, newline, 64-bit little-endian length,
// value, newline), so no value can add a field. A message over
// maxJournalMessage goes without the line, with CLAWWARDEN_TRUNCATED=1 and
// argv shortened to fit.
func journalMessage(e *entry, app string) []byte {
	argv := ""
	if len(e.rec.Argv) > 0 {
		argv = quote.Argv(e.rec.Argv)
	}
	build := func(argv string, line []byte) []byte {
		var b bytes.Buffer
		summary := e.rec.Event
		if e.rec.Decision != "" {
			summary += " " + e.rec.Decision
		}
		if argv != "" {
			summary += ": " + argv
		}
		field := func(name string, v []byte) {
			b.WriteString(name)
			b.WriteByte('\n')
			var n [8]byte
			binary.LittleEndian.PutUint64(n[:], uint64(len(v)))
			b.Write(n[:])
			b.Write(v)
			b.WriteByte('\n')
		}
		field("MESSAGE", []byte(summary))
		fmt.Fprintf(&b, "PRIORITY=%d\nSYSLOG_FACILITY=%d\n", severity(&e.rec), facility)
		field("SYSLOG_IDENTIFIER", []byte(app))
		for _, p := range params(e, argv) {
			field(p.journal, []byte(p.value))
		}
		if line != nil {
			field("CLAWWARDEN_RECORD", line)
		} else {
			b.WriteString("CLAWWARDEN_TRUNCATED=1\n")
		}
		return b.Bytes()
	}
	msg := build(argv, e.line)
	if len(msg) <= maxJournalMessage {
		return msg
	}
	msg = build("", nil)
	// MESSAGE and CLAWWARDEN_ARGV both carry argv.
	return build(shorten(argv, (maxJournalMessage-len(msg)-64)/2), nil)
}
