package approval

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// testKDF keeps Argon2id cheap in tests, the way age lowers scrypt's work
// factor; the production default is DefaultKDF.
var testKDF = KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}

func TestEqual(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"tok", "tok", true}, {"tok", "tok2", false}, {"", "", true}, {"", "x", false}, {"Tok", "tok", false}} {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestPassphrase(t *testing.T) {
	p, err := NewPassphrase("correct horse", testKDF, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sec", "approval-passphrase.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "correct horse") {
		t.Fatal("passphrase stored in clear")
	}
	q, err := LoadPassphrase(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Key("wrong horse"); !errors.Is(err, ErrBadToken) {
		t.Errorf("wrong passphrase: %v", err)
	}
	k, err := q.Key("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !q.Verify([]byte("m"), ed25519.Sign(k, []byte("m"))) || q.Verify([]byte("n"), ed25519.Sign(k, []byte("m"))) {
		t.Error("signature check wrong")
	}
	if _, err := NewPassphrase("short", testKDF, time.Now()); err == nil {
		t.Error("short passphrase accepted")
	}
	// A record weakened below the minimum parameters is refused.
	var raw map[string]any
	json.Unmarshal(data, &raw)
	raw["params"] = map[string]any{"time": 0, "memory_kib": 1, "threads": 1}
	weak, _ := json.Marshal(raw)
	os.WriteFile(path, weak, 0o600)
	if _, err := LoadPassphrase(path); !errors.Is(err, safefile.ErrInvalid) {
		t.Errorf("weakened record: %v", err)
	}
	if p, err := LoadPassphrase(filepath.Join(t.TempDir(), "none.json")); p != nil || err != nil {
		t.Errorf("missing record: %v %v", p, err)
	}
}

func newRequest(now time.Time) Request {
	return Request{ID: NewID(), Argv: []string{"/usr/bin/id"}, Command: "/usr/bin/id", Cwd: "/",
		Created: now, Expires: now.Add(time.Minute)}
}

func TestQueueDecisions(t *testing.T) {
	now := time.Now()
	pass, _ := NewPassphrase("correct horse", testKDF, now)
	key, _ := pass.Key("correct horse")
	tests := []struct {
		name string
		f    Factors
		req  func(*Request)
		dec  func(Request) Decision
		want error
	}{
		{"approved", Factors{}, nil, func(r Request) Decision { return Decision{ID: r.ID, Approved: true} }, nil},
		{"refused", Factors{}, nil, func(r Request) Decision { return Decision{ID: r.ID} }, ErrDenied},
		{"token proof", Factors{Token: "t0k"}, nil, func(r Request) Decision {
			return Decision{ID: r.ID, Approved: true, TokenProof: TokenProof(r.ID, "t0k")}
		}, nil},
		{"wrong token proof", Factors{Token: "t0k"}, nil, func(r Request) Decision {
			return Decision{ID: r.ID, Approved: true, TokenProof: TokenProof(r.ID, "other")}
		}, ErrBadToken},
		{"signed", Factors{Passphrase: pass}, nil, func(r Request) Decision {
			return Decision{ID: r.ID, Approved: true, Signature: ed25519.Sign(key, SignedMessage(r, true))}
		}, nil},
		{"unsigned with passphrase set", Factors{Passphrase: pass}, nil, func(r Request) Decision {
			return Decision{ID: r.ID, Approved: true}
		}, ErrBadToken},
		{"signature of another request", Factors{Passphrase: pass}, nil, func(r Request) Decision {
			other := r
			other.Argv = []string{"/usr/bin/id", "-u"}
			return Decision{ID: r.ID, Approved: true, Signature: ed25519.Sign(key, SignedMessage(other, true))}
		}, ErrBadToken},
		{"untrusted not confirmed", Factors{}, func(r *Request) { r.Untrusted = true }, func(r Request) Decision {
			return Decision{ID: r.ID, Approved: true}
		}, ErrUntrustedRefused},
		{"untrusted confirmed", Factors{}, func(r *Request) { r.Untrusted = true }, func(r Request) Decision {
			return Decision{ID: r.ID, Approved: true, UntrustedConfirmed: true}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &Queue{Dir: filepath.Join(t.TempDir(), "pending")}
			r := newRequest(now)
			if tt.req != nil {
				tt.req(&r)
			}
			if err := q.Submit(r); err != nil {
				t.Fatal(err)
			}
			if err := q.Decide(tt.dec(r)); err != nil {
				t.Fatal(err)
			}
			err := q.Wait(context.Background(), r, tt.f, time.Millisecond)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Wait = %v, want %v", err, tt.want)
			}
			if reqs, _ := q.List(); len(reqs) != 0 {
				t.Errorf("request left behind: %v", reqs)
			}
		})
	}
}

func TestQueueExpiryAndIDs(t *testing.T) {
	now := time.Now()
	q := &Queue{Dir: filepath.Join(t.TempDir(), "pending"), Now: func() time.Time { return now }}
	r := newRequest(now)
	q.Submit(r)
	now = now.Add(2 * time.Minute)
	if err := q.Decide(Decision{ID: r.ID, Approved: true}); err == nil {
		t.Error("decided an expired request")
	}
	if err := q.Wait(context.Background(), r, Factors{}, time.Millisecond); !errors.Is(err, ErrDenied) {
		t.Errorf("Wait on expired request = %v", err)
	}
	for _, id := range []string{"../../etc/x", "ABCDEFGHIJKL", "short", ""} {
		if _, err := q.Get(id); err == nil {
			t.Errorf("Get(%q) accepted", id)
		}
	}
	if !ValidID(NewID()) {
		t.Error("NewID not valid")
	}
}
