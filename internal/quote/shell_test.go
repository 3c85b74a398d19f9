package quote

import (
	"strings"
	"testing"
)

// TestShellJoin checks ShellJoin (and so Shell) against Python 3.11's shlex.join; the want
// column was produced by running shlex.join on the same argv.
func TestShellJoin(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{nil, ``},
		{[]string{}, ``},
		{[]string{`ls`}, `ls`},
		{[]string{``}, `''`},
		{[]string{`a b`}, `'a b'`},
		{[]string{`it's`}, `'it'"'"'s'`},
		{[]string{`'`}, `''"'"''`},
		{[]string{`''`}, `''"'"''"'"''`},
		{[]string{`a"b`}, `'a"b'`},
		{[]string{`$HOME`}, `'$HOME'`},
		{[]string{"`id`"}, "'`id`'"},
		{[]string{`x;y`}, `'x;y'`},
		{[]string{"a\nb"}, "'a\nb'"},
		{[]string{"a\tb"}, "'a\tb'"},
		{[]string{`-rf`, `/`}, `-rf /`},
		{[]string{`--opt=v,w:x@y%z+1`}, `--opt=v,w:x@y%z+1`},
		{[]string{`*.gz`}, `'*.gz'`},
		{[]string{`~`}, `'~'`},
		{[]string{`é`}, `'é'`},
		{[]string{`日本`}, `'日本'`},
		{[]string{`x²`}, `'x²'`},
		{[]string{`٣`}, `'٣'`},
		{[]string{`!`}, `'!'`},
		{[]string{`a\b`}, `'a\b'`},
		{[]string{`systemctl`, `restart`, `nginx`}, `systemctl restart nginx`},
		{[]string{`echo`, ``, `it's`, `a b`}, `echo '' 'it'"'"'s' 'a b'`},
		{[]string{`{a,b}`}, `'{a,b}'`},
		{[]string{`#`}, `'#'`},
		{[]string{`&`}, `'&'`},
		{[]string{`()`}, `'()'`},
		{[]string{`[x]`}, `'[x]'`},
		{[]string{`^`}, `'^'`},
		{[]string{`a'b'c`}, `'a'"'"'b'"'"'c'`},
		{[]string{"\x00"}, "'\x00'"},
		{[]string{`-`}, `-`},
		{[]string{`=`}, `=`},
		{[]string{`_A-Z.0/9@%+=:,`}, `_A-Z.0/9@%+=:,`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			if got := ShellJoin(tt.argv); got != tt.want {
				t.Errorf("ShellJoin(%q) = %q, want %q", tt.argv, got, tt.want)
			}
			if len(tt.argv) == 1 {
				if got := Shell(tt.argv[0]); got != tt.want {
					t.Errorf("Shell(%q) = %q, want %q", tt.argv[0], got, tt.want)
				}
			}
		})
	}
}

func TestShellJoinInvalidUTF8(t *testing.T) {
	// Python strings cannot hold invalid UTF-8; Go's can. Such bytes are
	// never safe, so the argument is quoted and passed through unchanged.
	if got, want := ShellJoin([]string{"a\xffb"}), "'a\xffb'"; got != want {
		t.Errorf("ShellJoin = %q, want %q", got, want)
	}
}
