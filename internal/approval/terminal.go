package approval

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/session"
)

// Terminal is the controlling terminal, opened as /dev/tty so that standard
// input, which an agent may pipe, is never read for an answer.
type Terminal struct {
	f *os.File
	r *bufio.Reader
	// Deadline, when set, bounds every read: an unanswered prompt is a
	// refusal once it passes.
	Deadline time.Time
}

// OpenTerminal opens the controlling terminal, or returns ErrNoTerminal.
func OpenTerminal() (*Terminal, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoTerminal, err)
	}
	t := &Terminal{f: f, r: bufio.NewReader(f)}
	if _, err := t.termios(); err != nil {
		f.Close()
		return nil, ErrNoTerminal
	}
	return t, nil
}

// File is the terminal's file, for callers that need to know whose it is.
func (t *Terminal) File() *os.File { return t.f }

// Name is the terminal's device path, e.g. /dev/pts/3, for the audit log.
func (t *Terminal) Name() string { return ttyName() }

// Close closes the terminal.
func (t *Terminal) Close() error { return t.f.Close() }

// Printf writes to the terminal.
func (t *Terminal) Printf(format string, args ...any) {
	fmt.Fprintf(t.f, format, args...)
}

// ErrTimeout is wrapped when a prompt is not answered before the deadline.
var ErrTimeout = errors.New("no answer before the approval timeout")

// Line discards anything typed ahead, shows prompt and reads one line.
func (t *Terminal) Line(prompt string) (string, error) {
	t.discardTypeahead()
	fmt.Fprint(t.f, prompt)
	return t.readLine()
}

func (t *Terminal) readLine() (string, error) {
	if !t.Deadline.IsZero() {
		if err := t.f.SetReadDeadline(t.Deadline); err != nil {
			return "", err
		}
	}
	s, err := t.r.ReadString('\n')
	if errors.Is(err, os.ErrDeadlineExceeded) {
		fmt.Fprintln(t.f)
		return "", ErrTimeout
	}
	if err != nil && s == "" {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// Secret discards anything typed ahead, shows prompt and reads a line with
// echo off.
func (t *Terminal) Secret(prompt string) (string, error) {
	t.discardTypeahead()
	fmt.Fprint(t.f, prompt)
	old, err := t.termios()
	if err != nil {
		return "", err
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ISIG
	if err := t.setTermios(&noEcho); err != nil {
		return "", err
	}
	defer t.setTermios(old)
	s, err := t.readLine()
	fmt.Fprintln(t.f)
	return s, err
}

func (t *Terminal) termios() (*unix.Termios, error) {
	rc, err := t.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var tio *unix.Termios
	var ierr error
	if err := rc.Control(func(fd uintptr) { tio, ierr = unix.IoctlGetTermios(int(fd), ioctlGetTermios) }); err != nil {
		return nil, err
	}
	return tio, ierr
}

func (t *Terminal) setTermios(tio *unix.Termios) error {
	rc, err := t.f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlSetTermios(int(fd), ioctlSetTermios, tio) }); err != nil {
		return err
	}
	return ierr
}

// discardTypeahead drops input typed before the prompt appeared, so a
// process that writes "yes" into the terminal ahead of time answers nothing.
func (t *Terminal) discardTypeahead() {
	if rc, err := t.f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { flushInput(int(fd)) })
	}
	t.r.Reset(t.f)
}

// Limits on what a request may hold to be shown whole on a terminal. A
// request beyond them is refused rather than shown cut: a person must see
// every byte of what they approve.
const (
	MaxShownArgs  = 64   // argv elements (files for sudoedit)
	MaxShownBytes = 512  // one escaped element or sudo option
	MaxShownTotal = 4096 // all escaped elements and options together
	maxShownText  = 200  // one line of the agent's words or of a noted fact
)

// ErrTooLong is wrapped when a request cannot be shown whole.
var ErrTooLong = errors.New("too long to show in full on a terminal")

// CheckShowable refuses a request that [Describe] cannot show whole.
func (r Request) CheckShowable() error {
	if n := len(r.Argv) + len(r.SudoArgs); n > MaxShownArgs {
		return fmt.Errorf("%w: %d arguments and options (at most %d)", ErrTooLong, n, MaxShownArgs)
	}
	total := 0
	for i, a := range append(slices.Clone(r.SudoArgs), r.Argv...) {
		w := len(quote.Word(a))
		if w > MaxShownBytes {
			return fmt.Errorf("%w: element %d is %d bytes escaped (at most %d)", ErrTooLong, i, w, MaxShownBytes)
		}
		total += w
	}
	if total > MaxShownTotal {
		return fmt.Errorf("%w: %d bytes escaped (at most %d)", ErrTooLong, total, MaxShownTotal)
	}
	return nil
}

// Describe renders r for a person: first the facts clawwarden worked out
// (binary and hash, working directory, policy rule, warnings), then each
// sudo option and each argv element on a line of its own, escaped, then the
// agent's own words (reason, session id), fenced as such, and last the whole
// command line, right above the question. Every value is escaped (package
// quote) and every free-text line is cut to one screen line, so nothing the
// agent wrote can fake lines, hide characters or push the real lines off
// the screen; callers refuse requests that [Request.CheckShowable] refuses.
func Describe(r Request) string {
	var b strings.Builder
	b.WriteString("clawwarden: privileged command requested\n")
	if r.Edit {
		b.WriteString("  program:  sudoedit (edits a copy as this account, then copies it back as root)\n")
	} else {
		fmt.Fprintf(&b, "  binary:   %s (sha256 %s)\n", clip(quote.Word(r.Argv[0]), MaxShownBytes), clip(quote.Word(r.BinarySHA256), 64))
	}
	fmt.Fprintf(&b, "  cwd:      %s\n", clip(quote.Word(r.Cwd), MaxShownBytes))
	if r.Rule != "" {
		fmt.Fprintf(&b, "  policy:   %s\n", clip(quote.Text(r.Rule), maxShownText))
	}
	if r.ID != "" {
		fmt.Fprintf(&b, "  request:  %s\n", quote.Word(r.ID))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  fact:     %s\n", clip(quote.Text(n), MaxShownBytes))
	}
	if r.Advisory {
		b.WriteString("  WARNING:  sudo runs this command for this account with NO password (NOPASSWD): any process of this\n" +
			"            account can run it without clawwarden, so this prompt protects nothing against the agent;\n" +
			"            the fix is enforced mode: clawwarden enforce install\n")
	}
	if r.Edit {
		b.WriteString("  WARNING:  sudoedit edits a temporary copy owned by this account: any process of this account\n" +
			"            (the agent) can change what is written back; approve only if it may write these files\n")
	}
	if r.CwdWritable {
		b.WriteString("  WARNING:  this account can write the working directory: relative paths name files the agent controls\n")
	}
	if r.Untrusted {
		b.WriteString("  WARNING:  the agent is working on content from an UNTRUSTED source\n")
	}
	if r.Agent != "" {
		fmt.Fprintf(&b, "  note:     filed by an agent (%s)\n", clip(quote.Text(r.Agent), maxShownText))
	}
	for i, a := range r.SudoArgs {
		fmt.Fprintf(&b, "  sudo[%d]:  %s\n", i, clip(quote.Word(a), MaxShownBytes))
	}
	for i, a := range r.Argv {
		if i == MaxShownArgs {
			fmt.Fprintf(&b, "  … %d more not shown (%d in all)\n", len(r.Argv)-i, len(r.Argv))
			break
		}
		label := fmt.Sprintf("argv[%d]", i)
		if r.Edit {
			label = fmt.Sprintf("file[%d]", i)
		}
		fmt.Fprintf(&b, "  %-9s %s\n", label+":", clip(quote.Word(a), MaxShownBytes))
		if s := quote.Suspicious(a); len(s) > 0 || !utf8.ValidString(a) {
			fmt.Fprintf(&b, "  WARNING:  %s holds invisible, control or direction-changing characters (%s)\n", label, clip(strings.Join(s, " "), maxShownText))
		}
	}
	b.WriteString("  the agent's own words (not checked by clawwarden):\n")
	fmt.Fprintf(&b, "    reason:   %s\n", orNone(r.Reason))
	fmt.Fprintf(&b, "    session:  %s\n", orNone(r.SessionID))
	fmt.Fprintf(&b, "  command:  %s\n", clip(r.Command(), MaxShownTotal+MaxShownBytes))
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return clip(quote.Word(s), maxShownText)
}

// clip shortens an already escaped text for display and says so.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes in all)", len(s))
}

// Factors are what a person must supply besides "yes".
type Factors struct {
	Token      string      // OPENCLAW_APPROVAL_TOKEN, "" when unset
	Passphrase *Passphrase // nil when no passphrase is set
}

// Answer is what the person at the terminal granted.
type Answer struct {
	Keep               bool
	UntrustedConfirmed bool
	TokenProof         string
	Key                []byte // the passphrase-derived signing key, when a passphrase is set
}

// Ask asks the person at t to approve r and returns what they granted: nil
// error only on an explicit "y"/"yes" plus every required factor. When f
// holds the token it must be typed exactly; when only r.NeedToken is set
// (the approver's environment does not hold it), the typed token becomes a
// proof the waiting guard checks. When the agent asked to keep the approval,
// the person is asked whether to; the answer is theirs.
func Ask(t *Terminal, r Request, f Factors, question string) (Answer, error) {
	var a Answer
	t.Printf("\n%s", Describe(r))
	ans, err := t.Line(question + " [y/N] ")
	if err != nil {
		return a, fmt.Errorf("%w: no answer from the terminal: %w", ErrDenied, err)
	}
	if !yes(ans) {
		return a, fmt.Errorf("%w by the person at the terminal", ErrDenied)
	}
	if r.Untrusted {
		c, err := t.Line("Untrusted content: type " + ConfirmWord + " to run it anyway: ")
		if err != nil || strings.TrimSpace(c) != ConfirmWord {
			return a, ErrUntrustedRefused
		}
		a.UntrustedConfirmed = true
	}
	if f.Token != "" || r.NeedToken {
		tok, err := t.Secret("Approval token: ")
		if err != nil || (f.Token != "" && !Equal(tok, f.Token)) {
			return a, ErrBadToken
		}
		a.TokenProof = TokenProof(r.ID, tok)
	}
	if f.Passphrase != nil {
		p, err := t.Secret("Approval passphrase: ")
		if err != nil {
			return a, ErrBadToken
		}
		key, err := f.Passphrase.Key(p)
		if err != nil {
			return a, err
		}
		a.Key = key
	}
	if r.KeepRequested {
		sess := "(none)"
		if r.SessionID != "" {
			sess = quote.Word(r.SessionID)
		}
		k, err := t.Line(fmt.Sprintf("Also allow this exact command again, without asking, for %d idle minutes in session %s? [y/N] ",
			int(session.IdleTimeout.Minutes()), sess))
		if err == nil && yes(k) {
			a.Keep = true
		}
	}
	return a, nil
}

func yes(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y", "yes":
		return true
	}
	return false
}
