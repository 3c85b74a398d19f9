package ports

import "bytes"

// scanApproved is [ParseApproved]'s fast path for the usual file, an array
// of flat objects whose keys have no escapes: it calls fn with each entry in
// turn (fn must not keep the pointer), without building a map per entry, which makes a baseline of
// thousands of listeners load in a fraction of the time. It accepts only
// valid JSON, and returns false for anything else it does not handle (nested
// values, escaped keys, null entries, invalid JSON), possibly after calling
// fn for the entries before; [decodeApproved] then decodes data. Either way
// the entries are the same.
func scanApproved(data []byte, fn func(*entry)) bool {
	s := &scanner{b: data}
	s.space()
	if !s.consume('[') {
		return false
	}
	s.space()
	if !s.consume(']') {
		var en entry // reused: fn must not keep it
		for {
			en = entry{}
			if !s.object(&en) {
				return false
			}
			fn(&en)
			s.space()
			if s.consume(']') {
				break
			}
			if !s.consume(',') {
				return false
			}
			s.space()
		}
	}
	s.space()
	return s.i == len(s.b)
}

// scanner reads JSON from b at i.
type scanner struct {
	b []byte
	i int
}

// space skips JSON white space.
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume consumes c if it is next.
func (s *scanner) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads a flat object into en.
func (s *scanner) object(en *entry) bool {
	if !s.consume('{') {
		return false
	}
	s.space()
	if s.consume('}') {
		return true
	}
	for {
		start := s.i
		if !s.string() {
			return false
		}
		key := s.b[start+1 : s.i-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		s.space()
		if !s.consume(':') {
			return false
		}
		s.space()
		start = s.i
		if !s.scalar() {
			return false
		}
		en.set(string(key), s.b[start:s.i:s.i])
		s.space()
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
		s.space()
	}
}

// scalar reads a string, number, true, false or null.
func (s *scanner) scalar() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.string()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			return true
		}
	}
	return false
}

// string reads a JSON string, quotes included.
func (s *scanner) string() bool {
	if !s.consume('"') {
		return false
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		s.i++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.i >= len(s.b) {
				return false
			}
			e := s.b[s.i]
			s.i++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if s.i+4 > len(s.b) {
					return false
				}
				for _, h := range s.b[s.i : s.i+4] {
					if !isHex(h) {
						return false
					}
				}
				s.i += 4
			default:
				return false
			}
		}
	}
	return false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	s.consume('-')
	switch {
	case s.consume('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.consume('.') && !s.digits() {
		return false
	}
	if s.consume('e') || s.consume('E') {
		if !s.consume('+') {
			s.consume('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more digits.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
