package approval

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	return Request{Version: RequestVersion, ID: NewID(), Argv: []string{"/usr/bin/id"}, Cwd: "/",
		BinarySHA256: strings.Repeat("ab", 32), Created: now, Expires: now.Add(time.Minute)}
}

func TestPassphraseBounds(t *testing.T) {
	p, _ := NewPassphrase("correct horse", testKDF, time.Now())
	path := filepath.Join(t.TempDir(), "approval-passphrase.json")
	for _, params := range []KDFParams{
		{Time: 0, Memory: 8 * 1024, Threads: 1},
		{Time: 1, Memory: 1, Threads: 1},
		{Time: 1, Memory: 8 * 1024, Threads: 0},
		{Time: 1, Memory: 1 << 30, Threads: 1}, // a terabyte per approval
		{Time: 1 << 20, Memory: 8 * 1024, Threads: 1},
		{Time: 1, Memory: 8 * 1024, Threads: 255},
	} {
		q := *p
		q.Params = params
		q.Save(path)
		if _, err := LoadPassphrase(path); !errors.Is(err, safefile.ErrInvalid) {
			t.Errorf("params %+v accepted: %v", params, err)
		}
	}
	q := *p
	q.Params = DefaultKDF
	q.Save(path)
	if _, err := LoadPassphrase(path); err != nil {
		t.Errorf("default params refused: %v", err)
	}
}

func TestDigestCoversEveryShownField(t *testing.T) {
	now := time.Now()
	base := newRequest(now)
	edits := map[string]func(*Request){
		"argv":      func(r *Request) { r.Argv = []string{"/usr/bin/id", "-u"} },
		"argv join": func(r *Request) { r.Argv = []string{"/usr/bin/id -u"} },
		"sudo args": func(r *Request) { r.SudoArgs = []string{"-B"} },
		"edit":      func(r *Request) { r.Edit = true },
		"named":     func(r *Request) { r.Named = []string{"sudo", "-u", "x"} },
		"binary":    func(r *Request) { r.BinarySHA256 = strings.Repeat("cd", 32) },
		"cwd":       func(r *Request) { r.Cwd = "/tmp" },
		"reason":    func(r *Request) { r.Reason = "x" },
		"session":   func(r *Request) { r.SessionID = "s" },
		"rule":      func(r *Request) { r.Rule = "allow[0]" },
		"untrusted": func(r *Request) { r.Untrusted = true },
		"token":     func(r *Request) { r.NeedToken = true },
		"keep":      func(r *Request) { r.KeepRequested = true },
		"advisory":  func(r *Request) { r.Advisory = true },
		"expires":   func(r *Request) { r.Expires = r.Expires.Add(time.Second) },
		"pid":       func(r *Request) { r.PID = 7 },
	}
	for name, edit := range edits {
		r := base
		r.Argv = slices.Clone(base.Argv)
		edit(&r)
		if r.Digest() == base.Digest() {
			t.Errorf("editing %s keeps the digest", name)
		}
	}
}

func TestQueueDecisions(t *testing.T) {
	now := time.Now()
	pass, _ := NewPassphrase("correct horse", testKDF, now)
	key, _ := pass.Key("correct horse")
	approve := func(r Request) Decision {
		return Decision{ID: r.ID, RequestSHA256: r.Digest(), Approved: true, PID: os.Getpid()}
	}
	signed := func(d Decision) Decision { Sign(&d, key); return d }
	tests := []struct {
		name string
		f    Factors
		req  func(*Request)
		dec  func(Request) Decision
		want error
	}{
		{"approved", Factors{}, nil, approve, nil},
		{"refused", Factors{}, nil, func(r Request) Decision { d := approve(r); d.Approved = false; return d }, ErrDenied},
		{"decision for an edited request", Factors{}, nil, func(r Request) Decision {
			r.Argv = []string{"/usr/bin/id", "-u"}
			return approve(r)
		}, ErrDenied},
		{"decision without digest", Factors{}, nil, func(r Request) Decision { d := approve(r); d.RequestSHA256 = ""; return d }, ErrDenied},
		{"token proof", Factors{Token: "t0k"}, nil, func(r Request) Decision {
			d := approve(r)
			d.TokenProof = TokenProof(r.ID, "t0k")
			return d
		}, nil},
		{"wrong token proof", Factors{Token: "t0k"}, nil, func(r Request) Decision {
			d := approve(r)
			d.TokenProof = TokenProof(r.ID, "other")
			return d
		}, ErrBadToken},
		{"signed", Factors{Passphrase: pass}, nil, func(r Request) Decision { return signed(approve(r)) }, nil},
		{"unsigned with passphrase set", Factors{Passphrase: pass}, nil, approve, ErrBadToken},
		{"signature over once, keep claimed", Factors{Passphrase: pass}, func(r *Request) { r.KeepRequested = true }, func(r Request) Decision {
			d := signed(approve(r))
			d.Keep = true
			return d
		}, ErrBadToken},
		{"keep nobody asked for", Factors{}, nil, func(r Request) Decision { d := approve(r); d.Keep = true; return d }, ErrDenied},
		{"untrusted not confirmed", Factors{}, func(r *Request) { r.Untrusted = true }, approve, ErrUntrustedRefused},
		{"untrusted confirmed", Factors{}, func(r *Request) { r.Untrusted = true }, func(r Request) Decision {
			d := approve(r)
			d.UntrustedConfirmed = true
			return d
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
			w := &Waiter{Q: q, Request: r, Factors: tt.f, Poll: time.Millisecond}
			_, err := w.Decision(context.Background())
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Decision = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestQueueResultRelay(t *testing.T) {
	now := time.Now()
	q := &Queue{Dir: filepath.Join(t.TempDir(), "pending")}
	r := newRequest(now)
	if err := q.Submit(r); err != nil {
		t.Fatal(err)
	}
	d := Decision{ID: r.ID, RequestSHA256: r.Digest(), Approved: true, PID: os.Getpid()}
	if err := q.Decide(d); err != nil {
		t.Fatal(err)
	}
	if err := q.Decide(d); err == nil {
		t.Error("a second decision was accepted")
	}
	out, errf, err := q.OutputFiles(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	out.WriteString("hello\n")
	errf.WriteString("warn\n")
	out.Close()
	errf.Close()
	if _, _, err := q.OutputFiles(r.ID); err == nil {
		t.Error("output files created twice")
	}
	if err := q.WriteResult(Result{ID: r.ID, RequestSHA256: r.Digest(), Ran: true, ExitCode: 3}); err != nil {
		t.Fatal(err)
	}
	w := &Waiter{Q: q, Request: r, Poll: time.Millisecond}
	res, err := w.Result(context.Background(), d)
	if err != nil || !res.Ran || res.ExitCode != 3 {
		t.Fatalf("Result = %+v, %v", res, err)
	}
	var so, se strings.Builder
	if err := q.CopyOutput(r.ID, &so, &se); err != nil || so.String() != "hello\n" || se.String() != "warn\n" {
		t.Errorf("CopyOutput: %q %q %v", so.String(), se.String(), err)
	}
	q.Remove(r.ID)
	if ents, _ := os.ReadDir(q.Dir); len(ents) > 1 { // the queue lock may stay
		t.Errorf("files left after Remove: %v", ents)
	}

	// A result for another request is refused; a dead approver without a
	// result is reported.
	r2 := newRequest(now)
	q.Submit(r2)
	q.WriteResult(Result{ID: r2.ID, RequestSHA256: r.Digest(), Ran: true})
	if _, err := (&Waiter{Q: q, Request: r2}).Result(context.Background(), d); !errors.Is(err, ErrDenied) {
		t.Errorf("result for another request: %v", err)
	}
	r3 := newRequest(now)
	q.Submit(r3)
	if _, err := (&Waiter{Q: q, Request: r3, Poll: time.Millisecond}).Result(context.Background(), Decision{PID: 1 << 30}); err == nil || !strings.Contains(err.Error(), "ended without") {
		t.Errorf("dead approver: %v", err)
	}
}

func TestQueueExpiryLimitsAndIDs(t *testing.T) {
	now := time.Now()
	q := &Queue{Dir: filepath.Join(t.TempDir(), "pending"), Now: func() time.Time { return now }}
	r := newRequest(now)
	q.Submit(r)
	now = now.Add(2 * time.Minute)
	if err := q.Decide(Decision{ID: r.ID, RequestSHA256: r.Digest(), Approved: true}); !errors.Is(err, ErrNoRequest) {
		t.Errorf("decided an expired request: %v", err)
	}
	if _, err := (&Waiter{Q: q, Request: r, Poll: time.Millisecond}).Decision(context.Background()); !errors.Is(err, ErrDenied) {
		t.Errorf("Decision on expired request = %v", err)
	}
	for _, id := range []string{"../../etc/x", "ABCDEFGHIJKL", "short", ""} {
		if _, err := q.Get(id); !errors.Is(err, ErrNoRequest) {
			t.Errorf("Get(%q) = %v", id, err)
		}
	}
	if !ValidID(NewID()) {
		t.Error("NewID not valid")
	}
	q2 := &Queue{Dir: filepath.Join(t.TempDir(), "pending")}
	for i := range MaxPending {
		if err := q2.Submit(newRequest(time.Now())); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if err := q2.Submit(newRequest(time.Now())); !errors.Is(err, ErrDenied) {
		t.Errorf("request beyond MaxPending: %v", err)
	}
	bad := newRequest(time.Now())
	bad.Version = 1
	if err := q2.Submit(bad); err == nil {
		t.Error("request of another version filed")
	}
}

func TestDescribeEscapes(t *testing.T) {
	r := newRequest(time.Now())
	r.Argv = []string{"/usr/bin/id", "evil\u202etxt", "a    b"}
	r.SudoArgs = []string{"--bell"}
	r.Reason = "line\nbreak"
	r.Agent = strings.Repeat("x", 5000)
	r.Rule = strings.Repeat("r", 5000)
	r.Advisory = true
	if err := r.CheckShowable(); err != nil {
		t.Fatal(err)
	}
	d := Describe(r)
	for _, want := range []string{`argv[1]:  $'evil\u202etxt'`, `argv[2]:  $'a \x20\x20\x20b'`, "U+202E", `sudo[0]:  --bell`,
		`reason:   $'line\nbreak'`, "NOPASSWD", "agent's own words", "command:  sudo --bell -- /usr/bin/id"} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe lacks %q:\n%s", want, d)
		}
	}
	if strings.ContainsRune(d, '\u202e') || len(d) > 3000 {
		t.Errorf("Describe leaks raw text or grows with the agent's fields (%d bytes):\n%s", len(d), d)
	}
	for _, line := range strings.Split(d, "\n") {
		if len(line) > 400 {
			t.Errorf("a line of %d bytes", len(line))
		}
	}
	// Too long to show whole: refused, not cut.
	spaces := newRequest(time.Now())
	spaces.Argv = append(spaces.Argv, strings.Repeat(" ", 10000))
	many := newRequest(time.Now())
	for i := range 1000 {
		many.Argv = append(many.Argv, fmt.Sprint(i))
	}
	wide := newRequest(time.Now())
	for range 20 {
		wide.Argv = append(wide.Argv, strings.Repeat("w", 400))
	}
	for name, r := range map[string]Request{"10,000 spaces": spaces, "1,000 arguments": many, "20 wide arguments": wide} {
		if err := r.CheckShowable(); !errors.Is(err, ErrTooLong) {
			t.Errorf("%s: CheckShowable = %v", name, err)
		}
	}
}
