package signed

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

// KeyTypes are the key types accepted in allowed_signers, by Verify and by
// Sign. RSA (whose "ssh-rsa" signatures use SHA-1) and DSA are not among
// them, nor are certificates.
var KeyTypes = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoSKED25519,
	ssh.KeyAlgoECDSA256,
	ssh.KeyAlgoECDSA384,
	ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoSKECDSA256,
}

// keyAlgoDSA is OpenSSH's name for DSA keys, kept here to name them in
// refusals (x/crypto/ssh deprecates its constant).
const keyAlgoDSA = "ssh-dss"

// maxLine bounds one allowed_signers line; an ed25519 key takes about 100
// bytes, an ECDSA P-521 key about 220.
const maxLine = 8 << 10

// Signer is one approver key from an allowed_signers file.
type Signer struct {
	// Principals name the approver, for records and messages. They are not
	// patterns: clawwarden matches signatures by key alone.
	Principals []string
	Key        ssh.PublicKey
	Line       int // 1-based line in the allowed_signers file
}

// String names the signer as records show it: principals and fingerprint.
func (s Signer) String() string {
	return strings.Join(s.Principals, ",") + " " + Fingerprint(s.Key)
}

// Fingerprint returns the SHA256 fingerprint of key as `ssh-keygen -l`
// prints it ("SHA256:" and unpadded base64).
func Fingerprint(key ssh.PublicKey) string { return ssh.FingerprintSHA256(key) }

// HardwareBacked reports whether key is a FIDO security key ("sk-" type),
// whose signatures carry the authenticator's user-presence flag.
func HardwareBacked(key ssh.PublicKey) bool {
	return strings.HasPrefix(key.Type(), "sk-")
}

// checkKeyType refuses key types outside KeyTypes, with the reason.
func checkKeyType(t string) error {
	if slices.Contains(KeyTypes, t) {
		return nil
	}
	switch {
	case t == ssh.KeyAlgoRSA || t == keyAlgoDSA:
		return fmt.Errorf("key type %s is not accepted (RSA and DSA keys are refused); hint: use an ed25519 or sk-ssh-ed25519@openssh.com key", t)
	case strings.Contains(t, "-cert-"):
		return fmt.Errorf("key type %s is not accepted (certificates are refused); hint: list the plain key", t)
	}
	return fmt.Errorf("key type %q is not accepted; want one of %s", t, strings.Join(KeyTypes, ", "))
}

// looksLikeKeyType tells a key type from an options field, for messages.
func looksLikeKeyType(s string) bool {
	if strings.ContainsAny(s, "=,\"") {
		return false
	}
	for _, p := range []string{"ssh-", "ecdsa-", "sk-", "rsa-", "webauthn-"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// ParseAllowedSigners reads an OpenSSH allowed_signers file (ssh-keygen(1),
// "ALLOWED SIGNERS"): per line, comma-separated principals (quoted if they
// contain spaces), optional options, key type, base64 key, optional comment;
// blank lines and lines starting with '#' are skipped.
//
// It is strict where OpenSSH is permissive or richer: every option
// (cert-authority, namespaces=, valid-after=, valid-before= and unknown ones)
// is refused, because clawwarden implements none and a line must not mean
// less than it says; principals must be plain names, not patterns (*, ?, !);
// key types outside KeyTypes are refused; control characters are refused.
// Errors name the 1-based line. OpenSSH's `verify-required` is an
// authorized_keys option with no allowed_signers counterpart, so nothing here
// asks for user verification; Verify requires user presence for every sk-
// key.
func ParseAllowedSigners(r io.Reader) ([]Signer, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var signers []Signer
	n := 0
	for sc.Scan() {
		n++
		s, ok, err := parseSignerLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("allowed_signers line %d: %w", n, err)
		}
		if ok {
			s.Line = n
			signers = append(signers, s)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("allowed_signers line %d: longer than %d bytes", n+1, maxLine)
		}
		return nil, fmt.Errorf("allowed_signers: %w", err)
	}
	return signers, nil
}

func parseSignerLine(line string) (Signer, bool, error) {
	line = strings.TrimSuffix(line, "\r")
	for i := 0; i < len(line); i++ {
		if c := line[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return Signer{}, false, fmt.Errorf("control character %q", c)
		}
	}
	line = strings.TrimLeft(line, " \t")
	if line == "" || line[0] == '#' {
		return Signer{}, false, nil
	}
	tok, rest, err := nextToken(line)
	if err != nil {
		return Signer{}, false, fmt.Errorf("principals: %w", err)
	}
	if slices.Contains(KeyTypes, tok) || tok == ssh.KeyAlgoRSA || tok == keyAlgoDSA {
		return Signer{}, false, fmt.Errorf("missing principals before the key type %s", tok)
	}
	principals, err := parsePrincipals(tok)
	if err != nil {
		return Signer{}, false, err
	}
	keyType, rest, err := nextToken(rest)
	if err != nil {
		return Signer{}, false, err
	}
	if keyType == "" {
		return Signer{}, false, fmt.Errorf("missing key after principals")
	}
	if !slices.Contains(KeyTypes, keyType) {
		if looksLikeKeyType(keyType) {
			return Signer{}, false, checkKeyType(keyType)
		}
		return Signer{}, false, optionsError(keyType)
	}
	b64, _, err := nextToken(rest) // what follows is the key's comment
	if err != nil {
		return Signer{}, false, err
	}
	if b64 == "" {
		return Signer{}, false, fmt.Errorf("missing base64 key after %s", keyType)
	}
	blob, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return Signer{}, false, fmt.Errorf("%s key: bad base64: %w", keyType, err)
	}
	key, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return Signer{}, false, fmt.Errorf("%s key: %w", keyType, err)
	}
	if key.Type() != keyType {
		return Signer{}, false, fmt.Errorf("key is %s, but the line says %s", key.Type(), keyType)
	}
	return Signer{Principals: principals, Key: key}, true, nil
}

// nextToken splits off one whitespace-delimited field. A field may contain
// double-quoted parts, which may contain spaces; the quotes are removed only
// when they enclose the whole field (as for quoted principals).
func nextToken(s string) (tok, rest string, err error) {
	s = strings.TrimLeft(s, " \t")
	inQuote := false
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			inQuote = !inQuote
		} else if !inQuote && (c == ' ' || c == '\t') {
			break
		}
	}
	if inQuote {
		return "", "", fmt.Errorf("unterminated quote in %q", s)
	}
	return s[:i], s[i:], nil
}

func parsePrincipals(tok string) ([]string, error) {
	if len(tok) >= 2 && tok[0] == '"' && tok[len(tok)-1] == '"' {
		tok = tok[1 : len(tok)-1]
	}
	if strings.ContainsRune(tok, '"') {
		return nil, fmt.Errorf("principals %q: stray quote", tok)
	}
	var out []string
	for p := range strings.SplitSeq(tok, ",") {
		switch {
		case p == "":
			return nil, fmt.Errorf("principals %q: empty principal", tok)
		case strings.TrimSpace(p) != p:
			return nil, fmt.Errorf("principal %q: leading or trailing white space", p)
		case !utf8.ValidString(p):
			return nil, fmt.Errorf("principal %q: not UTF-8", p)
		case strings.ContainsAny(p, "*?!"):
			return nil, fmt.Errorf("principal %q is a pattern; hint: name each approver plainly (clawwarden matches by key, not by principal)", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// optionsError names every option in an allowed_signers options field.
func optionsError(field string) error {
	var names []string
	inQuote := false
	start := 0
	add := func(opt string) {
		name, _, _ := strings.Cut(opt, "=")
		names = append(names, fmt.Sprintf("%q", name))
	}
	for i := 0; i < len(field); i++ {
		switch field[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				add(field[start:i])
				start = i + 1
			}
		}
	}
	add(field[start:])
	n := len(names)
	return fmt.Errorf("%s %s %s not supported: clawwarden implements no allowed_signers options; hint: remove %s from the line",
		plural(n, "option", "options"), strings.Join(names, ", "), plural(n, "is", "are"), plural(n, "it", "them"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
