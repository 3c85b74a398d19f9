package hook

import (
	"slices"
	"testing"
)

func TestPrepend(t *testing.T) {
	const home, bin = "/home/a", "/home/a/.openclaw/bin"
	tests := []struct {
		name    string
		in      []string
		want    []string
		without []string
		first   bool
	}{
		{"unset", nil, []string{bin}, []string{}, false},
		{"empty", []string{}, []string{bin}, []string{}, false},
		{"others kept after", []string{"/opt/x", "~/tools"}, []string{bin, "/opt/x", "~/tools"}, []string{"/opt/x", "~/tools"}, false},
		{"already first", []string{bin, "/opt/x"}, []string{bin, "/opt/x"}, []string{"/opt/x"}, true},
		{"later moves first", []string{"/opt/x", bin}, []string{bin, "/opt/x"}, []string{"/opt/x"}, false},
		{"tilde form", []string{"~/.openclaw/bin", "/opt/x"}, []string{bin, "/opt/x"}, []string{"/opt/x"}, true},
		{"unclean and spaced", []string{" /home/a/.openclaw//bin/ "}, []string{bin}, []string{}, true},
		{"duplicate", []string{bin, "/opt/x", "~/.openclaw/bin"}, []string{bin, "/opt/x"}, []string{"/opt/x"}, false},
		{"similar prefix kept", []string{"/home/a/.openclaw/bin2"}, []string{bin, "/home/a/.openclaw/bin2"}, []string{"/home/a/.openclaw/bin2"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Prepend(tt.in, bin, home); !slices.Equal(got, tt.want) {
				t.Errorf("Prepend(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := Without(tt.in, bin, home); !slices.Equal(got, tt.without) {
				t.Errorf("Without(%q) = %q, want %q", tt.in, got, tt.without)
			}
			if got := IsFirst(tt.in, bin, home); got != tt.first {
				t.Errorf("IsFirst(%q) = %v, want %v", tt.in, got, tt.first)
			}
			if got := Prepend(tt.in, bin, home); !IsFirst(got, bin, home) {
				t.Errorf("IsFirst(Prepend(%q)) = false", tt.in)
			}
		})
	}
}

func TestPATHList(t *testing.T) {
	const bin = "/h/.openclaw/bin"
	tests := []struct {
		in, prepended, stripped string
	}{
		{"/usr/bin:/bin", bin + ":/usr/bin:/bin", "/usr/bin:/bin"},
		{bin + ":/usr/bin", bin + ":/usr/bin", "/usr/bin"},
		{"/usr/bin:" + bin + "/:/bin", bin + ":/usr/bin:/bin", "/usr/bin:/bin"},
		{"", bin, ""},
		{"/usr/bin::/bin", bin + ":/usr/bin:/bin", "/usr/bin:/bin"},
	}
	for _, tt := range tests {
		if got := prependPATH(tt.in, bin); got != tt.prepended {
			t.Errorf("prependPATH(%q) = %q, want %q", tt.in, got, tt.prepended)
		}
		if got := stripPATH(tt.in, bin); got != tt.stripped {
			t.Errorf("stripPATH(%q) = %q, want %q", tt.in, got, tt.stripped)
		}
		if !firstInPATH(prependPATH(tt.in, bin), bin) {
			t.Errorf("firstInPATH(prependPATH(%q)) = false", tt.in)
		}
	}
}
