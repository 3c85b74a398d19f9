package policy

import (
	"strings"

	"github.com/clawwarden/clawwarden/internal/quote"
)

// ShellJoin is the subject string a policy's regexes are matched against:
// argv quoted and joined by [quote.ShellJoin], byte for byte what Python's
// shlex.join returns.
//
//	ShellJoin([]string{"echo", "", "it's", "a b"}) == `echo '' 'it'"'"'s' 'a b'`
func ShellJoin(argv []string) string { return quote.ShellJoin(argv) }

// quotedLen and writeQuoted build the matcher's subjects in one buffer.
func quotedLen(s string) int                   { return quote.ShellLen(s) }
func writeQuoted(b *strings.Builder, s string) { quote.WriteShell(b, s) }
