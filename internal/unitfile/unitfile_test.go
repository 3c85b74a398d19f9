package unitfile

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheckValue(t *testing.T) {
	for _, ok := range []string{"", "/a b/c", `/it's "q" 100%`, "é"} {
		if err := CheckValue(ok); err != nil {
			t.Errorf("CheckValue(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"a\nb", "a\tb", "a\x7fb", "a\xffb", "\r"} {
		if err := CheckValue(bad); err == nil {
			t.Errorf("CheckValue(%q) accepted it", bad)
		}
	}
}

// TestQuoteRoundTrip: what Quote writes, SplitWords and ExpandSpecifiers
// read back unchanged, as systemd would.
func TestQuoteRoundTrip(t *testing.T) {
	for _, v := range []string{"/usr/bin", "/a b", `/a"b`, "/it's", `/a\b`, "/50%h", "$HOME/x", ""} {
		q := Assignment("PATH", v)
		words, err := SplitWords(q)
		if err != nil || len(words) != 1 {
			t.Fatalf("SplitWords(%s) = %q, %v", q, words, err)
		}
		if got := ExpandSpecifiers(words[0], "/home/a"); got != "PATH="+v {
			t.Errorf("%q quoted as %s reads back as %q", v, q, got)
		}
	}
	if got, want := Quote(`/opt/a b/c;d%f$g"\`), `"/opt/a b/c;d%%f$g\"\\"`; got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
}

func TestValuesAndEnvValue(t *testing.T) {
	unit := `# Environment=PATH=/commented
[Unit]
Environment=PATH=/not-service
[Service]
Environment="A=1" \
  PATH=/first
; Environment=PATH=/commented
Environment=PATH=%h/bin:%%x
[Install]
Environment=PATH=/not-service
`
	vals := Values(unit, "Service", "Environment")
	if want := []string{`"A=1"    PATH=/first`, "PATH=%h/bin:%%x"}; !slices.Equal(vals, want) {
		t.Fatalf("Values = %q, want %q", vals, want)
	}
	tests := []struct {
		name   string
		values []string
		want   string
		set    bool
		err    bool
	}{
		{"last wins, specifiers", vals, "/home/a/bin:%x", true, false},
		{"reset", append(slices.Clone(vals), ""), "", false, false},
		{"reset then set", []string{"PATH=/a", "", "PATH=/b"}, "/b", true, false},
		{"none", []string{"A=1"}, "", false, false},
		{"bad quoting", []string{`"PATH=/a`}, "", false, true},
	}
	for _, tt := range tests {
		got, set, err := EnvValue(tt.values, "PATH", "/home/a")
		if got != tt.want || set != tt.set || (err != nil) != tt.err {
			t.Errorf("%s: EnvValue = %q, %v, %v; want %q, %v, error %v", tt.name, got, set, err, tt.want, tt.set, tt.err)
		}
	}
}

func TestPlistRoundTrip(t *testing.T) {
	doc := map[string]any{"Label": "ai.example", "ProgramArguments": []any{"/a b/x", "cycle"}, "StartInterval": uint64(300)}
	for _, format := range []int{PlistXML, 1 /* binary */} {
		data, err := EncodePlist(doc, format)
		if err != nil {
			t.Fatal(err)
		}
		got, gotFormat, err := DecodePlist(data)
		if err != nil || gotFormat != format || !reflect.DeepEqual(got, doc) {
			t.Errorf("format %d: DecodePlist = %v, %d, %v; want %v", format, got, gotFormat, err, doc)
		}
	}
	data, _ := EncodePlist(doc, PlistXML)
	if !strings.Contains(string(data), "\n  <dict>") {
		t.Errorf("XML plist not indented by two spaces:\n%s", data)
	}
	for _, bad := range []string{"not a plist <", "<plist><array/></plist>"} {
		if _, _, err := DecodePlist([]byte(bad)); err == nil {
			t.Errorf("DecodePlist(%q) accepted it", bad)
		}
	}
}

func TestCronQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/bin/x", `'/usr/bin/x'`},
		{"/opt/it's 100%/x", `'/opt/it'"'"'s 100\%/x'`},
		{"/opt/50%", `'/opt/50\%'`},
		{"$(id)", `'$(id)'`},
	}
	for _, tt := range tests {
		if got := CronQuote(tt.in); got != tt.want {
			t.Errorf("CronQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCronLine(t *testing.T) {
	const marker = "# clawwarden-cycle"
	if l, ok := CronLine("a\n*/5 * * * * x "+marker+"  \nb\n", marker); !ok || l != "*/5 * * * * x "+marker+"  " {
		t.Errorf("CronLine = %q, %v", l, ok)
	}
	if _, ok := CronLine("x "+marker+" y\n", marker); ok {
		t.Error("CronLine took a line with the marker mid-line")
	}
}

func TestNextCron(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		spec, now, want string
	}{
		{"*/5 * * * *", "2026-11-25T10:00:00Z", "2026-11-25T10:05:00Z"},
		{"*/5 * * * *", "2026-11-25T10:03:30Z", "2026-11-25T10:05:00Z"},
		{"*/15 * * * *", "2026-11-25T10:59:59Z", "2026-11-25T11:00:00Z"},
		{"17 * * * *", "2026-11-25T10:17:00Z", "2026-11-25T11:17:00Z"},
		{"17 * * * *", "2026-11-25T10:16:59Z", "2026-11-25T10:17:00Z"},
		{"42 */6 * * *", "2026-11-25T13:00:00Z", "2026-11-25T18:42:00Z"},
		{"42 */6 * * *", "2026-12-31T19:00:00Z", "2027-01-01T00:42:00Z"},
		{"3 */24 * * *", "2026-11-25T00:03:00Z", "2026-11-26T00:03:00Z"},
		{"0 0 29 2 *", "2026-11-25T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"0 12 * * 0", "2026-11-25T00:00:00Z", "2026-11-29T12:00:00Z"}, // next Sunday
		{"0 12 * * 7", "2026-11-25T00:00:00Z", "2026-11-29T12:00:00Z"},
		{"0 12 1 * 3", "2026-11-25T00:00:00Z", "2026-11-25T12:00:00Z"}, // dom or dow
		{"0-10/5 9-10 * * 1-5", "2026-11-25T10:10:00Z", "2026-11-26T09:00:00Z"},
	}
	for _, tt := range tests {
		got, err := NextCron(tt.spec, utc(tt.now))
		if err != nil {
			t.Errorf("NextCron(%q, %s): %v", tt.spec, tt.now, err)
			continue
		}
		if want := utc(tt.want); !got.Equal(want) {
			t.Errorf("NextCron(%q, %s) = %s, want %s", tt.spec, tt.now, got.Format(time.RFC3339), tt.want)
		}
	}
	for _, bad := range []string{"* * * *", "60 * * * *", "*/0 * * * *", "a * * * *", "0 0 31 2 *"} {
		if _, err := NextCron(bad, utc("2026-11-25T00:00:00Z")); err == nil {
			t.Errorf("NextCron(%q) succeeded, want error", bad)
		}
	}
}

func TestSetCronLine(t *testing.T) {
	const line = "*/5 * * * * '/bin/cw' cycle >/dev/null 2>&1 # clawwarden-cycle"
	tests := []struct {
		name, in, line, want string
		changed              bool
	}{
		{"empty add", "", line, line + "\n", true},
		{"keep others", "MAILTO=x\n# c\n0 * * * * job\n", line, "MAILTO=x\n# c\n0 * * * * job\n" + line + "\n", true},
		{"no final newline", "0 * * * * job", line, "0 * * * * job\n" + line + "\n", true},
		{"already there", "a\n" + line + "\nb\n", line, "a\n" + line + "\nb\n", false},
		{"replace old in place", "a\n0 * * * * old # clawwarden-cycle\nb\n", line, "a\n" + line + "\nb\n", true},
		{"duplicates collapse", line + "\n" + line + "\n", line, line + "\n", true},
		{"remove", "a\n" + line + "\n  b  \n", "", "a\n  b  \n", true},
		{"remove keeps no final newline", "a\n" + line + "\nb", "", "a\nb", true},
		{"remove none", "a\nb\n", "", "a\nb\n", false},
		{"marker mid-line is not ours", "x # clawwarden-cycle y\n", "", "x # clawwarden-cycle y\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := SetCronLine(tt.in, "# clawwarden-cycle", tt.line)
			if got != tt.want || changed != tt.changed {
				t.Errorf("SetCronLine(%q, %q) = %q, %v; want %q, %v", tt.in, tt.line, got, changed, tt.want, tt.changed)
			}
		})
	}
}

func TestSplitUnitWords(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{`A=1 B=2`, []string{"A=1", "B=2"}, false},
		{`"A=1 2" 'B=3 4'`, []string{"A=1 2", "B=3 4"}, false},
		{`"A=\"q\" \\ \x41"`, []string{`A="q" \ A`}, false},
		{`A=a\sb`, []string{"A=a b"}, false},
		{`  A=1   `, []string{"A=1"}, false},
		{`"A=1`, nil, true},
		{`A=1\`, nil, true},
		{`A=\q`, nil, true},
	}
	for _, tt := range tests {
		got, err := SplitWords(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("SplitWords(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
