package enforce

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/signed"
)

// Request is a pending request as an approver sees it.
type Request struct {
	rootside.Pending
	Parsed signed.Request
}

// Pending lists the requests waiting for a decision.
func Pending(l rootside.Layout) ([]Request, error) {
	ps, err := l.ListPending()
	if err != nil {
		return nil, err
	}
	var out []Request
	for _, p := range ps {
		if r, err := signed.ParseRequest(p.Request); err == nil && r.IDString() == p.ID {
			out = append(out, Request{Pending: p, Parsed: r})
		}
	}
	return out, nil
}

// Get reads one pending request.
func Get(l rootside.Layout, id string) (Request, error) {
	p, err := l.GetPending(id)
	if err != nil {
		return Request{}, err
	}
	r, err := signed.ParseRequest(p.Request)
	if err != nil {
		return Request{}, err
	}
	if r.IDString() != id {
		return Request{}, fmt.Errorf("%w: %s holds another request", rootside.ErrNoRequest, id)
	}
	if !rootside.Alive(p.Facts.HelperPID) {
		return Request{}, fmt.Errorf("%w: request %s is void: the root helper that filed it (pid %d) is gone, and only it could run it", rootside.ErrNoRequest, id, p.Facts.HelperPID)
	}
	return Request{Pending: p, Parsed: r}, nil
}

// View is the request as approval.Describe shows it: the root helper's
// facts first, argv one escaped element per line, the agent's words last.
func (r Request) View() approval.Request {
	q := r.Parsed
	v := approval.Request{Version: approval.RequestVersion, ID: r.ID, Argv: q.Argv, BinarySHA256: q.BinarySHA256,
		Cwd: q.Cwd, Reason: q.Reason, SessionID: q.TaskID, Rule: r.Facts.Rule, KeepRequested: !q.Scope.Once,
		UID: q.UID, Created: q.Created, Expires: q.Expires}
	v.Notes = append(v.Notes, "agent account: "+q.Account, "policy risk class: "+r.Facts.Risk)
	if r.Facts.Package != "" {
		v.Notes = append(v.Notes, "package: "+r.Facts.Package+" ("+r.Facts.Manifest+")")
	} else {
		v.Notes = append(v.Notes, "package: "+r.Facts.Manifest)
	}
	for _, s := range q.Staged {
		v.Notes = append(v.Notes, fmt.Sprintf("staged input: %s → %s (%d bytes, sha256 %s)", s.Path, s.Copy, s.Size, s.SHA256))
	}
	scope := "once"
	if !q.Scope.Once {
		scope = "the agent asks to keep it for " + q.Scope.Idle.String() + " idle (you decide with --for)"
	}
	if !r.Facts.KeepAllowed {
		scope += "; it cannot be kept (staged inputs)"
	}
	v.Notes = append(v.Notes, "scope: "+scope, "expires: "+q.Expires.Local().Format(time.RFC3339))
	return v
}

// DecisionFor builds the decision on r: approve or deny, once or kept for
// idle (at most 30 minutes; not for requests with staged inputs), valid
// until the request expires.
func DecisionFor(l rootside.Layout, r Request, approve bool, idle time.Duration) (signed.Decision, error) {
	s, err := l.LoadSettings()
	if err != nil {
		return signed.Decision{}, err
	}
	sum := sha256.Sum256(r.Request)
	d := signed.Decision{InstallID: s.InstallID, RequestSHA256: hex.EncodeToString(sum[:]), Approve: approve,
		Scope: signed.Scope{Once: true}, NotAfter: r.Parsed.Expires}
	if approve && idle > 0 {
		if !r.Facts.KeepAllowed {
			return d, errors.New("this request has staged inputs and cannot be kept: approve it without --for")
		}
		d.Scope = signed.Scope{Idle: idle.Round(time.Minute)}
	}
	return d, d.Validate()
}

// Describe renders r for the approver and refuses what cannot be shown
// whole.
func Describe(r Request) (string, error) {
	v := r.View()
	if err := v.CheckShowable(); err != nil {
		return "", fmt.Errorf("request %s: %w: deny it ('clawwarden deny %s')", r.ID, err, r.ID)
	}
	return approval.Describe(v), nil
}

// Signer finds the approver's signing key among those allowed: from the
// key file when keyFile is set (asking for its passphrase through ask), else
// from ssh-agent (SSH_AUTH_SOCK).
func Signer(l rootside.Layout, keyFile string, sock string, ask func(prompt string) (string, error)) (ssh.Signer, signed.Signer, error) {
	data, err := rootside.ReadRootFile(l.AllowedSigners())
	if err != nil {
		return nil, signed.Signer{}, err
	}
	allowed, err := signed.ParseAllowedSigners(bytes.NewReader(data))
	if err != nil {
		return nil, signed.Signer{}, err
	}
	match := func(s ssh.Signer) (signed.Signer, bool) {
		for _, a := range allowed {
			if bytes.Equal(a.Key.Marshal(), s.PublicKey().Marshal()) {
				return a, true
			}
		}
		return signed.Signer{}, false
	}
	if keyFile != "" {
		pem, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, signed.Signer{}, err
		}
		s, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) && ask != nil {
			pass, aerr := ask("Passphrase for " + keyFile + ": ")
			if aerr != nil {
				return nil, signed.Signer{}, aerr
			}
			s, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(pass))
		}
		if err != nil {
			return nil, signed.Signer{}, fmt.Errorf("%s: %w", keyFile, err)
		}
		a, ok := match(s)
		if !ok {
			return nil, signed.Signer{}, fmt.Errorf("the key in %s (%s) is not in %s", keyFile, signed.Fingerprint(s.PublicKey()), l.AllowedSigners())
		}
		return s, a, nil
	}
	if sock == "" {
		return nil, signed.Signer{}, errors.New("no ssh-agent (SSH_AUTH_SOCK is not set): start one and ssh-add your approval key, or pass --key FILE")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, signed.Signer{}, fmt.Errorf("ssh-agent at %s: %w", sock, err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		return nil, signed.Signer{}, fmt.Errorf("ssh-agent: %w", err)
	}
	for _, s := range signers {
		if a, ok := match(s); ok {
			return s, a, nil
		}
	}
	return nil, signed.Signer{}, fmt.Errorf("none of ssh-agent's %d keys is in %s: ssh-add your approval key, or pass --key FILE", len(signers), l.AllowedSigners())
}

// Submit signs d with s and drops it into the inbox for request id.
func Submit(l rootside.Layout, id string, d signed.Decision, s ssh.Signer) error {
	msg := d.Marshal()
	sig, err := signed.Sign(msg, s)
	if err != nil {
		return err
	}
	return l.SubmitDecision(id, msg, sig)
}

// SubmitFiles hands over a decision signed elsewhere (decision draft, then
// ssh-keygen -Y sign): both files are checked to parse before they go.
func SubmitFiles(l rootside.Layout, id string, decision, sig []byte) error {
	if _, err := signed.ParseDecision(decision); err != nil {
		return err
	}
	if !bytes.Contains(sig, []byte("BEGIN SSH SIGNATURE")) {
		return errors.New("the signature file is not an SSH signature (ssh-keygen -Y sign -n " + signed.Namespace + " -f KEY FILE)")
	}
	return l.SubmitDecision(id, decision, sig)
}

// Summary is a one-line view for 'pending'.
func (r Request) Summary() string {
	return r.ID + "  " + quote.Argv(r.Parsed.Argv) + "  (" + r.Parsed.Account + ", expires " + r.Parsed.Expires.Local().Format(time.TimeOnly) + ")"
}
