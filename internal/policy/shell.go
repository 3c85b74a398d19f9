package policy

import "strings"

// ShellJoin quotes each argument the way a POSIX shell reads it back and joins
// them with single spaces. The result is byte for byte what Python's
// shlex.join returns, so regexes written for the original Python skill see
// the same subject string.
//
// An argument made only of ASCII letters, digits and the characters
// _@%+=:,./- is left as it is. An empty argument becomes a pair of single
// quotes. Anything else is wrapped in single quotes, with each single quote
// inside written as '"'"' (close, a double-quoted quote, reopen):
//
//	ShellJoin([]string{"echo", "", "it's", "a b"}) == `echo '' 'it'"'"'s' 'a b'`
//
// Python's shlex matches its safe set with re.ASCII, so non-ASCII letters
// are quoted too: "é" becomes 'é'.
func ShellJoin(argv []string) string {
	n := 0
	for _, a := range argv {
		n += quotedLen(a) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeQuoted(&b, a)
	}
	return b.String()
}

// shellSafe reports whether c may appear unquoted (shlex's
// [\w@%+=:,./-] with re.ASCII).
func shellSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("_@%+=:,./-", c) >= 0
}

func needsQuotes(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if !shellSafe(s[i]) {
			return true
		}
	}
	return false
}

func quotedLen(s string) int {
	if !needsQuotes(s) {
		return len(s)
	}
	return len(s) + 2 + 4*strings.Count(s, "'")
}

func writeQuoted(b *strings.Builder, s string) {
	if !needsQuotes(s) {
		b.WriteString(s)
		return
	}
	b.WriteByte('\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(`'"'"'`)
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte('\'')
}
