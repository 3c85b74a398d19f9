package signed

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Namespace is the SSHSIG namespace of approval decisions. A signature made
// for anything else (git commits, files) never counts as an approval.
const Namespace = "clawwarden-approval@v1"

// MaxSignature is the largest armored signature Verify reads.
const MaxSignature = 8 << 10

// Refusals of Verify. Every error it returns wraps exactly one of them.
var (
	// ErrUnknownSigner means the signing key is not in allowed_signers.
	ErrUnknownSigner = errors.New("signed by a key that is not an approver")
	// ErrNoUserPresence means a FIDO (sk-) signature was made without the
	// touch that proves a person was there.
	ErrNoUserPresence = errors.New("security key signature without user presence")
	// ErrBadSignature is every other refusal: malformed armor, another
	// namespace, a refused algorithm, or a signature that does not verify.
	ErrBadSignature = errors.New("bad signature")
)

// skUserPresent is the user-presence flag of sk- signatures (PROTOCOL.u2f);
// user verification would be 0x04.
const skUserPresent = 0x01

const (
	armorType  = "SSH SIGNATURE"
	armorBegin = "-----BEGIN " + armorType + "-----"
)

// Verify checks an armored SSHSIG signature (`ssh-keygen -Y sign` output)
// over message and returns the approver who made it. It refuses a message
// over MaxMessage or a signature over MaxSignature bytes, a namespace other
// than Namespace, a hash other than sha256 or sha512, key types outside
// KeyTypes (so no RSA, whose "ssh-rsa" signatures use SHA-1), a key that no
// signer has, and, for sk- keys, a signature without the user-presence flag.
//
// User verification (flag 0x04, a PIN or biometric on the key) is not
// required: allowed_signers has no option to ask for it (OpenSSH's
// verify-required exists only in authorized_keys). If clawwarden ever
// implements such an option, check the flag here for the signers that carry
// it.
//
// Verify says who signed and that the bytes are theirs; it does not read
// them. Parse the message with ParseDecision and Check it after Verify, and
// verify again with a freshly loaded allowed_signers on every reuse of a kept
// approval, so removing a key revokes what it approved.
func Verify(signers []Signer, message, armoredSig []byte) (Signer, error) {
	if len(message) > MaxMessage {
		return Signer{}, fmt.Errorf("%w: message is %d bytes, more than the %d allowed", ErrBadSignature, len(message), MaxMessage)
	}
	sig, err := unarmor(armoredSig)
	if err != nil {
		return Signer{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if sig.Namespace != Namespace {
		return Signer{}, fmt.Errorf("%w: namespace %q, want %q; hint: sign with ssh-keygen -Y sign -n %s -f KEY FILE",
			ErrBadSignature, sig.Namespace, Namespace, Namespace)
	}
	switch sig.HashAlgorithm {
	case sshsig.HashSHA256, sshsig.HashSHA512:
	default:
		return Signer{}, fmt.Errorf("%w: hash algorithm %q, want sha256 or sha512", ErrBadSignature, sig.HashAlgorithm)
	}
	pub := sig.PublicKey
	if err := checkKeyType(pub.Type()); err != nil {
		return Signer{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	// The signature algorithm must be the key's own: for the accepted key
	// types each has exactly one, and this refuses "ssh-rsa" (SHA-1) and
	// webauthn-sk-* outright.
	if f := sig.Signature.Format; f != pub.Type() {
		return Signer{}, fmt.Errorf("%w: signature algorithm %q for key type %s", ErrBadSignature, f, pub.Type())
	}
	if err := checkAuthenticatorFlags(pub, sig.Signature); err != nil {
		return Signer{}, err
	}
	signer, ok := findSigner(signers, pub)
	if !ok {
		return Signer{}, fmt.Errorf("%w: %s %s; hint: an administrator adds approvers to allowed_signers",
			ErrUnknownSigner, pub.Type(), Fingerprint(pub))
	}
	if err := checkKeyType(signer.Key.Type()); err != nil { // a Signer built by hand
		return Signer{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if err := sshsig.Verify(bytes.NewReader(message), sig, signer.Key, sig.HashAlgorithm, Namespace); err != nil {
		return Signer{}, fmt.Errorf("%w: %s did not sign these bytes: %w", ErrBadSignature, signer, err)
	}
	return signer, nil
}

// unarmor reads exactly one armored signature: the armor first, no PEM
// headers, nothing but white space after it.
func unarmor(b []byte) (*sshsig.Signature, error) {
	if len(b) > MaxSignature {
		return nil, fmt.Errorf("signature is %d bytes, more than the %d allowed", len(b), MaxSignature)
	}
	if !bytes.HasPrefix(b, []byte(armorBegin+"\n")) && !bytes.HasPrefix(b, []byte(armorBegin+"\r\n")) {
		return nil, fmt.Errorf("signature does not start with %q", armorBegin)
	}
	block, rest := pem.Decode(b)
	switch {
	case block == nil:
		return nil, errors.New("signature armor is malformed")
	case block.Type != armorType:
		return nil, fmt.Errorf("signature armor type %q, want %q", block.Type, armorType)
	case len(block.Headers) != 0:
		return nil, errors.New("signature armor has headers")
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, errors.New("data after the signature armor")
	}
	sig, err := sshsig.ParseSignature(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	return sig, nil
}

// checkAuthenticatorFlags requires user presence in sk- signatures, which
// carry flags and a counter after the signature blob, and refuses trailing
// data in all others. golang.org/x/crypto/ssh checks presence too since
// v0.59, but this is the check clawwarden's security rests on, so it is here
// where a library upgrade cannot change it.
func checkAuthenticatorFlags(pub ssh.PublicKey, sig *ssh.Signature) error {
	if !HardwareBacked(pub) {
		if len(sig.Rest) != 0 {
			return fmt.Errorf("%w: %d unexpected bytes after the %s signature", ErrBadSignature, len(sig.Rest), pub.Type())
		}
		return nil
	}
	if len(sig.Rest) != 5 { // flags byte, uint32 counter
		return fmt.Errorf("%w: %s signature without authenticator flags and counter", ErrBadSignature, pub.Type())
	}
	if sig.Rest[0]&skUserPresent == 0 {
		return fmt.Errorf("%w: %s signed with flags %#02x; hint: sign without no-touch-required so the key asks for a touch",
			ErrNoUserPresence, Fingerprint(pub), sig.Rest[0])
	}
	return nil
}

func findSigner(signers []Signer, pub ssh.PublicKey) (Signer, bool) {
	want := pub.Marshal()
	for _, s := range signers {
		if s.Key != nil && bytes.Equal(s.Key.Marshal(), want) {
			return s, true
		}
	}
	return Signer{}, false
}

// Sign signs message as an approval with signer, a key file
// (ssh.ParsePrivateKey) or an agent key (agent.NewClient(conn).Signers()),
// and returns the armored SSHSIG that `ssh-keygen -Y sign -n
// clawwarden-approval@v1` would make, with SHA-512 as the message hash. It
// refuses key types outside KeyTypes.
func Sign(message []byte, signer ssh.Signer) ([]byte, error) {
	if len(message) > MaxMessage {
		return nil, fmt.Errorf("refusing to sign %d bytes, more than the %d allowed", len(message), MaxMessage)
	}
	if err := checkKeyType(signer.PublicKey().Type()); err != nil {
		return nil, fmt.Errorf("refusing to sign: %w", err)
	}
	sig, err := sshsig.Sign(bytes.NewReader(message), signer, sshsig.HashSHA512, Namespace)
	if err != nil {
		return nil, fmt.Errorf("signing with %s: %w", Fingerprint(signer.PublicKey()), err)
	}
	return sshsig.Armor(sig), nil
}
