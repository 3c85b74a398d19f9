package quote

import "testing"

func TestWord(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "''"},
		{"/usr/bin/id", "/usr/bin/id"},
		{"a b", "'a b'"},
		{"it's", `'it'"'"'s'`},
		{"é", "'é'"},
		{"evil\u202egnp.sh", `$'evil\u202egnp.sh'`},
		{"zero\u200bwidth", `$'zero\u200bwidth'`},
		{"iso\u2066late\u2069", `$'iso\u2066late\u2069'`},
		{"line\nbreak", `$'line\nbreak'`},
		{"\x1b[2J", `$'\x1b[2J'`},
		{"tab\there", `$'tab\there'`},
		{"bad\xffutf8", `$'bad\xffutf8'`},
		{"q'\u202e", `$'q\'\u202e'`},
		{"nbsp\u00a0x", `$'nbsp\u00a0x'`},
		{"a b", "'a b'"},
		{"x    command:", `$'x \x20\x20\x20command:'`},
	} {
		if got := Word(tt.in); got != tt.want {
			t.Errorf("Word(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain reason", "plain reason"},
		{"rtl \u202e here", `rtl \u202e here`},
		{"esc \x1b[31m", `esc \x1b[31m`},
		{"nl\nx", `nl\x0ax`},
	} {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if !Visible("ok text") || Visible("a\u200bb") || Visible("\xff") {
		t.Error("Visible is wrong")
	}
	if got := Suspicious("a\u202eb\u2066"); len(got) != 2 || got[0] != "U+202E" || got[1] != "U+2066" {
		t.Errorf("Suspicious = %v", got)
	}
}

func TestArgv(t *testing.T) {
	if got := Argv([]string{"/usr/bin/tee", "/etc/x y", "\u202e"}); got != `/usr/bin/tee '/etc/x y' $'\u202e'` {
		t.Errorf("Argv = %s", got)
	}
}

// TestWordAuditCases are the words `audit tail` prints: plain, shell-quoted
// printable text, $'…' for anything a terminal would act on.
func TestWordAuditCases(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"/usr/bin/id", "/usr/bin/id"},
		{"a=b,c:d@e%f+g", "a=b,c:d@e%f+g"},
		{"two words", "'two words'"},
		{"it's", `'it'"'"'s'`},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
		{"café", "'café'"},
		{"a\nb", `$'a\nb'`},
		{"tab\there", `$'tab\there'`},
		{"\x1b[31mred", `$'\x1b[31mred'`},
		{"bad\xffutf8", `$'bad\xffutf8'`},
		{"quote' and \\ \x7f", `$'quote\' and \\ \x7f'`},
		{"\u202eabc", `$'\u202eabc'`},
		{"\u0085", `$'\u0085'`},
	}
	for _, tt := range tests {
		if got := Word(tt.in); got != tt.want {
			t.Errorf("Word(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
