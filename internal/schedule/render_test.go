package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"howett.net/plist"
)

func TestParseEvery(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"1h", time.Hour, false},
		{"5m", 5 * time.Minute, false},
		{" 90m ", 90 * time.Minute, false},
		{"4m59s", 0, true},
		{"0", 0, true},
		{"-1h", 0, true},
		{"hourly", 0, true},
		{"", 0, true},
		{"5m0.5s", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseEvery(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseEvery(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrBadEvery) {
			t.Errorf("ParseEvery(%q) error %v does not wrap ErrBadEvery", tt.in, err)
		}
	}
}

func TestCronSpec(t *testing.T) {
	// fnv32a("alice") % 60
	m := func() string { s, _ := CronSpec(time.Hour, "alice"); return strings.Fields(s)[0] }()
	tests := []struct {
		every    time.Duration
		wantSpec string
		wantReal time.Duration
	}{
		{5 * time.Minute, "*/5 * * * *", 5 * time.Minute},
		{15 * time.Minute, "*/15 * * * *", 15 * time.Minute},
		{30 * time.Minute, "*/30 * * * *", 30 * time.Minute},
		{7 * time.Minute, "*/6 * * * *", 6 * time.Minute},
		{time.Hour, m + " * * * *", time.Hour},
		{2 * time.Hour, m + " */2 * * *", 2 * time.Hour},
		{5 * time.Hour, m + " */4 * * *", 4 * time.Hour},
		{24 * time.Hour, m + " */24 * * *", 24 * time.Hour},
		{72 * time.Hour, m + " */24 * * *", 24 * time.Hour},
		{45 * time.Minute, "*/30 * * * *", 30 * time.Minute},
	}
	for _, tt := range tests {
		spec, real := CronSpec(tt.every, "alice")
		if spec != tt.wantSpec || real != tt.wantReal {
			t.Errorf("CronSpec(%v) = %q, %v; want %q, %v", tt.every, spec, real, tt.wantSpec, tt.wantReal)
		}
	}
	a, _ := CronSpec(time.Hour, "alice")
	b, _ := CronSpec(time.Hour, "bob")
	if a == b {
		t.Logf("alice and bob share minute %q (possible, but unlikely)", a)
	}
}

func TestRenderCronLineQuoting(t *testing.T) {
	got, err := RenderCronLine("*/5 * * * *", "/opt/it's 100%/clawwarden", []EnvVar{{"OPENCLAW_STATE_DIR", "/s p"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `*/5 * * * * OPENCLAW_STATE_DIR='/s p' '/opt/it'"'"'s 100\%/clawwarden' cycle >/dev/null 2>&1 # clawwarden-cycle`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := RenderCronLine("* * * * *", "/a\nb", nil); err == nil {
		t.Error("newline in the path was accepted")
	}
	// cron takes the % after a backslash as the end of the command.
	if _, err := RenderCronLine("* * * * *", `/a\%b/clawwarden`, nil); err == nil {
		t.Error("backslash in the path was accepted")
	}
	if _, err := RenderCronLine("* * * * *", "/a", []EnvVar{{"HOME", `/h\`}}); err == nil {
		t.Error("backslash in a value was accepted")
	}
}

func TestRenderPlist(t *testing.T) {
	data, err := RenderPlist("/Applications/Claw Warden/clawwarden", 30*time.Minute, []EnvVar{{"OPENCLAW_STATE_DIR", "/Users/a/.openclaw"}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Label            string
		ProgramArguments []string
		StartInterval    int
		RunAtLoad        bool
		Env              map[string]string `plist:"EnvironmentVariables"`
	}
	if _, err := plist.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if doc.Label != Label || strings.Join(doc.ProgramArguments, "|") != "/Applications/Claw Warden/clawwarden|cycle" ||
		doc.StartInterval != 1800 || doc.RunAtLoad || doc.Env["OPENCLAW_STATE_DIR"] != "/Users/a/.openclaw" {
		t.Errorf("unexpected plist: %+v\n%s", doc, data)
	}
	if !strings.HasPrefix(string(data), "<?xml") {
		t.Errorf("not an XML plist:\n%s", data)
	}
}

func TestRenderServiceQuoting(t *testing.T) {
	got, err := RenderService(`/opt/a b/c;d*e%f$g`, []EnvVar{{"OPENCLAW_CONFIG_PATH", `/x 50%/"y"`}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`ExecStart="/opt/a b/c;d*e%%f$g" cycle` + "\n",
		`Environment="OPENCLAW_CONFIG_PATH=/x 50%%/\"y\""` + "\n",
		"Type=oneshot\n",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("service lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"/a\tb", `/a"b`, `/a\b`, "/a'b"} {
		if _, err := RenderService(bad, nil); err == nil {
			t.Errorf("RenderService(%q) accepted a path systemd refuses", bad)
		}
	}
}
