package policy

import "testing"

// TestShellJoin: the policy's subject is quote.ShellJoin's (tested there
// against Python's shlex.join).
func TestShellJoin(t *testing.T) {
	if got, want := ShellJoin([]string{"echo", "", "it's", "a b"}), `echo '' 'it'"'"'s' 'a b'`; got != want {
		t.Errorf("ShellJoin = %q, want %q", got, want)
	}
}
