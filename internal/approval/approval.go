// Package approval gets a person's explicit approval of one exact privileged
// command, and carries it to where the command runs.
//
// # Where approval comes from
//
// Only from a person: on the controlling terminal (/dev/tty), never from
// standard input, so "y" piped into the guard approves nothing; anything
// typed ahead of a prompt is discarded, and an unanswered prompt is a
// refusal once the approval timeout passes. Where the guard has no terminal
// a person can use — none at all, or one the agent controls (see package
// agent) — it files a pending request that the person decides from their
// own terminal with `clawwarden approve ID` or `clawwarden deny ID`.
//
// # What the person sees is what runs
//
// A request holds the resolved argv, the binary's SHA-256, the working
// directory and sudo options; [Describe] shows the facts first, argv one
// escaped element per line, and the agent's own words (reason, session id)
// last, fenced as such. A [Decision] names the request by [Request.Digest]
// over its canonical bytes, so a request file edited after the person saw it
// no longer matches what the waiting guard holds, and is refused.
//
// # Same-user mode: the password travels with the approval
//
// In same-user mode the person's sudo password is what the agent cannot
// produce. An approved pending request is therefore run by `clawwarden
// approve` itself, on the person's terminal, as `sudo -k -- CMD`: the person
// types the password there, the output is shown to them and relayed through
// the queue ([Queue.OutputFiles], [Result]) to the waiting guard, which
// returns the command's exit status to the agent. "Not run" (sudo refused,
// the approver gave up) and "ran and failed" stay different results.
//
// # Factors
//
//   - OPENCLAW_APPROVAL_TOKEN (the original's token): when set, the person must
//     type it. It is compared in constant time. The token lives in the agent's
//     environment, so it proves little against the agent; the assessment says
//     so.
//   - The approval passphrase (`clawwarden approval set-passphrase`): stored
//     only as a salt, Argon2id parameters and an Ed25519 public key derived
//     from the passphrase. Approval asks for it; a decision is signed with
//     the derived key and the guard verifies the signature.
//   - Untrusted content (OPENCLAW_UNTRUSTED_SOURCE=1 with the prompt policy's
//     require_confirmation_for_untrusted): the person must also type CONFIRM.
//
// # Limits
//
// A process running as the same user can rewrite every file of that user
// (the queue, the passphrase record, session state) and type into terminals
// it owns: in same-user mode these are checks against mistakes and naive
// attempts, and the sudo password, typed by the person for every command,
// is the gate. Enforced mode moves all of it out of the agent's reach.
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
