package signed

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

var (
	created = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	expires = created.Add(15 * time.Minute)
)

func sampleRequest() Request {
	return Request{
		ID:           [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10},
		InstallID:    "cw-3f9a1c2e",
		Account:      "openclaw",
		UID:          1001,
		Argv:         []string{"systemctl", "restart", "nginx"},
		Binary:       "/usr/bin/systemctl",
		BinarySHA256: strings.Repeat("ab", 32),
		Staged: []Staged{{
			Path:   "/home/openclaw/site.conf",
			Copy:   "/var/lib/clawwarden/staged/0123/site.conf",
			Size:   812,
			SHA256: strings.Repeat("cd", 32),
		}},
		Cwd:     "/home/openclaw/work",
		Reason:  "reload nginx after the config change\nline two",
		TaskID:  "task-42",
		Scope:   Scope{Once: true},
		Created: created,
		Expires: expires,
	}
}

func sampleDecision() Decision {
	return Decision{
		InstallID:     "cw-3f9a1c2e",
		RequestSHA256: sampleRequest().Digest(),
		Approve:       true,
		Scope:         Scope{Idle: 10 * time.Minute},
		NotAfter:      expires,
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		got  []byte
	}{
		{"request.golden", sampleRequest().Marshal()},
		{"decision.golden", sampleDecision().Marshal()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, tc.got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tc.got, want) {
				t.Errorf("Marshal changed; every signature over the old layout is void. got:\n%s\nwant:\n%s", tc.got, want)
			}
		})
	}
}

func TestRequestRoundTrip(t *testing.T) {
	tests := map[string]func(*Request){
		"sample":        func(*Request) {},
		"no staged":     func(r *Request) { r.Staged = nil },
		"empty words":   func(r *Request) { r.Cwd, r.Reason, r.TaskID = "", "", "" },
		"kept":          func(r *Request) { r.Scope = Scope{Idle: 30 * time.Minute} },
		"odd argv":      func(r *Request) { r.Argv = []string{"sh", "-c", "echo 'a\nb' 3:x\n", "", "\x1b[31m", "\xff"} },
		"uid 0":         func(r *Request) { r.UID = 0 },
		"big uid":       func(r *Request) { r.UID = 1<<32 - 2 },
		"nanoseconds":   func(r *Request) { r.Created = created.Add(123456789); r.Expires = expires.Add(1) },
		"local time":    func(r *Request) { r.Created = created.In(time.FixedZone("X", 3600)) },
		"two staged":    func(r *Request) { r.Staged = append(r.Staged, Staged{"/a", "/b", 0, strings.Repeat("0", 64)}) },
		"random id":     func(r *Request) { r.ID = NewID() },
		"colon in word": func(r *Request) { r.TaskID = "12:ab\n" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			r := sampleRequest()
			edit(&r)
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			b := r.Marshal()
			got, err := ParseRequest(b)
			if err != nil {
				t.Fatalf("ParseRequest(Marshal()): %v\n%s", err, b)
			}
			if !got.Created.Equal(r.Created) || !got.Expires.Equal(r.Expires) {
				t.Errorf("times: got %v %v, want %v %v", got.Created, got.Expires, r.Created, r.Expires)
			}
			got.Created, got.Expires, r.Created, r.Expires = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, r) {
				t.Errorf("round trip:\ngot  %+v\nwant %+v", got, r)
			}
			if got.Digest() != r.Digest() {
				t.Error("digest changed in round trip")
			}
		})
	}
}

// TestMarshalDistinct checks that requests differing in one field, including
// ways of splitting the same characters between fields, marshal differently.
func TestMarshalDistinct(t *testing.T) {
	edits := map[string]func(*Request){
		"sample":      func(*Request) {},
		"argv joined": func(r *Request) { r.Argv = []string{"systemctl restart", "nginx"} },
		"argv glued":  func(r *Request) { r.Argv = []string{"systemctlrestart", "nginx"} },
		"argv more":   func(r *Request) { r.Argv = append(r.Argv, "") },
		"reason to task": func(r *Request) {
			r.Reason, r.TaskID = "reload nginx after the config change\nline twotask-42", ""
		},
		"cwd":      func(r *Request) { r.Cwd += "/" },
		"uid":      func(r *Request) { r.UID = 100 },
		"account":  func(r *Request) { r.Account = "openclaw2" },
		"install":  func(r *Request) { r.InstallID = "cw-3f9a1c2f" },
		"scope":    func(r *Request) { r.Scope = Scope{Idle: time.Minute} },
		"size":     func(r *Request) { r.Staged[0].Size++ },
		"copy":     func(r *Request) { r.Staged[0].Copy = "/x" },
		"staged":   func(r *Request) { r.Staged = nil },
		"expires":  func(r *Request) { r.Expires = r.Expires.Add(time.Nanosecond) },
		"id":       func(r *Request) { r.ID[15] ^= 1 },
		"bin hash": func(r *Request) { r.BinarySHA256 = strings.Repeat("ba", 32) },
	}
	seen := map[string]string{}
	for name, edit := range edits {
		r := sampleRequest()
		edit(&r)
		if err := r.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := string(r.Marshal())
		if other, ok := seen[b]; ok {
			t.Errorf("%s and %s marshal to the same bytes", name, other)
		}
		seen[b] = name
	}
}

func TestRequestValidate(t *testing.T) {
	tests := map[string]func(*Request){
		"zero id":           func(r *Request) { r.ID = [16]byte{} },
		"no install id":     func(r *Request) { r.InstallID = "" },
		"space in account":  func(r *Request) { r.Account = "open claw" },
		"negative uid":      func(r *Request) { r.UID = -1 },
		"empty argv":        func(r *Request) { r.Argv = nil },
		"nul in argv":       func(r *Request) { r.Argv[1] = "a\x00b" },
		"relative binary":   func(r *Request) { r.Binary = "bin/systemctl" },
		"short hash":        func(r *Request) { r.BinarySHA256 = "abcd" },
		"upper hash":        func(r *Request) { r.BinarySHA256 = strings.Repeat("AB", 32) },
		"relative copy":     func(r *Request) { r.Staged[0].Copy = "site.conf" },
		"negative size":     func(r *Request) { r.Staged[0].Size = -1 },
		"zero scope":        func(r *Request) { r.Scope = Scope{} },
		"idle too long":     func(r *Request) { r.Scope = Scope{Idle: 31 * time.Minute} },
		"expires first":     func(r *Request) { r.Expires = r.Created },
		"no created":        func(r *Request) { r.Created = time.Time{} },
		"year 10000":        func(r *Request) { r.Expires = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"too large":         func(r *Request) { r.Reason = strings.Repeat("x", MaxMessage) },
		"nul in staged":     func(r *Request) { r.Staged[0].Path = "/a\x00" },
		"bad staged sha256": func(r *Request) { r.Staged[0].SHA256 = "" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			r := sampleRequest()
			edit(&r)
			if err := r.Validate(); err == nil {
				t.Fatal("Validate accepted it")
			}
			if _, err := ParseRequest(r.Marshal()); err == nil {
				t.Fatal("ParseRequest accepted its bytes")
			}
		})
	}
}

func TestScopeValidate(t *testing.T) {
	tests := []struct {
		s    Scope
		ok   bool
		text string
	}{
		{Scope{Once: true}, true, "once"},
		{Scope{Idle: time.Minute}, true, "idle 1m"},
		{Scope{Idle: MaxIdle}, true, "idle 30m"},
		{Scope{}, false, ""},
		{Scope{Once: true, Idle: time.Minute}, false, ""},
		{Scope{Idle: MaxIdle + time.Minute}, false, ""},
		{Scope{Idle: 90 * time.Second}, false, ""},
		{Scope{Idle: -time.Minute}, false, ""},
	}
	for _, tc := range tests {
		err := tc.s.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v.Validate() = %v, want ok=%v", tc.s, err, tc.ok)
		}
		if tc.ok {
			if got := tc.s.String(); got != tc.text {
				t.Errorf("%+v.String() = %q, want %q", tc.s, got, tc.text)
			}
			if back, err := parseScope(tc.s.String()); err != nil || back != tc.s {
				t.Errorf("parseScope(%q) = %+v, %v", tc.s.String(), back, err)
			}
		}
	}
}

// replaceField rewrites one field's value in canonical bytes, keeping the
// length prefix right, so the tests reach the checks behind the framing.
func replaceField(b []byte, name, value string) []byte {
	d := decoder{b: b}
	start := bytes.Index(b, []byte("\n"+name+" "))
	if start < 0 {
		panic("no field " + name)
	}
	d.b = b[start+1:]
	d.field(name)
	end := len(b) - len(d.b)
	var e encoder
	e.field(name, value)
	return append(append(append([]byte{}, b[:start+1]...), e.b...), b[end:]...)
}

func TestParseRequestRefuses(t *testing.T) {
	good := sampleRequest().Marshal()
	tests := map[string][]byte{
		"empty":            nil,
		"decision bytes":   sampleDecision().Marshal(),
		"decision magic":   append([]byte(decisionMagic), good[len(requestMagic):]...),
		"v2":               bytes.Replace(good, []byte("v1\n"), []byte("v2\n"), 1),
		"trailing newline": append(append([]byte{}, good...), '\n'),
		"trailing field":   append(append([]byte{}, good...), "extra 0:\n"...),
		"truncated":        good[:len(good)-1],
		"leading zero":     bytes.Replace(good, []byte("account 8:"), []byte("account 08:"), 1),
		"plus length":      bytes.Replace(good, []byte("account 8:"), []byte("account +8:"), 1),
		"long length":      bytes.Replace(good, []byte("account 8:"), []byte("account 9:"), 1),
		"short length":     bytes.Replace(good, []byte("account 8:"), []byte("account 7:"), 1),
		"crlf":             bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")),
		"field order":      bytes.Replace(good, []byte("install-id"), []byte("account"), 1),
		"upper id":         replaceField(good, "id", strings.ToUpper(sampleRequest().IDString())),
		"short id":         replaceField(good, "id", "0123"),
		"argc too big":     replaceField(good, "argc", "4"),
		"argc too small":   replaceField(good, "argc", "2"),
		"argc huge":        replaceField(good, "argc", "999999999"),
		"argc leading 0":   replaceField(good, "argc", "03"),
		"staged huge":      replaceField(good, "staged", "99999"),
		"negative uid":     replaceField(good, "uid", "-1"),
		"uid too big":      replaceField(good, "uid", "4294967296"),
		"size overflow":    replaceField(good, "staged-size", "99999999999999999999"),
		"scope idle 31":    replaceField(good, "scope", "idle 31m"),
		"scope idle 0":     replaceField(good, "scope", "idle 0m"),
		"scope idle 05":    replaceField(good, "scope", "idle 05m"),
		"scope seconds":    replaceField(good, "scope", "idle 1800s"),
		"scope word":       replaceField(good, "scope", "always"),
		"offset time":      replaceField(good, "created", "2026-12-01T11:00:00+01:00"),
		"trailing zeros":   replaceField(good, "created", "2026-12-01T10:00:00.000Z"),
		"no zone":          replaceField(good, "created", "2026-12-01T10:00:00"),
		"expired first":    replaceField(good, "expires", "2026-12-01T09:00:00Z"),
		"too large":        append(append([]byte{}, good...), make([]byte, MaxMessage)...),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := ParseRequest(b)
			if err == nil {
				t.Fatalf("ParseRequest accepted it: %+v", r)
			}
			t.Log(err)
		})
	}
}

func TestParseDecision(t *testing.T) {
	for _, d := range []Decision{
		sampleDecision(),
		{InstallID: "h", RequestSHA256: strings.Repeat("0", 64), Approve: false, Scope: Scope{Once: true}, NotAfter: expires},
		{InstallID: "h", RequestSHA256: strings.Repeat("f", 64), Approve: true, Scope: Scope{Once: true}, NotAfter: expires.Add(7)},
	} {
		got, err := ParseDecision(d.Marshal())
		if err != nil {
			t.Fatalf("ParseDecision(Marshal(%+v)): %v", d, err)
		}
		if !got.NotAfter.Equal(d.NotAfter) {
			t.Errorf("not-after: got %v, want %v", got.NotAfter, d.NotAfter)
		}
		got.NotAfter, d.NotAfter = time.Time{}, time.Time{}
		if got != d {
			t.Errorf("round trip: got %+v, want %+v", got, d)
		}
	}
}

func TestParseDecisionRefuses(t *testing.T) {
	good := sampleDecision().Marshal()
	tests := map[string][]byte{
		"empty":            nil,
		"request bytes":    sampleRequest().Marshal(),
		"request magic":    append([]byte(requestMagic), good[len(decisionMagic):]...),
		"verdict Approve":  replaceField(good, "verdict", "Approve"),
		"verdict yes":      replaceField(good, "verdict", "yes"),
		"verdict approve ": replaceField(good, "verdict", "approve "),
		"verdict empty":    replaceField(good, "verdict", ""),
		"kept deny":        replaceField(good, "verdict", "deny"), // sample scope is idle 10m
		"scope 45m":        replaceField(good, "scope", "idle 45m"),
		"scope empty":      replaceField(good, "scope", ""),
		"upper sha":        replaceField(good, "request-sha256", strings.ToUpper(sampleRequest().Digest())),
		"short sha":        replaceField(good, "request-sha256", "abc"),
		"no install id":    replaceField(good, "install-id", ""),
		"trailing":         append(append([]byte{}, good...), ' '),
		"missing field":    good[:bytes.Index(good, []byte("not-after"))],
		"zero time":        replaceField(good, "not-after", "0001-01-01T00:00:00Z"),
		"too large":        append(append([]byte{}, good...), make([]byte, MaxMessage)...),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := ParseDecision(b)
			if err == nil {
				t.Fatalf("ParseDecision accepted it: %+v", d)
			}
			t.Log(err)
		})
	}
}

// TestDenyIsNotApprove checks that the verdict is a whole word: approve and
// deny bytes differ in more than a flag and each reads back as itself.
func TestDenyIsNotApprove(t *testing.T) {
	approve := sampleDecision()
	approve.Scope = Scope{Once: true}
	deny := approve
	deny.Approve = false
	a, d := approve.Marshal(), deny.Marshal()
	if !bytes.Contains(a, []byte("\nverdict 7:approve\n")) || !bytes.Contains(d, []byte("\nverdict 4:deny\n")) {
		t.Fatalf("verdict field not spelled out:\n%s\n%s", a, d)
	}
	for _, tc := range []struct {
		b    []byte
		want bool
	}{{a, true}, {d, false}} {
		got, err := ParseDecision(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Approve != tc.want {
			t.Errorf("ParseDecision(%q).Approve = %v", tc.b, got.Approve)
		}
	}
}

func TestDecisionCheck(t *testing.T) {
	req := sampleRequest().Marshal()
	now := created.Add(time.Minute)
	other := sampleRequest()
	other.Argv = append(other.Argv, "--force")
	oneByte := bytes.Clone(req)
	oneByte[len(oneByte)-3] ^= 1
	tests := []struct {
		name    string
		edit    func(*Decision)
		install string
		req     []byte
		now     time.Time
		want    error // nil: approved
	}{
		{"approved", nil, "cw-3f9a1c2e", req, now, nil},
		{"denied", func(d *Decision) { d.Approve, d.Scope = false, Scope{Once: true} }, "cw-3f9a1c2e", req, now, ErrDenied},
		{"other host", nil, "cw-other", req, now, ErrOtherHost},
		{"other request", nil, "cw-3f9a1c2e", other.Marshal(), now, ErrOtherRequest},
		{"one byte changed", nil, "cw-3f9a1c2e", oneByte, now, ErrOtherRequest},
		{"at not-after", nil, "cw-3f9a1c2e", req, expires, ErrExpired},
		{"after not-after", nil, "cw-3f9a1c2e", req, expires.Add(time.Hour), ErrExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := sampleDecision()
			if tc.edit != nil {
				tc.edit(&d)
			}
			err := d.Check(tc.install, tc.req, tc.now)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Check = %v, want %v", err, tc.want)
			}
		})
	}
	invalid := sampleDecision()
	invalid.Scope = Scope{}
	if err := invalid.Check("cw-3f9a1c2e", req, now); err == nil {
		t.Error("Check accepted a decision without a scope")
	}
}

func TestParseID(t *testing.T) {
	id := NewID()
	r := Request{ID: id}
	got, err := ParseID(r.IDString())
	if err != nil || got != id {
		t.Errorf("ParseID(%q) = %x, %v", r.IDString(), got, err)
	}
	for _, bad := range []string{"", "00", strings.Repeat("A", 32), strings.Repeat("0", 33), strings.Repeat("g", 32)} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted it", bad)
		}
	}
	if a, b := NewID(), NewID(); a == b || a == [16]byte{} {
		t.Errorf("NewID returned %x and %x", a, b)
	}
}
