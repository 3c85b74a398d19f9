// Package e2e holds clawwarden's end-to-end tests: the real binary, run as
// the unprivileged test user from scripts/test-user, against the real sudo,
// on real pseudo-terminals. Run them as root through ./scripts/test; as any
// other user they skip and say why.
package e2e
