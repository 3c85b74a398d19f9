package quote

import "strings"

// Shell quotes s as one POSIX shell word, byte for byte as Python's
// shlex.quote does. It does not escape anything: for text a person will
// read, use [Word], which keeps this form for visible text.
//
// An argument made only of ASCII letters, digits and the characters
// _@%+=:,./- is left as it is. An empty argument becomes a pair of single
// quotes. Anything else is wrapped in single quotes, with each single quote
// inside written as '"'"' (close, a double-quoted quote, reopen). Python's
// shlex matches its safe set with re.ASCII, so non-ASCII letters are
// quoted too: "é" becomes 'é'; invalid UTF-8 is quoted and passed through.
func Shell(s string) string {
	if !needsQuotes(s) {
		return s
	}
	var b strings.Builder
	b.Grow(ShellLen(s))
	WriteShell(&b, s)
	return b.String()
}

// ShellJoin quotes each argument with [Shell] and joins them with single
// spaces: what Python's shlex.join returns, so regexes written for the
// original Python skill see the same subject string.
//
//	ShellJoin([]string{"echo", "", "it's", "a b"}) == `echo '' 'it'"'"'s' 'a b'`
func ShellJoin(argv []string) string {
	n := 0
	for _, a := range argv {
		n += ShellLen(a) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		WriteShell(&b, a)
	}
	return b.String()
}

// safeByte reports whether c may appear unquoted (shlex's [\w@%+=:,./-]
// with re.ASCII).
func safeByte(c byte) bool {
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
		if !safeByte(s[i]) {
			return true
		}
	}
	return false
}

// ShellLen is len(Shell(s)), computed without building it.
func ShellLen(s string) int {
	if !needsQuotes(s) {
		return len(s)
	}
	return len(s) + 2 + 4*strings.Count(s, "'")
}

// WriteShell writes Shell(s) to b, for callers that build a line of
// several words in one buffer.
func WriteShell(b *strings.Builder, s string) {
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
