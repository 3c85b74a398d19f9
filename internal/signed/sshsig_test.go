package signed

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// approverKeys are the key types ssh-keygen makes that approvers may use.
var approverKeys = []struct{ name, typ, bits string }{
	{"ed25519", "ed25519", ""},
	{"ecdsa-p256", "ecdsa", "256"},
	{"ecdsa-p384", "ecdsa", "384"},
	{"ecdsa-p521", "ecdsa", "521"},
}

// TestVerifySSHKeygenSignatures: `ssh-keygen -Y sign` output verifies.
func TestVerifySSHKeygenSignatures(t *testing.T) {
	dir := t.TempDir()
	msg := sampleDecision().Marshal()
	for _, kt := range approverKeys {
		k := keygen(t, dir, kt.name, kt.typ, kt.bits)
		signers := mustSigners(t, k.pub)
		for _, hash := range []string{"sha512", "sha256"} {
			t.Run(kt.name+"/"+hash, func(t *testing.T) {
				sig := keygenSign(t, k, Namespace, msg, "-O", "hashalg="+hash)
				got, err := Verify(signers, msg, sig)
				if err != nil {
					t.Fatalf("Verify: %v\n%s", err, sig)
				}
				if got.Line != 1 || got.Principals[0] != principal {
					t.Errorf("Verify returned %+v", got)
				}
			})
		}
	}
}

// TestSignVerifiesWithSSHKeygen: Sign output verifies with `ssh-keygen -Y
// verify` (and with Verify).
func TestSignVerifiesWithSSHKeygen(t *testing.T) {
	dir := t.TempDir()
	msg := sampleDecision().Marshal()
	for _, kt := range approverKeys {
		t.Run(kt.name, func(t *testing.T) {
			k := keygen(t, dir, kt.name, kt.typ, kt.bits)
			sig, err := Sign(msg, k.signer(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := keygenVerify(t, writeAllowedSigners(t, t.TempDir(), k.pub), msg, sig); err != nil {
				t.Fatalf("ssh-keygen -Y verify: %v\n%s", err, sig)
			}
			if _, err := Verify(mustSigners(t, k.pub), msg, sig); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSignRefusesRSA(t *testing.T) {
	k := keygen(t, t.TempDir(), "rsa", "rsa", "2048")
	if sig, err := Sign([]byte("x"), k.signer(t)); err == nil {
		t.Fatalf("Sign made an RSA signature:\n%s", sig)
	}
	ed := keygen(t, t.TempDir(), "ed", "ed25519", "")
	if _, err := Sign(make([]byte, MaxMessage+1), ed.signer(t)); err == nil {
		t.Fatal("Sign accepted a message over MaxMessage")
	}
}

// rearmor parses a valid armored signature, lets edit change it, and armors
// it again, to build signatures ssh-keygen would not make.
func rearmor(t *testing.T, armored []byte, edit func(*sshsig.Signature)) []byte {
	t.Helper()
	s, err := sshsig.Unarmor(armored)
	if err != nil {
		t.Fatal(err)
	}
	edit(s)
	return sshsig.Armor(s)
}

func TestVerifyRefuses(t *testing.T) {
	dir := t.TempDir()
	alice := keygen(t, dir, "alice", "ed25519", "")
	mallory := keygen(t, dir, "mallory", "ed25519", "")
	rsaKey := keygen(t, dir, "rsa", "rsa", "2048")
	signers := mustSigners(t, alice.pub)
	// An RSA approver can only be built by hand: ParseAllowedSigners refuses it.
	withRSA := append(mustSigners(t, alice.pub), Signer{Principals: []string{"rsa"}, Key: rsaKey.pub, Line: 2})

	approve := sampleDecision()
	deny := approve
	deny.Approve, deny.Scope = false, Scope{Once: true}
	approveOnce := approve
	approveOnce.Scope = Scope{Once: true}
	other := sampleRequest()
	other.Argv = []string{"rm", "-rf", "/"}
	forOther := approve
	forOther.RequestSHA256 = other.Digest()
	otherHost := approve
	otherHost.InstallID = "cw-otherhost"

	msg := approve.Marshal()
	good := keygenSign(t, alice, Namespace, msg)
	oneByte := bytes.Clone(msg)
	oneByte[bytes.Index(oneByte, []byte("request-sha256 64:"))+20] ^= 1

	// An RSA signature with the SHA-1 "ssh-rsa" algorithm, which ssh-keygen
	// no longer makes.
	sha1Sig := func() []byte {
		h := sha512.Sum512(msg)
		data := append([]byte("SSHSIG"), ssh.Marshal(struct {
			Namespace, Reserved, Hash string
			H                         []byte
		}{Namespace, "", "sha512", h[:]})...)
		s, err := rsaKey.signer(t).(ssh.AlgorithmSigner).SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSA)
		if err != nil {
			t.Fatal(err)
		}
		return sshsig.Armor(&sshsig.Signature{Version: 1, PublicKey: rsaKey.pub, Namespace: Namespace, HashAlgorithm: sshsig.HashSHA512, Signature: s})
	}()

	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	body := strings.Join(lines[1:len(lines)-1], "\n")

	tests := []struct {
		name    string
		signers []Signer
		msg     []byte
		sig     []byte
		want    error
	}{
		{"unregistered key", signers, msg, keygenSign(t, mallory, Namespace, msg), ErrUnknownSigner},
		{"no signers", nil, msg, good, ErrUnknownSigner},
		{"other namespace", signers, msg, keygenSign(t, alice, "other@v1", msg), ErrBadSignature},
		{"git namespace", signers, msg, keygenSign(t, alice, "git", msg), ErrBadSignature},
		{"one byte changed", signers, oneByte, good, ErrBadSignature},
		{"deny bytes, approve signature", signers, deny.Marshal(), good, ErrBadSignature},
		{"other scope", signers, approveOnce.Marshal(), good, ErrBadSignature},
		{"other request", signers, forOther.Marshal(), good, ErrBadSignature},
		{"other host", signers, otherHost.Marshal(), good, ErrBadSignature},
		{"request bytes", signers, sampleRequest().Marshal(), good, ErrBadSignature},
		{"empty message", signers, nil, good, ErrBadSignature},
		{"rsa-sha2-512 from ssh-keygen", withRSA, msg, keygenSign(t, rsaKey, Namespace, msg), ErrBadSignature},
		{"ssh-rsa sha1", withRSA, msg, sha1Sig, ErrBadSignature},
		{"sha1 hash", signers, msg, rearmor(t, good, func(s *sshsig.Signature) { s.HashAlgorithm = "sha1" }), ErrBadSignature},
		{"hash relabelled", signers, msg, rearmor(t, good, func(s *sshsig.Signature) { s.HashAlgorithm = sshsig.HashSHA256 }), ErrBadSignature},
		{"version 2", signers, msg, rearmor(t, good, func(s *sshsig.Signature) { s.Version = 2 }), ErrBadSignature},
		{"namespace relabelled", signers, msg, rearmor(t, good, func(s *sshsig.Signature) { s.Namespace = "other@v1" }), ErrBadSignature},
		{"key swapped", mustSigners(t, alice.pub, mallory.pub), msg, rearmor(t, good, func(s *sshsig.Signature) { s.PublicKey = mallory.pub }), ErrBadSignature},
		{"flags on ed25519", signers, msg, rearmor(t, good, func(s *sshsig.Signature) { s.Signature.Rest = []byte{1, 0, 0, 0, 1} }), ErrBadSignature},
		{"format relabelled", signers, msg, rearmor(t, good, func(s *sshsig.Signature) { s.Signature.Format = ssh.KeyAlgoSKED25519 }), ErrBadSignature},
		{"empty signature", signers, msg, nil, ErrBadSignature},
		{"not armored", signers, msg, []byte(body), ErrBadSignature},
		{"leading text", signers, msg, append([]byte("approved!\n"), good...), ErrBadSignature},
		{"leading space", signers, msg, append([]byte(" "), good...), ErrBadSignature},
		{"trailing text", signers, msg, append(bytes.Clone(good), "-----BEGIN SSH SIGNATURE-----\n"...), ErrBadSignature},
		{"pem header", signers, msg, []byte(lines[0] + "\nComment: x\n\n" + body + "\n" + lines[len(lines)-1] + "\n"), ErrBadSignature},
		{"wrong type", signers, msg, bytes.ReplaceAll(good, []byte("SSH SIGNATURE"), []byte("SSH SIGNATUR")), ErrBadSignature},
		{"no end line", signers, msg, []byte(lines[0] + "\n" + body + "\n"), ErrBadSignature},
		{"bad base64", signers, msg, []byte(lines[0] + "\n!!" + body[2:] + "\n" + lines[len(lines)-1] + "\n"), ErrBadSignature},
		{"truncated blob", signers, msg, []byte(lines[0] + "\n" + body[:len(body)-8] + "\n" + lines[len(lines)-1] + "\n"), ErrBadSignature},
		{"huge signature", signers, msg, append(bytes.Clone(good), bytes.Repeat([]byte("\n"), MaxSignature)...), ErrBadSignature},
		{"huge message", signers, make([]byte, MaxMessage+1), good, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Verify(tc.signers, tc.msg, tc.sig)
			if err == nil {
				t.Fatalf("Verify accepted it as %v", got)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
	// The signature that all of these tamper with is itself good.
	if _, err := Verify(signers, msg, good); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(signers, msg, bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n"))); err != nil {
		t.Errorf("CRLF line ends: %v", err)
	}
}

// skSign returns the armored SSHSIG signature that a FIDO device holding
// priv as an sk-ssh-ed25519@openssh.com key would make over msg, reporting
// flags. No FIDO device is available to the tests, so it is built by hand
// from PROTOCOL.sshsig and PROTOCOL.u2f: the device signs
// sha256(application) || flags || uint32 counter || sha256(signed data), and
// the SSH signature carries flags and counter after the signature blob.
func skSign(t *testing.T, priv ed25519.PrivateKey, msg []byte, flags byte) []byte {
	t.Helper()
	h := sha512.Sum512(msg)
	signedData := append([]byte("SSHSIG"), ssh.Marshal(struct {
		Namespace, Reserved, Hash string
		H                         []byte
	}{Namespace, "", "sha512", h[:]})...)
	app := sha256.Sum256([]byte("ssh:"))
	data := sha256.Sum256(signedData)
	rest := binary.BigEndian.AppendUint32([]byte{flags}, 42) // flags, counter
	toSign := append(append(app[:], rest...), data[:]...)
	return sshsig.Armor(&sshsig.Signature{
		Version:       1,
		PublicKey:     skEd25519Key(t, priv),
		Namespace:     Namespace,
		HashAlgorithm: sshsig.HashSHA512,
		Signature: &ssh.Signature{
			Format: ssh.KeyAlgoSKED25519,
			Blob:   ed25519.Sign(priv, toSign),
			Rest:   rest,
		},
	})
}

func TestVerifySecurityKeyUserPresence(t *testing.T) {
	priv, _ := newEd25519(t)
	signers := mustSigners(t, skEd25519Key(t, priv))
	msg := sampleDecision().Marshal()
	tests := []struct {
		name  string
		flags byte
		want  error // nil: accepted
	}{
		{"touched", 0x01, nil},
		{"touched and verified", 0x05, nil},
		{"no touch", 0x00, ErrNoUserPresence},
		{"verified without touch", 0x04, ErrNoUserPresence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Verify(signers, msg, skSign(t, priv, msg, tc.flags))
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if err == nil && !HardwareBacked(got.Key) {
				t.Error("signer not reported as hardware-backed")
			}
		})
	}
	t.Run("no flags", func(t *testing.T) {
		sig := rearmor(t, skSign(t, priv, msg, 0x01), func(s *sshsig.Signature) { s.Signature.Rest = nil })
		if _, err := Verify(signers, msg, sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify = %v, want %v", err, ErrBadSignature)
		}
	})
	t.Run("flags changed after signing", func(t *testing.T) {
		sig := rearmor(t, skSign(t, priv, msg, 0x00), func(s *sshsig.Signature) { s.Signature.Rest[0] = 0x01 })
		if _, err := Verify(signers, msg, sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify = %v, want %v", err, ErrBadSignature)
		}
	})
	// ssh-keygen accepts the hand-built signature, so the construction above
	// is the real wire format and not one only this package reads.
	t.Run("ssh-keygen agrees", func(t *testing.T) {
		needTool(t, "ssh-keygen")
		path := writeAllowedSigners(t, t.TempDir(), skEd25519Key(t, priv))
		if err := keygenVerify(t, path, msg, skSign(t, priv, msg, 0x01)); err != nil {
			t.Fatal(err)
		}
		// OpenSSH 9.2's `ssh-keygen -Y verify` also accepts a signature
		// without user presence; that is why Verify reads the flags itself.
		t.Logf("ssh-keygen -Y verify of an sk signature without a touch: %v (nil: accepted)",
			keygenVerify(t, path, msg, skSign(t, priv, msg, 0x00)))
	})
}

// TestSignWithAgent signs through a real ssh-agent, as an approver with a
// key in their agent would.
func TestSignWithAgent(t *testing.T) {
	needTool(t, "ssh-agent")
	needTool(t, "ssh-add")
	// A short directory: unix socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "cw-agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	// ssh-agent listens before it forks, so the socket is ready when this
	// returns; it prints the pid of the agent it left running.
	out := run(t, nil, "ssh-agent", "-s", "-a", sock)
	m := regexp.MustCompile(`SSH_AGENT_PID=(\d+);`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no SSH_AGENT_PID in ssh-agent output:\n%s", out)
	}
	env := []string{"SSH_AUTH_SOCK=" + sock, "SSH_AGENT_PID=" + string(m[1])}
	t.Cleanup(func() {
		if out, err := command(nil, env, "ssh-agent", "-k"); err != nil {
			t.Errorf("ssh-agent -k: %v\n%s", err, out)
		}
	})

	ed := keygen(t, dir, "ed", "ed25519", "")
	ec := keygen(t, dir, "ec", "ecdsa", "256")
	rsaKey := keygen(t, dir, "rsa", "rsa", "2048")
	for _, k := range []keyFile{ed, ec, rsaKey} {
		if out, err := command(nil, env, "ssh-add", k.path); err != nil {
			t.Fatalf("ssh-add %s: %v\n%s", k.path, err, out)
		}
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	agentSigners, err := agent.NewClient(conn).Signers()
	if err != nil {
		t.Fatal(err)
	}
	if len(agentSigners) != 3 {
		t.Fatalf("agent holds %d keys, want 3", len(agentSigners))
	}
	allowed := writeAllowedSigners(t, dir, ed.pub, ec.pub)
	signers := mustSigners(t, ed.pub, ec.pub)
	msg := sampleDecision().Marshal()
	for _, s := range agentSigners {
		typ := s.PublicKey().Type()
		t.Run(typ, func(t *testing.T) {
			sig, err := Sign(msg, s)
			if typ == ssh.KeyAlgoRSA {
				if err == nil {
					t.Fatal("Sign made an RSA signature through the agent")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := keygenVerify(t, allowed, msg, sig); err != nil {
				t.Fatalf("ssh-keygen -Y verify: %v", err)
			}
			if _, err := Verify(signers, msg, sig); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	for _, kt := range approverKeys {
		k := keygen(t, dir, kt.name, kt.typ, kt.bits)
		out := strings.Fields(string(run(t, nil, "ssh-keygen", "-l", "-f", k.path+".pub")))
		if len(out) < 2 || Fingerprint(k.pub) != out[1] {
			t.Errorf("%s: Fingerprint = %s, ssh-keygen -l says %q", kt.name, Fingerprint(k.pub), out)
		}
	}
}

// BenchmarkVerify measures what the root helper pays per decision.
func BenchmarkVerify(b *testing.B) {
	k := keygen(b, b.TempDir(), "ed", "ed25519", "")
	msg := sampleDecision().Marshal()
	sig, err := Sign(msg, k.signer(b))
	if err != nil {
		b.Fatal(err)
	}
	signers := mustSigners(b, k.pub)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(signers, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}
