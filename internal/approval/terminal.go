package approval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// Terminal is the controlling terminal, opened as /dev/tty so that standard
// input, which an agent may pipe, is never read for an answer.
type Terminal struct {
	f *os.File
	r *bufio.Reader
}

// OpenTerminal opens the controlling terminal, or returns ErrNoTerminal.
func OpenTerminal() (*Terminal, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoTerminal, err)
	}
	if !term.IsTerminal(int(f.Fd())) {
		f.Close()
		return nil, ErrNoTerminal
	}
	return &Terminal{f: f, r: bufio.NewReader(f)}, nil
}

// Close closes the terminal.
func (t *Terminal) Close() error { return t.f.Close() }

// Printf writes to the terminal.
func (t *Terminal) Printf(format string, args ...any) {
	fmt.Fprintf(t.f, format, args...)
}

// Line discards anything typed ahead, shows prompt and reads one line.
func (t *Terminal) Line(prompt string) (string, error) {
	t.discardTypeahead()
	fmt.Fprint(t.f, prompt)
	s, err := t.r.ReadString('\n')
	if err != nil && s == "" {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// Secret discards anything typed ahead, shows prompt and reads a line
// without echo.
func (t *Terminal) Secret(prompt string) (string, error) {
	t.discardTypeahead()
	fmt.Fprint(t.f, prompt)
	b, err := term.ReadPassword(int(t.f.Fd()))
	fmt.Fprintln(t.f)
	return string(b), err
}

// discardTypeahead drops input typed before the prompt appeared, so a
// process that writes "yes" into the terminal ahead of time answers nothing.
func (t *Terminal) discardTypeahead() {
	flushInput(int(t.f.Fd()))
	t.r.Reset(t.f)
}

// Prompt is what a person sees before approving.
type Prompt struct {
	Argv      []string // argv[0] resolved to an absolute path
	Command   string   // the argv shell-quoted, for reading
	Reason    string
	SessionID string
	Cwd       string
	Rule      string
	Untrusted bool
	RequestID string
}

// Describe renders the request for a person. Every value is escaped so an
// argument cannot fake extra lines.
func (p Prompt) Describe() string {
	var b strings.Builder
	q := func(s string) string {
		out, _ := json.Marshal(s)
		return string(out)
	}
	argv, _ := json.Marshal(p.Argv)
	b.WriteString("clawwarden: privileged command requested\n")
	fmt.Fprintf(&b, "  command:  %s\n", escape(p.Command))
	fmt.Fprintf(&b, "  argv:     %s\n", argv)
	fmt.Fprintf(&b, "  reason:   %s\n", orNone(p.Reason, q))
	fmt.Fprintf(&b, "  session:  %s\n", orNone(p.SessionID, q))
	fmt.Fprintf(&b, "  cwd:      %s\n", q(p.Cwd))
	if p.Rule != "" {
		fmt.Fprintf(&b, "  policy:   %s\n", escape(p.Rule))
	}
	if p.RequestID != "" {
		fmt.Fprintf(&b, "  request:  %s\n", p.RequestID)
	}
	if p.Untrusted {
		b.WriteString("  WARNING:  the agent is working on content from an UNTRUSTED source\n")
	}
	return b.String()
}

func orNone(s string, q func(string) string) string {
	if s == "" {
		return "(none)"
	}
	return q(s)
}

// escape replaces control characters so text stays on one line.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Factors are what a person must supply besides "yes".
type Factors struct {
	Token      string      // OPENCLAW_APPROVAL_TOKEN, "" when unset
	Passphrase *Passphrase // nil when no passphrase is set
}

// AskTerminal asks the person at t to approve p. It returns nil only on an
// explicit "y"/"yes" plus every required factor.
func AskTerminal(t *Terminal, p Prompt, f Factors) error {
	t.Printf("\n%s", p.Describe())
	ans, err := t.Line("Run this exact command as root? [y/N] ")
	if err != nil {
		return fmt.Errorf("%w: no answer from the terminal: %v", ErrDenied, err)
	}
	switch strings.ToLower(strings.TrimSpace(ans)) {
	case "y", "yes":
	default:
		return fmt.Errorf("%w by the person at the terminal", ErrDenied)
	}
	if p.Untrusted {
		c, err := t.Line("Untrusted content: type " + ConfirmWord + " to run it anyway: ")
		if err != nil || strings.TrimSpace(c) != ConfirmWord {
			return ErrUntrustedRefused
		}
	}
	if f.Token != "" {
		tok, err := t.Secret("Approval token: ")
		if err != nil || !Equal(tok, f.Token) {
			return ErrBadToken
		}
	}
	if f.Passphrase != nil {
		pass, err := t.Secret("Approval passphrase: ")
		if err != nil {
			return ErrBadToken
		}
		if _, err := f.Passphrase.Key(pass); err != nil {
			return err
		}
	}
	return nil
}
