package signed

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// skEd25519Key returns the sk-ssh-ed25519@openssh.com public key that a FIDO
// device holding priv would have (PROTOCOL.u2f: key, then application).
// No FIDO device is available to the tests, so sk- keys are built by hand.
func skEd25519Key(t testing.TB, priv ed25519.PrivateKey) ssh.PublicKey {
	t.Helper()
	wire := ssh.Marshal(struct {
		Type        string
		Key         []byte
		Application string
	}{ssh.KeyAlgoSKED25519, priv.Public().(ed25519.PublicKey), "ssh:"})
	pub, err := ssh.ParsePublicKey(wire)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func newEd25519(t testing.TB) (ed25519.PrivateKey, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func authorized(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func TestParseAllowedSigners(t *testing.T) {
	dir := t.TempDir()
	ed := keygen(t, dir, "ed", "ed25519", "")
	ec := keygen(t, dir, "ec", "ecdsa", "384")
	skPriv, _ := newEd25519(t)
	sk := skEd25519Key(t, skPriv)
	file := "# approvers of host build-1\n" +
		"\n" +
		"   \t\n" +
		"  # indented comment\n" +
		"alice@example.com " + authorized(ed.pub) + " alice's laptop\n" +
		"\"bob smith,bob@example.com\"\t" + authorized(ec.pub) + "\r\n" +
		"carol@example.com,c2 " + authorized(sk) + "\n" +
		"dave " + authorized(ed.pub) // no final newline, no comment
	got, err := ParseAllowedSigners(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		principals []string
		key        ssh.PublicKey
		line       int
		hardware   bool
	}{
		{[]string{"alice@example.com"}, ed.pub, 5, false},
		{[]string{"bob smith", "bob@example.com"}, ec.pub, 6, false},
		{[]string{"carol@example.com", "c2"}, sk, 7, true},
		{[]string{"dave"}, ed.pub, 8, false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d signers, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if !reflect.DeepEqual(g.Principals, w.principals) || g.Line != w.line ||
			string(g.Key.Marshal()) != string(w.key.Marshal()) || HardwareBacked(g.Key) != w.hardware {
			t.Errorf("signer %d = %v line %d, want %v %s line %d", i, g.Principals, g.Line, w.principals, Fingerprint(w.key), w.line)
		}
	}
	if s := got[0].String(); s != "alice@example.com "+Fingerprint(ed.pub) {
		t.Errorf("String() = %q", s)
	}
	if got, err := ParseAllowedSigners(strings.NewReader("# nobody yet\n")); err != nil || len(got) != 0 {
		t.Errorf("comment-only file: %v, %v", got, err)
	}
}

func TestParseAllowedSignersRefuses(t *testing.T) {
	dir := t.TempDir()
	ed := keygen(t, dir, "ed", "ed25519", "")
	rsa := keygen(t, dir, "rsa", "rsa", "2048")
	key := authorized(ed.pub)
	blob := strings.Fields(key)[1]
	ec := keygen(t, dir, "ec", "ecdsa", "256")
	tests := []struct {
		name string
		line string
		want []string // substrings of the error
	}{
		{"cert-authority", "a@b cert-authority " + key, []string{"line 2", `option "cert-authority" is not supported`}},
		{"namespaces", `a@b namespaces="git,file" ` + key, []string{"line 2", `"namespaces"`}},
		{"namespaces ours", `a@b namespaces="clawwarden-approval@v1" ` + key, []string{`"namespaces"`}},
		{"valid-after", `a@b valid-after="20260101" ` + key, []string{`"valid-after"`}},
		{"valid-before", `a@b valid-before="20260101Z" ` + key, []string{`"valid-before"`}},
		{"quoted space", `a@b namespaces="a b" ` + key, []string{`"namespaces"`}},
		{"several", `a@b cert-authority,valid-before="20300101",namespaces="x,y" ` + key,
			[]string{`options "cert-authority", "valid-before", "namespaces" are not supported`}},
		{"unknown option", "a@b no-touch-required " + key, []string{`"no-touch-required"`}},
		{"verify-required", "a@b verify-required " + key, []string{`"verify-required"`}},
		{"ssh-rsa", "a@b " + authorized(rsa.pub), []string{"line 2", "ssh-rsa is not accepted"}},
		{"ssh-dss", "a@b ssh-dss AAAAB3NzaC1kc3MAAACBAP", []string{"ssh-dss is not accepted"}},
		{"certificate", "a@b ssh-ed25519-cert-v01@openssh.com AAAA", []string{"certificates are refused"}},
		{"rsa-sha2-512", "a@b rsa-sha2-512 AAAA", []string{"not accepted"}},
		{"type mismatch", "a@b ecdsa-sha2-nistp256 " + blob, []string{"key is ssh-ed25519"}},
		{"ecdsa curve mismatch", "a@b ecdsa-sha2-nistp384 " + strings.Fields(authorized(ec.pub))[1], []string{"line 2"}},
		{"missing key", "a@b ssh-ed25519", []string{"missing base64 key"}},
		{"missing everything", "a@b", []string{"missing key"}},
		{"missing principals", key, []string{"missing principals"}},
		{"bad base64", "a@b ssh-ed25519 AAAA!!!!", []string{"bad base64"}},
		{"truncated key", "a@b ssh-ed25519 " + blob[:len(blob)-8], []string{"line 2"}},
		{"pattern", "*@example.com " + key, []string{"is a pattern"}},
		{"negation", "!mallory,a@b " + key, []string{"is a pattern"}},
		{"empty principal", "a@b,,c " + key, []string{"empty principal"}},
		{"blank principal", `" " ` + key, []string{"white space"}},
		{"padded principal", `"a@b, c" ` + key, []string{"white space"}},
		{"latin-1 principal", "jos\xe9 " + key, []string{"not UTF-8"}},
		{"unterminated quote", `"a@b ` + key, []string{"unterminated quote"}},
		{"stray quote", `a"b"c ` + key, []string{"stray quote"}},
		{"escape sequence", "a@b " + key + " \x1b[2J", []string{"control character"}},
		{"nul", "a@b\x00 " + key, []string{"control character"}},
		{"too long", "a@b " + key + " " + strings.Repeat("x", maxLine), []string{"line 2", "longer than"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := "ok@example.com " + key + "\n" + tc.line + "\n"
			got, err := ParseAllowedSigners(strings.NewReader(file))
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestAllowedSignersAgreesWithSSHKeygen checks that a file this parser
// accepts is one ssh-keygen reads the same way.
func TestAllowedSignersAgreesWithSSHKeygen(t *testing.T) {
	dir := t.TempDir()
	k := keygen(t, dir, "ed", "ed25519", "")
	msg := sampleDecision().Marshal()
	sig := keygenSign(t, k, Namespace, msg)
	path := writeAllowedSigners(t, dir, k.pub)
	if err := keygenVerify(t, path, msg, sig); err != nil {
		t.Fatal(err)
	}
	// An option ssh-keygen honours is one this parser refuses.
	opt := filepath.Join(dir, "allowed_signers_opt")
	line := `alice@example.com namespaces="` + Namespace + `" ` + authorized(k.pub) + "\n"
	if err := os.WriteFile(opt, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := keygenVerify(t, opt, msg, sig); err != nil {
		t.Fatalf("ssh-keygen refused a namespaces option: %v", err)
	}
	if _, err := ParseAllowedSigners(strings.NewReader(line)); err == nil {
		t.Fatal("namespaces option accepted")
	}
}
