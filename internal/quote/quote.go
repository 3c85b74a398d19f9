// Package quote renders text chosen by an agent (argv, reasons, session ids)
// for a person's eyes: on one line, with nothing that can move the cursor,
// fake a line, or reorder what is shown.
//
// Control characters (Unicode Cc), format characters (Cf: U+200B zero
// width space, U+202E right-to-left override, the isolates U+2066–U+2069),
// other non-printing runes and invalid UTF-8 are written as escapes inside
// bash's $'…' quoting, so `$'\u202e'` shows what a terminal would otherwise
// hide or act on. Printable text is quoted by [Shell], as Python's
// shlex.quote does, so the usual case reads as a shell command line.
//
// Every place that shows agent text to a person uses this package: the
// approval prompt, `pending`, `approve`, `audit tail` and the dashboard.
//
// [Shell] and [ShellJoin] are clawwarden's one shell quoting: the policy's
// subject strings, the commands hints print and crontab lines use them.
package quote

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Word quotes s as one shell word for display.
func Word(s string) string {
	if !strings.Contains(s, "  ") && Visible(s) {
		return Shell(s)
	}
	var b strings.Builder
	b.WriteString("$'")
	prev := rune(0)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' && prev == ' ':
			b.WriteString(`\x20`)
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case !visible(r):
			writeU(&b, r)
		default:
			b.WriteRune(r)
		}
		prev = r
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}

// Argv quotes each element with [Word] and joins them with spaces.
func Argv(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = Word(a)
	}
	return strings.Join(words, " ")
}

// Text escapes the non-printing runes and invalid UTF-8 of free text (a
// reason, a raw log line) without quoting it: `\u202e`, `\x1b`.
func Text(s string) string {
	if Visible(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case !visible(r):
			writeU(&b, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// Visible reports whether s is valid UTF-8 made only of runes a person sees
// as they are (no control, format or other non-printing runes).
func Visible(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !visible(r) {
			return false
		}
	}
	return true
}

// Suspicious lists the invisible or direction-changing runes in s, for a
// warning next to the escaped text ("U+202E RIGHT-TO-LEFT OVERRIDE" is
// shown as U+202E).
func Suspicious(s string) []string {
	var out []string
	for _, r := range s {
		if !visible(r) {
			out = append(out, fmt.Sprintf("U+%04X", r))
		}
	}
	return out
}

// visible: letters, marks, numbers, punctuation, symbols and the ASCII
// space. Cc, Cf (bidi overrides and isolates, zero-width characters), Co,
// Cs, Zl, Zp and other spaces are not.
func visible(r rune) bool {
	return r == ' ' || (unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r))
}

func writeU(b *strings.Builder, r rune) {
	if r > 0xffff {
		fmt.Fprintf(b, `\U%08x`, r)
	} else {
		fmt.Fprintf(b, `\u%04x`, r)
	}
}
