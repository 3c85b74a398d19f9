package notify

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseAllowlist(t *testing.T) {
	tests := []struct {
		in      string
		want    [][]string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: `[["/usr/local/bin/n","--quiet"],["/bin/true"]]`, want: [][]string{{"/usr/local/bin/n", "--quiet"}, {"/bin/true"}}},
		{in: "/usr/local/bin/a, /usr/local/bin/b", want: [][]string{{"/usr/local/bin/a"}, {"/usr/local/bin/b"}}},
		{in: "notify-send", wantErr: true},
		{in: `[["relative"]]`, wantErr: true},
		{in: `[[]]`, wantErr: true},
		{in: `[not json`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseAllowlist(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseAllowlist(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("ParseAllowlist(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAllowed(t *testing.T) {
	allow := [][]string{{"/usr/local/bin/n", "--quiet"}, {"/bin/true"}}
	tests := []struct {
		argv []string
		want bool
	}{
		{[]string{"/usr/local/bin/n", "--quiet"}, true},
		{[]string{"/bin/true"}, true},
		{[]string{"/usr/local/bin/n"}, false},
		{[]string{"/usr/local/bin/n", "--quiet", "--extra"}, false},
		{[]string{"/bin/true", ";", "rm"}, false},
		{[]string{"/bin/false"}, false},
	}
	for _, tt := range tests {
		if got := Allowed(tt.argv, allow); got != tt.want {
			t.Errorf("Allowed(%q) = %v, want %v", tt.argv, got, tt.want)
		}
	}
}

// writeReports writes an assessment with the given violated check ids and a
// port report with one violation.
func writeReports(t *testing.T, dir string, checkIDs ...string) {
	t.Helper()
	var checks []map[string]string
	for _, id := range checkIDs {
		checks = append(checks, map[string]string{"check_id": id, "title": id + " title", "status": "violation", "risk": "high"})
	}
	checks = append(checks, map[string]string{"check_id": "backup_configured", "status": "compliant", "risk": "low"})
	a, _ := json.Marshal(map[string]any{"checks": checks, "openclaw_security_audit": map[string]any{"findings": []any{}}})
	if err := os.WriteFile(filepath.Join(dir, "openclaw-assessment.json"), a, 0o600); err != nil {
		t.Fatal(err)
	}
	p := `{"findings":[{"check_id":"insecure_ports_remediated","status":"violation","risk":"critical","title":"tcp 0.0.0.0:23 (inetd): insecure service telnet"}]}`
	if err := os.WriteFile(filepath.Join(dir, "port-monitor-latest.json"), []byte(p), 0o600); err != nil {
		t.Fatal(err)
	}
}

// notifier writes an executable script that appends its last argument and
// its standard input to log.
func notifier(t *testing.T, dir, log string) string {
	t.Helper()
	script := filepath.Join(dir, "notifier.sh")
	body := "#!/bin/sh\nfor last; do :; done\nprintf '%s\\n' \"$last\" >> '" + log + "'\ncat >> '" + log + ".stdin'\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestRunNotifiesOncePerNewSet(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	if err := os.Mkdir(reports, 0o700); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "sent.log")
	script := notifier(t, dir, log)
	o := Options{
		ReportsDir: reports,
		StateFile:  filepath.Join(dir, "security", "violation-notify-state.json"),
		Command:    script,
		Allowlist:  `[["` + script + `"]]`,
		Host:       "h1",
		Now:        time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
	}
	ctx := context.Background()

	writeReports(t, reports, "gateway_loopback_only")
	res, err := Run(ctx, o)
	if err != nil || !res.Notified || len(res.New) != 2 {
		t.Fatalf("first run: %+v, %v; want notified with 2 new", res, err)
	}
	if got := lines(t, log); len(got) != 1 || !strings.Contains(got[0], "2 new violation(s) on h1") {
		t.Fatalf("after the first run the notifier got %q, want one line about 2 new violations", got)
	}
	var msg Message
	if err := json.Unmarshal([]byte(lines(t, log+".stdin")[0]), &msg); err != nil {
		t.Fatalf("stdin is not the JSON message: %v", err)
	}
	if len(msg.NewViolations) != 2 || msg.Host != "h1" {
		t.Errorf("stdin message = %+v, want 2 new violations from h1", msg)
	}

	// The same set again: nothing runs.
	res, err = Run(ctx, o)
	if err != nil || res.Notified || len(res.New) != 0 {
		t.Fatalf("second run: %+v, %v; want nothing new", res, err)
	}
	if got := lines(t, log); len(got) != 1 {
		t.Fatalf("the same set was sent again: %q", got)
	}

	// One more violation: only it is new.
	writeReports(t, reports, "gateway_loopback_only", "multi_factor_approval")
	res, err = Run(ctx, o)
	if err != nil || !res.Notified || !slices.Equal(res.New, []string{"assessment|multi_factor_approval|multi_factor_approval title"}) {
		t.Fatalf("third run: %+v, %v; want multi_factor_approval new", res, err)
	}
	if got := lines(t, log); len(got) != 2 || !strings.Contains(got[1], "1 new violation(s)") {
		t.Fatalf("after the third run the notifier got %q", got)
	}

	// Fixed, then back: sent again.
	writeReports(t, reports, "gateway_loopback_only")
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	writeReports(t, reports, "gateway_loopback_only", "multi_factor_approval")
	if res, err := Run(ctx, o); err != nil || !res.Notified {
		t.Fatalf("a violation that came back was not sent: %+v, %v", res, err)
	}
	if got := lines(t, log); len(got) != 3 {
		t.Fatalf("notifier lines = %d, want 3", len(got))
	}
}

func TestRunRefusesCommandNotAllowlisted(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	if err := os.Mkdir(reports, 0o700); err != nil {
		t.Fatal(err)
	}
	writeReports(t, reports, "gateway_loopback_only")
	log := filepath.Join(dir, "sent.log")
	script := notifier(t, dir, log)
	tests := []struct {
		name, cmd, allow string
	}{
		{"empty allowlist", script, ""},
		{"other command", script, "/bin/true"},
		{"extra argument", `["` + script + `","--loud"]`, `[["` + script + `"]]`},
		{"prefix only", script, `[["` + script + `","--quiet"]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(dir, tt.name, "state.json")
			res, err := Run(context.Background(), Options{ReportsDir: reports, StateFile: state, Command: tt.cmd, Allowlist: tt.allow, Now: time.Unix(0, 0)})
			if !errors.Is(err, ErrNotAllowlisted) {
				t.Fatalf("Run = %+v, %v; want ErrNotAllowlisted", res, err)
			}
			if _, err := os.Stat(log); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the notifier ran: %v", err)
			}
			if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the state was written although nothing was sent")
			}
		})
	}
}

// failingNotifier returns Options for one new violation and a notifier
// script with body, allowlisted.
func failingNotifier(t *testing.T, body string) Options {
	t.Helper()
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	if err := os.Mkdir(reports, 0o700); err != nil {
		t.Fatal(err)
	}
	writeReports(t, reports, "gateway_loopback_only")
	script := filepath.Join(dir, "notifier.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return Options{ReportsDir: reports, StateFile: filepath.Join(dir, "state.json"), Command: script, Allowlist: script, Now: time.Unix(0, 0)}
}

func TestRunFailedNotifierIsRetried(t *testing.T) {
	o := failingNotifier(t, "echo down >&2\nexit 3\n")
	if _, err := Run(context.Background(), o); !errors.Is(err, ErrNotifierFailed) || !strings.Contains(err.Error(), "down") {
		t.Fatalf("Run error = %v, want ErrNotifierFailed with the notifier's output", err)
	}
	if _, err := os.Stat(o.StateFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state written after a failed notification: %v", err)
	}
}

// TestRunNotifierTimeout: a notifier that hangs is stopped after Timeout
// and the failure names it.
func TestRunNotifierTimeout(t *testing.T) {
	o := failingNotifier(t, "exec sleep 30\n")
	o.Timeout = 100 * time.Millisecond
	_, err := Run(context.Background(), o)
	if want := "notify command " + o.Command + " timed out after 100ms"; !errors.Is(err, ErrNotifierFailed) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Run error = %v, want ErrNotifierFailed saying %q", err, want)
	}
}

func TestCollectMalformedReport(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "egress-monitor-latest.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Collect(dir); err == nil {
		t.Fatal("Collect accepted a malformed report")
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "/usr/local/bin/page", want: []string{"/usr/local/bin/page"}},
		{in: `["/usr/local/bin/page","--to","ops"]`, want: []string{"/usr/local/bin/page", "--to", "ops"}},
		{in: "page", wantErr: true},
		{in: `["page"]`, wantErr: true},
		{in: `[`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseCommand(tt.in)
		if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrConfig)) {
			t.Errorf("ParseCommand(%q) error = %v, want ErrConfig: %v", tt.in, err, tt.wantErr)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseCommand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
