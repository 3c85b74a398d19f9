package command

import (
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

func TestExecRun(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		testenv.Skip(t, "no sh on PATH")
	}
	tests := []struct {
		name       string
		c          Cmd
		wantOut    string
		wantErrOut string
		wantErr    string // substring of the error; "" for success
		wantIs     error
	}{
		{name: "stdout and stderr apart",
			c:       Cmd{Name: sh, Args: []string{"-c", "echo out; echo err >&2"}},
			wantOut: "out\n", wantErrOut: "err\n"},
		{name: "stdin and env",
			c:       Cmd{Name: sh, Args: []string{"-c", `read x; echo "$x $V"`}, Stdin: []byte("in\n"), Env: []string{"V=env"}},
			wantOut: "in env\n"},
		{name: "argv is not a shell line",
			c:       Cmd{Name: sh, Args: []string{"-c", `printf %s "$1"`, "sh", "$(id) `id`; a b"}},
			wantOut: "$(id) `id`; a b"},
		{name: "exit status",
			c:          Cmd{Name: sh, Args: []string{"-c", "echo first >&2; echo second >&2; exit 3"}},
			wantErrOut: "first\nsecond\n",
			wantErr:    `-c 'echo first >&2; echo second >&2; exit 3': first second: exit status 3`},
		{name: "timeout",
			c:       Cmd{Name: sh, Args: []string{"-c", "exec sleep 30"}, Timeout: 50 * time.Millisecond},
			wantErr: "no output: timed out after 50ms", wantIs: ErrTimeout},
		{name: "not found",
			c:       Cmd{Name: "/nonexistent/prog", Args: []string{"x"}},
			wantErr: "/nonexistent/prog x: no output: ", wantIs: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Exec{}.Run(context.Background(), tt.c)
			if string(out.Stdout) != tt.wantOut || string(out.Stderr) != tt.wantErrOut {
				t.Errorf("output = %q, %q; want %q, %q", out.Stdout, out.Stderr, tt.wantOut, tt.wantErrOut)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			var ce *Error
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("error %T is not a *command.Error", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
		})
	}
	if _, err := (Exec{}).Run(context.Background(), Cmd{Name: sh, Args: []string{"-c", "exit 1"}}); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("exit 1: error %v does not unwrap to an *exec.ExitError with code 1", err)
		}
	}
}

func TestSummary(t *testing.T) {
	long := strings.Repeat("x", 500)
	tests := []struct {
		out  Output
		want string
	}{
		{Output{}, "no output"},
		{Output{Stdout: []byte("\n  out  \n\n"), Stderr: []byte(" \n")}, "out"},
		{Output{Stdout: []byte("out"), Stderr: []byte("a\n b \n")}, "a b"},
		{Output{Stderr: []byte(long)}, strings.Repeat("x", 400) + "…"},
	}
	for _, tt := range tests {
		if got := tt.out.Summary(); got != tt.want {
			t.Errorf("Summary(%q, %q) = %q, want %q", tt.out.Stdout, tt.out.Stderr, got, tt.want)
		}
	}
}

func TestCmdString(t *testing.T) {
	c := Cmd{Name: "openclaw", Args: []string{"config", "set", "a.b", `["/x y"]`, "--strict-json"}}
	if got, want := c.String(), `openclaw config set a.b '["/x y"]' --strict-json`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestOrAndFunc(t *testing.T) {
	if _, ok := Or(nil).(Exec); !ok {
		t.Error("Or(nil) is not Exec")
	}
	var calls []string
	f := Func(func(_ context.Context, c Cmd) (Output, error) {
		calls = append(calls, c.String())
		return Output{Stdout: []byte("ok")}, nil
	})
	out, err := Or(f).Run(context.Background(), Cmd{Name: "crontab", Args: []string{"-l"}})
	if err != nil || string(out.Stdout) != "ok" || len(calls) != 1 || calls[0] != "crontab -l" {
		t.Errorf("Or(f).Run = %q, %v; calls %q", out.Stdout, err, calls)
	}
}
