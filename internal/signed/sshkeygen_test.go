package signed

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// These helpers drive the real OpenSSH tools, the reference this package
// must agree with.

const principal = "alice@example.com"

func needTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		testenv.Skip(t, "%s not installed (Debian package openssh-client): %v", name, err)
	}
	return path
}

// keyFile is a key pair made by ssh-keygen.
type keyFile struct {
	path string // private key; the public key is path + ".pub"
	pub  ssh.PublicKey
}

func (k keyFile) signer(t testing.TB) ssh.Signer {
	t.Helper()
	b, err := os.ReadFile(k.path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keygen makes a key with `ssh-keygen -t typ [-b bits]` in dir.
func keygen(t testing.TB, dir, name, typ string, bits string) keyFile {
	t.Helper()
	needTool(t, "ssh-keygen")
	path := filepath.Join(dir, name)
	args := []string{"-q", "-t", typ, "-N", "", "-C", name, "-f", path}
	if bits != "" {
		args = append(args, "-b", bits)
	}
	run(t, nil, "ssh-keygen", args...)
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return keyFile{path, pub}
}

func run(t testing.TB, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, err := command(stdin, nil, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func command(stdin []byte, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	return cmd.CombinedOutput()
}

// allowedSignersLine is the line an administrator would write for key.
func allowedSignersLine(principals string, key ssh.PublicKey) string {
	return principals + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + " comment here\n"
}

// writeAllowedSigners writes an allowed_signers file naming keys as
// principal and returns its path.
func writeAllowedSigners(t testing.TB, dir string, keys ...ssh.PublicKey) string {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(allowedSignersLine(principal, k))
	}
	path := filepath.Join(dir, "allowed_signers")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustSigners(t testing.TB, keys ...ssh.PublicKey) []Signer {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(allowedSignersLine(principal, k))
	}
	s, err := ParseAllowedSigners(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keygenSign signs msg with `ssh-keygen -Y sign` and returns the armored
// signature.
func keygenSign(t testing.TB, key keyFile, namespace string, msg []byte, extra ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "decision")
	if err := os.WriteFile(file, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-Y", "sign", "-n", namespace, "-f", key.path}, extra...)
	run(t, nil, "ssh-keygen", append(args, file)...)
	sig, err := os.ReadFile(file + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// keygenVerify checks sig over msg with `ssh-keygen -Y verify`.
func keygenVerify(t testing.TB, allowedSigners string, msg, sig []byte) error {
	t.Helper()
	sigFile := filepath.Join(t.TempDir(), "decision.sig")
	if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := command(msg, nil, "ssh-keygen", "-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", Namespace, "-s", sigFile)
	if err != nil {
		return &keygenError{err, string(out)}
	}
	return nil
}

type keygenError struct {
	err error
	out string
}

func (e *keygenError) Error() string { return e.err.Error() + ": " + e.out }
