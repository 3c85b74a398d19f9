package helper

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	ok := []struct {
		args []string
		want Args
	}{
		{[]string{"request", "--", "/usr/bin/id"}, Args{Argv: []string{"/usr/bin/id"}}},
		{[]string{"request", "--reason=restart after config", "--task=t-1", "--keep=10m", "--", "systemctl", "restart", "nginx"},
			Args{Reason: "restart after config", Task: "t-1", Keep: 10 * time.Minute, Argv: []string{"systemctl", "restart", "nginx"}}},
		{[]string{"request", "--", "id", "--", "-x"}, Args{Argv: []string{"id", "--", "-x"}}},
	}
	for _, tt := range ok {
		got, err := ParseArgs(tt.args)
		if err != nil || got.Reason != tt.want.Reason || got.Task != tt.want.Task || got.Keep != tt.want.Keep || strings.Join(got.Argv, "\x00") != strings.Join(tt.want.Argv, "\x00") {
			t.Errorf("ParseArgs(%q) = %+v, %v", tt.args, got, err)
		}
	}
	for _, args := range [][]string{
		nil, {}, {"run", "--", "id"}, {"version"}, {"--help"}, {"request"}, {"request", "id"}, {"request", "--"},
		{"request", "--reason", "x", "--", "id"}, {"request", "--bogus=1", "--", "id"}, {"request", "--reason=a", "--reason=b", "--", "id"},
		{"request", "--keep=31m", "--", "id"}, {"request", "--keep=0s", "--", "id"}, {"request", "--reason=a\nb", "--", "id"},
		{"request", "--", "id", "a\x1b[2J"}, {"request", "--", ""}, {"request", "--", "id", "\xff"},
		{"request", "--reason=" + strings.Repeat("x", 600), "--", "id"}, {"request", "--", "id", strings.Repeat("x", 5000)},
	} {
		if _, err := ParseArgs(args); !errors.Is(err, ErrUsage) {
			t.Errorf("ParseArgs(%q) accepted: %v", args, err)
		}
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("request\x00--reason=x\x00--\x00/usr/bin/id\x00-u")
	f.Add("request\x00--keep=5m\x00--\x00id")
	f.Add("version")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		a, err := ParseArgs(args)
		if err != nil {
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("error not ErrUsage: %v", err)
			}
			return
		}
		if args[0] != "request" || len(a.Argv) == 0 || a.Argv[0] == "" || a.Keep > 30*time.Minute {
			t.Fatalf("accepted %q as %+v", args, a)
		}
		for _, s := range append([]string{a.Reason, a.Task}, a.Argv...) {
			for _, r := range s {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("control character accepted in %q", s)
				}
			}
		}
	})
}
