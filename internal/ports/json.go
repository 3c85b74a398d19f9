package ports

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"
)

// WriteJSON writes r as the report file's JSON document: one object whose
// listeners and findings arrays hold one compact element per line. Elements
// are encoded one at a time into a reused buffer, so a host with thousands of
// listeners is reported without building the whole document in memory, and
// the file stays readable (and diffable) line by line. Decoding the output
// with encoding/json yields r.
func (r *Report) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	b := make([]byte, 0, 4096)
	b = append(b, "{\n"...)
	b = appendKey(b, "generated_at")
	b = appendString(b, r.GeneratedAt)
	b = appendKey(append(b, ",\n"...), "host")
	b = appendString(b, r.Host)
	b = appendKey(append(b, ",\n"...), "scanner")
	b = appendString(b, r.Scanner)
	b = appendKey(append(b, ",\n"...), "complete_attribution")
	b = strconv.AppendBool(b, r.CompleteAttribution)
	if r.AttributionNote != "" {
		b = appendKey(append(b, ",\n"...), "attribution_note")
		b = appendString(b, r.AttributionNote)
	}
	b = appendKey(append(b, ",\n"...), "approved_file")
	b = appendString(b, r.ApprovedFile)
	b = appendKey(append(b, ",\n"...), "baseline_missing")
	b = strconv.AppendBool(b, r.BaselineMissing)
	if r.Hint != "" {
		b = appendKey(append(b, ",\n"...), "hint")
		b = appendString(b, r.Hint)
	}
	b = appendKey(append(b, ",\n"...), "listeners")
	b = append(b, '[')
	for i := range r.Listeners {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = r.Listeners[i].appendJSON(b)
		if len(b) > 32<<10 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	if len(r.Listeners) > 0 {
		b = append(b, "\n  "...)
	}
	b = appendKey(append(b, "],\n"...), "findings")
	b = append(b, '[')
	for i := range r.Findings {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = r.Findings[i].appendJSON(b)
		if len(b) > 32<<10 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	if len(r.Findings) > 0 {
		b = append(b, "\n  "...)
	}
	b = appendKey(append(b, "],\n"...), "summary")
	summary, err := json.MarshalIndent(r.Summary, "  ", "  ")
	if err != nil {
		return err
	}
	b = append(append(b, summary...), "\n}\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// appendJSON appends l as a compact JSON object (the same fields and
// omissions as its struct tags).
func (l *Listener) appendJSON(b []byte) []byte {
	b = append(b, `{"protocol":`...)
	b = appendString(b, l.Protocol)
	b = append(b, `,"family":`...)
	b = strconv.AppendInt(b, int64(l.Family), 10)
	b = append(b, `,"bind_address":`...)
	b = appendString(b, l.BindAddress)
	b = append(b, `,"port":`...)
	b = strconv.AppendUint(b, uint64(l.Port), 10)
	b = append(b, `,"pid":`...)
	b = appendIntPtr(b, l.PID)
	b = append(b, `,"process":`...)
	b = appendString(b, l.Process)
	if l.Exe != "" {
		b = append(b, `,"exe":`...)
		b = appendString(b, l.Exe)
	}
	if l.UID != nil {
		b = append(b, `,"uid":`...)
		b = appendIntPtr(b, l.UID)
	}
	b = append(b, `,"approved":`...)
	b = strconv.AppendBool(b, l.Approved)
	if l.ApprovedBy != nil {
		b = append(b, `,"approved_by":`...)
		b = appendIntPtr(b, l.ApprovedBy)
	}
	b = append(b, `,"flags":`...)
	b = appendStrings(b, l.Flags)
	return append(b, '}')
}

// appendJSON appends f as a compact JSON object (the same fields and
// omissions as its struct tags).
func (f *Finding) appendJSON(b []byte) []byte {
	for i, kv := range [...]struct{ k, v string }{
		{"check_id", f.CheckID}, {"status", f.Status}, {"risk", f.Risk}, {"title", f.Title},
		{"evidence", f.Evidence}, {"mitigation", f.Mitigation}, {"owner", f.Owner}, {"due_date", f.DueDate},
	} {
		if i == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = appendKeyCompact(b, kv.k)
		b = appendString(b, kv.v)
	}
	b = append(b, `,"port":`...)
	b = strconv.AppendUint(b, uint64(f.Port), 10)
	b = append(b, `,"protocol":`...)
	b = appendString(b, f.Protocol)
	b = append(b, `,"bind_address":`...)
	b = appendString(b, f.BindAddress)
	b = append(b, `,"pid":`...)
	b = appendIntPtr(b, f.PID)
	b = append(b, `,"process":`...)
	b = appendString(b, f.Process)
	if f.Exe != "" {
		b = append(b, `,"exe":`...)
		b = appendString(b, f.Exe)
	}
	b = append(b, `,"flags":`...)
	b = appendStrings(b, f.Flags)
	if f.Service != "" {
		b = append(b, `,"service":`...)
		b = appendString(b, f.Service)
	}
	if f.SecureAlternative != "" {
		b = append(b, `,"secure_alternative":`...)
		b = appendString(b, f.SecureAlternative)
	}
	return append(b, '}')
}

// appendKey appends an indented object key and colon.
func appendKey(b []byte, k string) []byte {
	b = append(b, "  "...)
	b = appendString(b, k)
	return append(b, ": "...)
}

func appendKeyCompact(b []byte, k string) []byte {
	b = appendString(b, k)
	return append(b, ':')
}

func appendIntPtr(b []byte, p *int) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*p), 10)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does without
// HTML escaping: control characters escaped, invalid UTF-8 replaced by
// U+FFFD, and U+2028/U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
