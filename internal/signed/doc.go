// Package signed provides the texts a person signs to approve a privileged
// command in enforced mode, and the signatures over them: canonical request
// and decision bytes, a strict OpenSSH allowed_signers parser, and SSHSIG
// signing and verification (the format of `ssh-keygen -Y sign`).
//
// # Requests and decisions
//
// A [Request] is what the root helper files: a random id, the host install
// id, the agent account, argv, the binary and its SHA-256, staged inputs, the
// agent's words (cwd, reason, task id), the scope the agent asked for and an
// expiry. A [Decision] is what an approver signs: the host install id, the
// SHA-256 of the request's canonical bytes, the verdict, the scope granted
// and a not-after time. The two are different texts with different magic
// lines and different field names, so neither parser accepts the other's
// bytes, and the verdict is a whole word ("approve" or "deny") so no change
// short of rewriting the field turns one into the other. The scope that
// counts is the one in the decision, the approver's, never the agent's.
//
// # Encoding
//
// Both texts are a magic line followed by fields in a fixed order:
//
//	message = magic LF *field
//	field   = name SP length ":" value LF
//	length  = decimal byte count of value, no sign, no leading zeros
//
// A value is any bytes, newlines included; the length says where it ends.
// Names are fixed per position, and repeated parts (argv, staged inputs) are
// preceded by a count field, so the field sequence is determined by the
// bytes already read. Numbers are canonical decimal, times RFC 3339 in UTC
// with nanoseconds as Go's time.RFC3339Nano prints them, digests lowercase
// hex. A parser accepts input only if marshalling what it read gives the
// input back byte for byte; together with Parse(Marshal(x)) == x this makes
// Marshal injective on valid values: two different valid requests (times
// compared with time.Time.Equal) never marshal to the same bytes. The
// layouts are in testdata/*.golden; changing one invalidates every
// signature made over the old one, so bump the version in the magic line
// instead.
//
// # Signatures
//
// A decision is signed as SSHSIG (PROTOCOL.sshsig in OpenSSH) in namespace
// [Namespace] with SHA-512 or SHA-256 as the message hash. Accepted key types
// are ed25519, ECDSA on the NIST curves, and their FIDO ("sk-") forms; RSA
// and DSA keys are refused everywhere, in allowed_signers, in [Verify] and in
// [Sign], so a SHA-1 "ssh-rsa" signature can never count. For sk- keys
// [Verify] reads the authenticator flags itself and requires user presence
// (the touch). A signature made by this package verifies with
// `ssh-keygen -Y verify` and the other way round; the tests check both.
//
// Approvers should use a dedicated approval key: an sk- key, which needs a
// touch per signature, or a key loaded with `ssh-add -c`, which asks for
// confirmation per use. Sign on a machine the approver controls rather than
// forwarding an agent to the host the agent runs on: a forwarded agent can be
// asked to sign anything by whoever controls that host.
//
// Approvers' keys come from an OpenSSH allowed_signers file, parsed by
// [ParseAllowedSigners]. It implements no allowed_signers option and refuses
// every one, so a line never means less than it appears to (a
// namespaces= or valid-before= restriction that was silently ignored would).
package signed
