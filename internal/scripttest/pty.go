package scripttest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// ptyDriver is the name under which the test binary drives a dialog on a
// pseudo-terminal (see Main).
const ptyDriver = "scripttest-pty"

// ptyLimit stops a dialog that hangs; it measures nothing.
const ptyLimit = 60 * time.Second

// ptyMain runs os.Args[2:] on a new pseudo-terminal, holds the dialog in
// the file os.Args[1], copies all the terminal showed to stdout and returns
// the command's exit status; 124 if the dialog failed.
func ptyMain() int {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: "+ptyDriver+" DIALOG prog [args...]")
		return 2
	}
	steps, keepStdin, err := readDialog(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if keepStdin {
		cmd.Stdin = os.Stdin
	}
	// Ctty is a descriptor of the child: its stdout is the terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 1}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	tty.Close()

	var (
		mu   sync.Mutex
		buf  bytes.Buffer
		read = make(chan struct{})
	)
	go func() {
		defer close(read)
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			mu.Lock()
			buf.Write(b[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	failed := ""
	seen := 0
	for _, st := range steps {
		if st.send != "" {
			if _, err := ptmx.Write([]byte(os.ExpandEnv(st.send) + "\n")); err != nil {
				failed = fmt.Sprintf("send %q: %v", st.send, err)
				break
			}
			continue
		}
		deadline := time.Now().Add(ptyLimit)
		for {
			mu.Lock()
			loc := st.expect.FindStringIndex(buf.String()[seen:])
			if loc != nil {
				seen += loc[1]
			}
			mu.Unlock()
			if loc != nil {
				break
			}
			select {
			case <-read:
				// The terminal closed: what is there is all there will be.
				mu.Lock()
				loc = st.expect.FindStringIndex(buf.String()[seen:])
				mu.Unlock()
				if loc == nil {
					failed = fmt.Sprintf("expect %q: the terminal closed first", st.expect)
				}
			case <-time.After(20 * time.Millisecond):
				if time.Now().After(deadline) {
					failed = fmt.Sprintf("expect %q: not seen in %v", st.expect, ptyLimit)
				}
			}
			if failed != "" || loc != nil {
				break
			}
		}
		if failed != "" {
			break
		}
	}
	var werr error
	if failed != "" {
		cmd.Process.Kill()
		werr = <-done
	} else {
		select {
		case werr = <-done:
		case <-time.After(ptyLimit):
			failed = fmt.Sprintf("the command did not exit in %v", ptyLimit)
			cmd.Process.Kill()
			werr = <-done
		}
	}
	// The slave side is closed once the command and its children are gone;
	// wait for the reader to see that, briefly if a child still holds it.
	select {
	case <-read:
	case <-time.After(time.Second):
	}
	ptmx.Close()
	mu.Lock()
	os.Stdout.Write(buf.Bytes())
	mu.Unlock()
	if failed != "" {
		fmt.Fprintln(os.Stderr, "pty: "+failed)
		return 124
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		return ee.ExitCode()
	}
	if werr != nil {
		fmt.Fprintln(os.Stderr, werr)
		return 2
	}
	return 0
}

type dialogStep struct {
	expect *regexp.Regexp
	send   string
}

// readDialog parses a dialog file: "expect REGEXP" and "send TEXT" lines,
// and "stdin" alone, which gives the command the script's stdin instead of
// the terminal (which stays its controlling terminal and output). Blank lines
// and lines starting with # are skipped.
func readDialog(name string) (steps []dialogStep, keepStdin bool, err error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch verb {
		case "stdin":
			keepStdin = true
		case "expect":
			re, err := regexp.Compile(arg)
			if err != nil {
				return nil, false, fmt.Errorf("%s:%d: %v", name, n, err)
			}
			steps = append(steps, dialogStep{expect: re})
		case "send":
			if arg == "" {
				return nil, false, fmt.Errorf("%s:%d: send needs text", name, n)
			}
			steps = append(steps, dialogStep{send: arg})
		default:
			return nil, false, fmt.Errorf("%s:%d: want expect, send or stdin, got %q", name, n, verb)
		}
	}
	return steps, keepStdin, nil
}
