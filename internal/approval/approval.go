// Package approval gets a person's explicit approval of one exact privileged
// command.
//
// # Where approval comes from
//
// Only from a person: on the controlling terminal (/dev/tty), never from
// standard input, so "y" piped into the guard approves nothing; or, where the
// guard has no terminal, out of band: the guard files a pending request that
// the person grants or refuses from their own terminal with
// `clawwarden approve ID` / `clawwarden deny ID` before it times out.
//
// # Factors
//
//   - OPENCLAW_APPROVAL_TOKEN (the original's token): when set, the person must
//     type it. It is compared in constant time. The token lives in the agent's
//     environment, so it proves little against the agent; the assessment says
//     so.
//   - The approval passphrase (`clawwarden approval set-passphrase`): stored
//     only as a salt, Argon2id parameters and an Ed25519 public key derived
//     from the passphrase. Terminal approval asks for it; out-of-band approval
//     signs the exact request with the derived key and the guard verifies the
//     signature, so a decision file written by anyone who does not know the
//     passphrase is rejected.
//   - Untrusted content (OPENCLAW_UNTRUSTED_SOURCE=1 with the prompt policy's
//     require_confirmation_for_untrusted): the person must also type CONFIRM.
//
// # Limits
//
// A process running as the same user can still rewrite user-owned files (the
// passphrase record included). Real protection against that comes from sudo
// itself asking for a password, without NOPASSWD rules; see README.md.
package approval

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// Sentinel errors; the command line maps each to an exit status.
var (
	// ErrDenied: the person refused, did not answer in time, or no one could be asked.
	ErrDenied = errors.New("approval denied")
	// ErrBadToken: the approval token or passphrase did not match.
	ErrBadToken = errors.New("approval token or passphrase does not match")
	// ErrUntrustedRefused: the extra confirmation for untrusted content was not given.
	ErrUntrustedRefused = errors.New("untrusted source: extra confirmation not given")
	// ErrNoTerminal: there is no controlling terminal to ask on.
	ErrNoTerminal = errors.New("no controlling terminal")
)

// ConfirmWord is what a person types to confirm a command from an untrusted
// source.
const ConfirmWord = "CONFIRM"

// Equal compares two secrets in constant time (independent of where they
// differ and, by hashing first, of their lengths).
func Equal(given, want string) bool {
	g := sha256.Sum256([]byte(given))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
