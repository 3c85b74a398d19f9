package signed

import (
	"bytes"
	"crypto/ed25519"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// The parsers read bytes an agent or any local account can hand over. Run
// each target with, for example, go test -fuzz FuzzParseRequest -fuzztime 20s.

func FuzzParseRequest(f *testing.F) {
	r := sampleRequest()
	f.Add(r.Marshal())
	r.Staged, r.Argv, r.Scope = nil, []string{"a", "", "b\nc"}, Scope{Idle: 5 * time.Minute}
	f.Add(r.Marshal())
	f.Add(sampleDecision().Marshal())
	f.Add([]byte(requestMagic + "id 0:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("parsed an invalid request: %v", err)
		}
		if !bytes.Equal(r.Marshal(), b) {
			t.Fatalf("accepted non-canonical bytes %q", b)
		}
		again, err := ParseRequest(r.Marshal())
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, again, r)
		}
		if _, err := ParseDecision(b); err == nil {
			t.Fatalf("bytes parse as both a request and a decision: %q", b)
		}
	})
}

func FuzzParseDecision(f *testing.F) {
	d := sampleDecision()
	f.Add(d.Marshal())
	d.Approve, d.Scope = false, Scope{Once: true}
	f.Add(d.Marshal())
	f.Add(sampleRequest().Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDecision(b)
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("parsed an invalid decision: %v", err)
		}
		if !bytes.Equal(d.Marshal(), b) {
			t.Fatalf("accepted non-canonical bytes %q", b)
		}
		verdict := []byte("\nverdict 4:deny\n")
		if d.Approve {
			verdict = []byte("\nverdict 7:approve\n")
		}
		if !bytes.Contains(b, verdict) {
			t.Fatalf("Approve=%v without the word in %q", d.Approve, b)
		}
		if _, err := ParseRequest(b); err == nil {
			t.Fatalf("bytes parse as both a request and a decision: %q", b)
		}
	})
}

func FuzzParseAllowedSigners(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(nil)
	pub, _ := ssh.NewPublicKey(priv.Public())
	key := authorized(pub)
	sk := authorized(skEd25519Key(f, priv))
	for _, s := range []string{
		"alice@example.com " + key + " laptop\n",
		"# comment\n\n\"bob smith,bob@x\" " + sk + "\r\n",
		`a@b namespaces="x,y" ` + key,
		"a@b cert-authority " + key,
		"a@b ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ",
		`"a@b ` + key,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		signers, err := ParseAllowedSigners(strings.NewReader(file))
		if err != nil {
			return
		}
		var again strings.Builder
		for _, s := range signers {
			if err := checkKeyType(s.Key.Type()); err != nil {
				t.Fatalf("accepted %v", err)
			}
			if len(s.Principals) == 0 || s.Line < 1 {
				t.Fatalf("accepted signer %+v", s)
			}
			for _, p := range s.Principals {
				if p == "" || strings.ContainsAny(p, "*?!,\"\n") {
					t.Fatalf("accepted principal %q", p)
				}
			}
			again.WriteString(`"` + strings.Join(s.Principals, ",") + `" ` + authorized(s.Key) + "\n")
		}
		back, err := ParseAllowedSigners(strings.NewReader(again.String()))
		if err != nil || len(back) != len(signers) {
			t.Fatalf("re-reading what was accepted: %v\n%s", err, again.String())
		}
		for i := range back {
			if !reflect.DeepEqual(back[i].Principals, signers[i].Principals) ||
				!bytes.Equal(back[i].Key.Marshal(), signers[i].Key.Marshal()) {
				t.Fatalf("signer %d changed: %+v, was %+v", i, back[i], signers[i])
			}
		}
	})
}

// FuzzVerify feeds altered signatures over a fixed decision: armor and
// SSHSIG parsing must never panic, and whatever verifies must come from the
// one registered key.
func FuzzVerify(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(bytes.NewReader(make([]byte, 64)))
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		f.Fatal(err)
	}
	signers := []Signer{{Principals: []string{"alice"}, Key: signer.PublicKey(), Line: 1}}
	msg := sampleDecision().Marshal()
	sig, err := Sign(msg, signer)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig)
	f.Add(bytes.ReplaceAll(sig, []byte("\n"), []byte("\r\n")))
	f.Fuzz(func(t *testing.T, sig []byte) {
		got, err := Verify(signers, msg, sig)
		if err == nil && !bytes.Equal(got.Key.Marshal(), signer.PublicKey().Marshal()) {
			t.Fatalf("verified as %v", got)
		}
	})
}
