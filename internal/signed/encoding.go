package signed

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// MaxMessage is the largest request or decision, in bytes, that this package
// parses, signs or verifies.
const MaxMessage = 64 << 10

// ErrMalformed is wrapped by every error of [ParseRequest] and
// [ParseDecision] about the bytes themselves.
var ErrMalformed = errors.New("malformed")

// encoder appends fields in the layout described in the package doc.
type encoder struct{ b []byte }

func (e *encoder) field(name, value string) {
	e.b = append(e.b, name...)
	e.b = append(e.b, ' ')
	e.b = strconv.AppendInt(e.b, int64(len(value)), 10)
	e.b = append(e.b, ':')
	e.b = append(e.b, value...)
	e.b = append(e.b, '\n')
}

// decoder reads fields written by encoder. The first error sticks; later
// calls return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

// magic consumes the magic line.
func (d *decoder) magic(line string) {
	if !bytes.HasPrefix(d.b, []byte(line)) {
		d.fail("does not start with %q", line)
		return
	}
	d.b = d.b[len(line):]
}

// field consumes the field called name and returns its value.
func (d *decoder) field(name string) string {
	if d.err != nil {
		return ""
	}
	if !bytes.HasPrefix(d.b, []byte(name+" ")) {
		d.fail("expected field %q", name)
		return ""
	}
	rest := d.b[len(name)+1:]
	colon := bytes.IndexByte(rest, ':')
	if colon < 0 || colon > len(strconv.Itoa(MaxMessage)) {
		d.fail("field %q: bad length", name)
		return ""
	}
	n, ok := parseCount(string(rest[:colon]))
	if !ok {
		d.fail("field %q: bad length", name)
		return ""
	}
	rest = rest[colon+1:]
	if n >= len(rest) || rest[n] != '\n' {
		d.fail("field %q: value does not end at its length", name)
		return ""
	}
	d.b = rest[n+1:]
	return string(rest[:n])
}

// count consumes a field holding a canonical decimal from 0 to 2^31-1.
func (d *decoder) count(name string) int {
	return int(d.decimal(name, 1<<31-1))
}

// decimal consumes a field holding a canonical decimal from 0 to max.
func (d *decoder) decimal(name string, max int64) int64 {
	s := d.field(name)
	if d.err != nil {
		return 0
	}
	n, ok := parseDecimal(s, max)
	if !ok {
		d.fail("field %q: not a canonical decimal number up to %d", name, max)
	}
	return n
}

// time consumes a field holding an RFC 3339 UTC time.
func (d *decoder) time(name string) time.Time {
	s := d.field(name)
	if d.err != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.fail("field %q: not an RFC 3339 time", name)
		return time.Time{}
	}
	return t.UTC()
}

// end reports the first error, or trailing bytes.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing data after the last field")
	}
	return d.err
}

// parseCount parses a count or length: canonical decimal (digits only, no
// leading zeros) up to 2^31-1.
func parseCount(s string) (int, bool) {
	n, ok := parseDecimal(s, 1<<31-1)
	return int(n), ok
}

// parseDecimal parses canonical decimal up to max.
func parseDecimal(s string, max int64) (int64, bool) {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (max-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// checkTime refuses times that RFC 3339 cannot carry or that are unset.
func checkTime(name string, t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("%s time is not set", name)
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return fmt.Errorf("%s time %s is out of range", name, formatTime(t))
	}
	return nil
}

// checkSHA256 accepts 64 lowercase hex digits.
func checkSHA256(name, s string) error {
	if len(s) != 64 {
		return fmt.Errorf("%s: want 64 lowercase hex digits, got %d bytes", name, len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%s: want 64 lowercase hex digits", name)
		}
	}
	return nil
}

// checkToken accepts 1 to 256 bytes of printable ASCII without spaces: the
// shape of install ids and account names.
func checkToken(name, s string) error {
	if s == "" || len(s) > 256 {
		return fmt.Errorf("%s: want 1 to 256 bytes, got %d", name, len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%s %q: only printable ASCII without spaces", name, s)
		}
	}
	return nil
}

// checkPath accepts an absolute path without NUL bytes: something execve and
// open can be given.
func checkPath(name, s string) error {
	if len(s) == 0 || s[0] != '/' {
		return fmt.Errorf("%s %q is not an absolute path", name, s)
	}
	return checkNoNUL(name, s)
}

func checkNoNUL(name, s string) error {
	if bytes.IndexByte([]byte(s), 0) >= 0 {
		return fmt.Errorf("%s contains a NUL byte", name)
	}
	return nil
}

func sha256Hex(sum [32]byte) string { return hex.EncodeToString(sum[:]) }
