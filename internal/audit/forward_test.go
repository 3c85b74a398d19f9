package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/quote"
)

// receiver is a unixgram socket the test listens on, as syslog or journald
// would.
type receiver struct {
	path string
	conn *net.UnixConn
}

func listen(t *testing.T, path string) *receiver {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &receiver{path: path, conn: conn}
}

// next returns the next datagram. The messages were sent before Append
// returned, so they are queued already: the deadline only stops a broken
// test.
func (r *receiver) next(t *testing.T) []byte {
	t.Helper()
	buf := make([]byte, 1<<20)
	r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := r.conn.Read(buf)
	if err != nil {
		t.Fatalf("no message at %s: %v", r.path, err)
	}
	return buf[:n]
}

// empty reports whether nothing is queued.
func (r *receiver) empty() bool {
	r.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := r.conn.Read(make([]byte, 1))
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// syslogMsg is an RFC 5424 message parsed back.
type syslogMsg struct {
	pri, version                         int
	time, host, app, procid, msgid, sdid string
	params                               map[string]string
	msg                                  string
}

// parse5424 parses one RFC 5424 message with at most one SD-ELEMENT, as
// section 6 defines it, unescaping PARAM-VALUEs.
func parse5424(b []byte) (syslogMsg, error) {
	var m syslogMsg
	s := string(b)
	if !strings.HasPrefix(s, "<") {
		return m, errors.New("no PRI")
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return m, errors.New("unterminated PRI")
	}
	var err error
	if m.pri, err = strconv.Atoi(s[1:end]); err != nil {
		return m, err
	}
	s = s[end+1:]
	fields := strings.SplitN(s, " ", 7)
	if len(fields) != 7 {
		return m, fmt.Errorf("header has %d fields", len(fields))
	}
	if m.version, err = strconv.Atoi(fields[0]); err != nil {
		return m, err
	}
	m.time, m.host, m.app, m.procid, m.msgid = fields[1], fields[2], fields[3], fields[4], fields[5]
	s = fields[6]
	if s == "-" || strings.HasPrefix(s, "- ") {
		m.msg = strings.TrimPrefix(strings.TrimPrefix(s, "-"), " ")
		return m, nil
	}
	if !strings.HasPrefix(s, "[") {
		return m, errors.New("no SD")
	}
	i := strings.IndexAny(s, " ]")
	m.sdid = s[1:i]
	m.params = map[string]string{}
	s = s[i:]
	for strings.HasPrefix(s, " ") {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			return m, fmt.Errorf("bad SD-PARAM at %q", s)
		}
		name := s[1:eq]
		var v strings.Builder
		j := eq + 2
		for ; j < len(s) && s[j] != '"'; j++ {
			if s[j] == '\\' && j+1 < len(s) && strings.IndexByte(`"\]`, s[j+1]) >= 0 {
				j++
			} else if s[j] == ']' {
				return m, fmt.Errorf("unescaped ] in %s", name)
			}
			v.WriteByte(s[j])
		}
		if j == len(s) {
			return m, fmt.Errorf("unterminated value of %s", name)
		}
		if _, dup := m.params[name]; dup {
			return m, fmt.Errorf("%s twice", name)
		}
		m.params[name] = v.String()
		s = s[j+1:]
	}
	if !strings.HasPrefix(s, "]") {
		return m, fmt.Errorf("SD-ELEMENT not closed at %q", s)
	}
	m.msg = strings.TrimPrefix(s[1:], " ")
	return m, nil
}

// parseJournal parses journald's native protocol: FIELD=value lines and the
// binary form FIELD\n<le64 length><value>\n.
func parseJournal(b []byte) (map[string]string, error) {
	fields := map[string]string{}
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			return nil, errors.New("unterminated field")
		}
		line := string(b[:nl])
		var name, value string
		if eq := strings.IndexByte(line, '='); eq >= 0 {
			name, value = line[:eq], line[eq+1:]
			b = b[nl+1:]
		} else {
			name = line
			b = b[nl+1:]
			if len(b) < 8 {
				return nil, errors.New("short binary field")
			}
			n := binary.LittleEndian.Uint64(b)
			if uint64(len(b)-8) < n+1 || b[8+n] != '\n' {
				return nil, fmt.Errorf("bad length of %s", name)
			}
			value = string(b[8 : 8+n])
			b = b[8+n+1:]
		}
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("%s twice", name)
		}
		fields[name] = value
	}
	return fields, nil
}

// forwardLog is a log whose records go to the sockets in dir: syslog
// at dir/log, journald at dir/journal (when the test listens there). Warnings
// are collected.
func forwardLog(t *testing.T, dir string) (*Log, *[]error) {
	t.Helper()
	var mu sync.Mutex
	var warns []error
	l := newLog(t)
	l.Forward = &Forwarder{Syslog: filepath.Join(dir, "log"), Journal: filepath.Join(dir, "journal"), Hostname: "host.example"}
	l.Warn = func(err error) {
		mu.Lock()
		defer mu.Unlock()
		warns = append(warns, err)
	}
	return l, &warns
}

// hostile is an argv an agent might choose to break the message apart.
var hostile = []string{"/usr/bin/echo", `x"] [clawwarden@32473 decision="approved"`, `back\slash`, "]", "line\nCLAWWARDEN_DECISION=approved"}

func TestForwardSyslog(t *testing.T) {
	dir := t.TempDir()
	rcv := listen(t, filepath.Join(dir, "log"))
	l, warns := forwardLog(t, dir)
	code := 0
	recs := []Record{
		{Event: "request", Argv: hostile, RequestID: "r-1", SessionID: "task-1", Reason: "the agent's words", Detail: "via exec"},
		{Event: "result", Decision: "ran", Argv: hostile, ExitCode: &code, RequestID: "r-1", Rule: "allow_exact[0]"},
	}
	if err := l.Append(recs...); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(Record{Event: "policy", Decision: "deny", Argv: []string{"/bin/sh"}, Rule: "built-in: shell"}); err != nil {
		t.Fatal(err)
	}
	if len(*warns) > 0 {
		t.Fatalf("warnings: %v", *warns)
	}
	local := lines(t, l.Path)
	if len(local) != 3 {
		t.Fatalf("local log has %d lines, want 3", len(local))
	}
	prev := strings.Repeat("0", 64)
	for i, want := range []struct {
		pri             int
		event, decision string
		argv            []string
	}{
		{85, "request", "", hostile},
		{85, "result", "ran", hostile},
		{84, "policy", "deny", []string{"/bin/sh"}},
	} {
		raw := rcv.next(t)
		m, err := parse5424(raw)
		if err != nil {
			t.Fatalf("message %d: %v\n%s", i, err, raw)
		}
		sum := sha256.Sum256([]byte(local[i]))
		hash := hex.EncodeToString(sum[:])
		if m.pri != want.pri || m.version != 1 || m.host != "host.example" || m.app != "clawwarden" ||
			m.procid != strconv.Itoa(os.Getpid()) || m.msgid != want.event || m.sdid != SDID {
			t.Errorf("message %d header: %+v", i, m)
		}
		if _, err := time.Parse(time.RFC3339Nano, m.time); err != nil || !strings.HasSuffix(m.time, "Z") || len(m.time) != len("2006-01-02T15:04:05.000000Z") {
			t.Errorf("message %d TIMESTAMP %q: %v", i, m.time, err)
		}
		p := m.params
		if p["event"] != want.event || p["decision"] != want.decision || p["argv"] != quote.Argv(want.argv) ||
			p["hash"] != hash || p["prev"] != prev || p["uid"] != strconv.Itoa(os.Getuid()) {
			t.Errorf("message %d params %q, want event %s decision %q hash %s prev %s", i, p, want.event, want.decision, hash, prev)
		}
		if m.msg != local[i] {
			t.Errorf("message %d MSG is not the local line:\n got %s\nwant %s", i, m.msg, local[i])
		}
		prev = hash
	}
	if s, f := l.Forward.Stats(); s != 3 || f != 0 {
		t.Errorf("Stats() = %d, %d; want 3, 0", s, f)
	}
	if _, err := VerifyFile(l.Path); err != nil {
		t.Error(err)
	}
}

func TestForwardJournalFirst(t *testing.T) {
	dir := t.TempDir()
	jrn := listen(t, filepath.Join(dir, "journal"))
	sys := listen(t, filepath.Join(dir, "log"))
	l, warns := forwardLog(t, dir)
	l.Forward.AppName = "clawwarden-root"
	code := 3
	if err := l.Append(Record{Event: "result", Decision: "ran", Argv: hostile, ExitCode: &code, RequestID: "r-2", Approver: "alice", KeyFP: "SHA256:abc",
		SessionID: "task\x1b[2J\u202e"}); err != nil {
		t.Fatal(err)
	}
	if len(*warns) > 0 {
		t.Fatalf("warnings: %v", *warns)
	}
	f, err := parseJournal(jrn.next(t))
	if err != nil {
		t.Fatal(err)
	}
	line := lines(t, l.Path)[0]
	sum := sha256.Sum256([]byte(line))
	want := map[string]string{
		"MESSAGE":             "result ran: " + quote.Argv(hostile),
		"PRIORITY":            "5",
		"SYSLOG_FACILITY":     "10",
		"SYSLOG_IDENTIFIER":   "clawwarden-root",
		"CLAWWARDEN_EVENT":    "result",
		"CLAWWARDEN_DECISION": "ran",
		"CLAWWARDEN_REQUEST":  "r-2",
		"CLAWWARDEN_ARGV":     quote.Argv(hostile),
		"CLAWWARDEN_HASH":     hex.EncodeToString(sum[:]),
		"CLAWWARDEN_PREV":     strings.Repeat("0", 64),
		"CLAWWARDEN_EXIT":     "3",
		"CLAWWARDEN_UID":      strconv.Itoa(os.Getuid()),
		"CLAWWARDEN_APPROVER": "alice",
		"CLAWWARDEN_KEY_FP":   "SHA256:abc",
		"CLAWWARDEN_SESSION":  `task\x1b[2J\u202e`,
		"CLAWWARDEN_RECORD":   line,
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %q, want %q", k, f[k], v)
		}
	}
	for k := range f {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %s=%q", k, f[k])
		}
	}
	if !sys.empty() {
		t.Error("the record went to syslog too")
	}
}

// A journald socket nobody listens on (journald stopped) falls back to
// syslog.
func TestForwardJournalDeadFallsBackToSyslog(t *testing.T) {
	dir := t.TempDir()
	dead := listen(t, filepath.Join(dir, "journal"))
	dead.conn.Close() // the socket file stays; connecting is refused
	if fi, err := os.Stat(dead.path); err != nil || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("the dead socket is gone: %v", err)
	}
	sys := listen(t, filepath.Join(dir, "log"))
	l, warns := forwardLog(t, dir)
	if err := l.Append(rec(1)); err != nil {
		t.Fatal(err)
	}
	if len(*warns) > 0 {
		t.Fatalf("warnings: %v", *warns)
	}
	if m, err := parse5424(sys.next(t)); err != nil || m.params["event"] != rec(1).Event {
		t.Fatalf("syslog got %+v, %v", m, err)
	}
}

// No receiver at all: the record is in the local log, Append succeeds, and
// the warning names the socket and the record.
func TestForwardAbsentReceiver(t *testing.T) {
	l, warns := forwardLog(t, t.TempDir())
	if err := l.Append(rec(0), rec(1)); err != nil {
		t.Fatalf("Append failed because nothing listens: %v", err)
	}
	if n := len(lines(t, l.Path)); n != 2 {
		t.Fatalf("local log has %d lines, want 2", n)
	}
	if len(*warns) != 1 {
		t.Fatalf("warnings: %v, want one", *warns)
	}
	var fe *ForwardError
	if !errors.As((*warns)[0], &fe) || fe.Missed != 2 || fe.Of != 2 || !errors.Is(fe, fs.ErrNotExist) || !strings.HasSuffix(fe.Socket, "log") {
		t.Errorf("warning %#v (%v)", (*warns)[0], (*warns)[0])
	}
	if !strings.Contains(fe.Error(), "in the local log") {
		t.Errorf("warning does not say the record is kept: %v", fe)
	}
	if s, f := l.Forward.Stats(); s != 0 || f != 2 {
		t.Errorf("Stats() = %d, %d; want 0, 2", s, f)
	}

	// One warning per outage: the next failure is counted, not reported;
	// after a record is sent, a failure is reported again.
	if err := l.Append(rec(2)); err != nil {
		t.Fatal(err)
	}
	if len(*warns) != 1 {
		t.Errorf("a second warning in the same outage: %v", *warns)
	}
	rcv := listen(t, filepath.Join(filepath.Dir(fe.Socket), "log"))
	if err := l.Append(rec(3)); err != nil {
		t.Fatal(err)
	}
	if m, err := parse5424(rcv.next(t)); err != nil || m.params["event"] != rec(3).Event {
		t.Errorf("after the receiver came back: %+v, %v", m, err)
	}
	rcv.conn.Close()
	os.Remove(rcv.path)
	if err := l.Append(rec(4)); err != nil {
		t.Fatal(err)
	}
	if len(*warns) != 2 {
		t.Errorf("warnings %v, want a second one for the second outage", *warns)
	}
	if s, f := l.Forward.Stats(); s != 1 || f != 4 {
		t.Errorf("Stats() = %d, %d; want 1, 4", s, f)
	}
	if r, err := VerifyFile(l.Path); err != nil || r.Records != 5 {
		t.Errorf("VerifyFile: %+v, %v", r, err)
	}
}

// A receiver that does not read: once its queue is full, Append returns
// after the Forwarder's timeout with the records local and a warning.
func TestForwardFullReceiver(t *testing.T) {
	dir := t.TempDir()
	rcv := listen(t, filepath.Join(dir, "log"))
	// Fill the receiver's queue: write until a write times out.
	fill, err := net.Dial("unixgram", rcv.path)
	if err != nil {
		t.Fatal(err)
	}
	defer fill.Close()
	for n := 0; ; n++ {
		fill.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := fill.Write([]byte("<13>1 - - filler - - - x")); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			t.Logf("the receiver's queue is full after %d messages", n)
			break
		}
	}
	l, warns := forwardLog(t, dir)
	l.Forward.Timeout = 50 * time.Millisecond
	if err := l.Append(rec(0), rec(1), rec(2)); err != nil {
		t.Fatal(err)
	}
	if n := len(lines(t, l.Path)); n != 3 {
		t.Fatalf("local log has %d lines, want 3", n)
	}
	var fe *ForwardError
	if len(*warns) != 1 || !errors.As((*warns)[0], &fe) || !errors.Is(fe, os.ErrDeadlineExceeded) || fe.Missed != 3 {
		t.Fatalf("warnings %v, want one timeout for 3 records", *warns)
	}
	// The next append is not held up either, and still chains.
	if err := l.Append(rec(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyFile(l.Path); err != nil {
		t.Error(err)
	}
}

func TestWriteSDValue(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{`a"b`, `a\"b`},
		{`a\b`, `a\\b`},
		{`a]b`, `a\]b`},
		{`[x]`, `[x\]`},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"", ""},
	} {
		var b bytes.Buffer
		writeSDValue(&b, tt.in)
		if b.String() != tt.want {
			t.Errorf("writeSDValue(%q) = %q, want %q", tt.in, b.String(), tt.want)
		}
	}
}

// A record too long for one message goes without its line, argv
// shortened, its hash and prev whole.
func TestForwardLongRecord(t *testing.T) {
	long := []string{"/usr/bin/echo", strings.Repeat(`é"]\`, 40<<10)}
	e := entry{rec: Record{Event: "request", Argv: long, Prev: strings.Repeat("ab", 32), Time: time.Now()}, line: []byte(`{"prev":…}`)}
	e.hash = sha256.Sum256(e.line)
	msg := syslogMessage(&e, "h", "clawwarden", 1)
	if len(msg) > maxSyslogMessage {
		t.Errorf("syslog message is %d bytes, over %d", len(msg), maxSyslogMessage)
	}
	m, err := parse5424(msg)
	if err != nil {
		t.Fatal(err)
	}
	if m.params["truncated"] != "1" || m.msg != "" || m.params["hash"] != hex.EncodeToString(e.hash[:]) || m.params["prev"] != e.rec.Prev ||
		!strings.HasSuffix(m.params["argv"], "…") || len(m.params["argv"]) < 1000 {
		t.Errorf("long syslog message: params %q, msg %q", m.params, m.msg)
	}
	j := journalMessage(&e, "clawwarden")
	if len(j) > maxJournalMessage {
		t.Errorf("journal message is %d bytes, over %d", len(j), maxJournalMessage)
	}
	f, err := parseJournal(j)
	if err != nil {
		t.Fatal(err)
	}
	if f["CLAWWARDEN_TRUNCATED"] != "1" || f["CLAWWARDEN_RECORD"] != "" || f["CLAWWARDEN_HASH"] != hex.EncodeToString(e.hash[:]) {
		t.Errorf("long journal message: %q", f)
	}
}

// BenchmarkAppendForwarded is Append with a Forwarder whose receiver keeps
// up; compare with BenchmarkAppend for the cost of the copy.
func BenchmarkAppendForwarded(b *testing.B) {
	dir := b.TempDir()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "log"), Net: "unixgram"})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	l := newLog(b)
	l.Forward = &Forwarder{Syslog: filepath.Join(dir, "log"), Journal: filepath.Join(dir, "journal")}
	l.Warn = func(err error) { b.Fatal(err) }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := l.Append(rec(i)); err != nil {
			b.Fatal(err)
		}
	}
}
