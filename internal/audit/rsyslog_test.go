package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// rsyslogConf listens on DIR/log (as it would on /dev/log, with the regular
// parser chain, which understands RFC 5424, and the sender's trusted uid)
// and writes three files: what the README's filter keeps (clawwarden-root
// from uid 0), rsyslog's parsed properties, and each message as rsyslog
// would forward it (RFC 5424).
const rsyslogConf = `global(workDirectory="DIR")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="DIR/log" UseSpecialParser="off" Annotate="on" ParseTrusted="on")
template(name="props" type="string" string="app=%app-name%\tmsgid=%msgid%\tpri=%pri%\tuid=%$!uid%\tsd=%structured-data%\n")
if $app-name == "clawwarden-root" and $!uid == "0" then action(type="omfile" file="DIR/kept.log" template="RSYSLOG_SyslogProtocol23Format")
*.* action(type="omfile" file="DIR/props.log" template="props")
*.* action(type="omfile" file="DIR/forwarded.log" template="RSYSLOG_SyslogProtocol23Format")
`

// TestRsyslog sends records to a real rsyslogd and reads back what it
// wrote: its parse of the RFC 5424 header and structured data, and its
// RFC 5424 copy with every line whole, chained and matching its hash.
func TestRsyslog(t *testing.T) {
	rsyslogd, err := exec.LookPath("rsyslogd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
			if _, err := os.Stat(p); err == nil {
				rsyslogd = p
			}
		}
	}
	if rsyslogd == "" {
		testenv.Skip(t, "rsyslogd missing (Debian package rsyslog; scripts/test installs it)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(rsyslogConf, "DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsyslogd, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("rsyslogd said:\n%s", out.String())
		}
	})
	testenv.Eventually(t, "rsyslogd's socket", func() bool {
		_, err := os.Stat(filepath.Join(dir, "log"))
		return err == nil
	})

	l, warns := forwardLog(t, dir)
	l.Forward.AppName = "clawwarden-root"
	code := 0
	if err := l.Append(Record{Event: "request", Argv: hostile, RequestID: "r-9", Reason: "the agent's words"},
		Record{Event: "result", Decision: "ran", Argv: hostile, ExitCode: &code, RequestID: "r-9"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(Record{Event: "refused", Decision: "refused", Argv: []string{"/bin/sh"}, RequestID: "r-10"}); err != nil {
		t.Fatal(err)
	}
	if len(*warns) > 0 {
		t.Fatalf("warnings: %v", *warns)
	}
	local := lines(t, l.Path)
	last := sha256.Sum256([]byte(local[len(local)-1]))
	var forwarded []string
	testenv.Eventually(t, "rsyslogd to write the records", func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "forwarded.log"))
		forwarded = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		return bytes.Contains(data, []byte(hex.EncodeToString(last[:])))
	})
	if len(forwarded) != len(local) {
		t.Fatalf("rsyslog wrote %d messages, want %d:\n%s", len(forwarded), len(local), strings.Join(forwarded, "\n"))
	}
	t.Logf("rsyslog's RFC 5424 copy of the first record:\n%s", forwarded[0])
	wantArgv := []string{quote.Argv(hostile), quote.Argv(hostile), "/bin/sh"}
	prev := strings.Repeat("0", 64)
	for i, line := range forwarded {
		m, err := parse5424([]byte(line))
		if err != nil {
			t.Fatalf("rsyslog's line %d: %v\n%s", i, err, line)
		}
		sum := sha256.Sum256([]byte(m.msg))
		if m.msg != local[i] || m.params["hash"] != hex.EncodeToString(sum[:]) || m.params["prev"] != prev {
			t.Errorf("rsyslog's line %d does not carry the local line, its hash and prev:\n%s\nlocal: %s", i, line, local[i])
		}
		if m.params["argv"] != wantArgv[i] || m.app != "clawwarden-root" || m.host != "host.example" || m.sdid != SDID {
			t.Errorf("rsyslog's line %d: %+v", i, m)
		}
		prev = m.params["hash"]
	}
	props, err := os.ReadFile(filepath.Join(dir, "props.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("app=clawwarden-root\tmsgid=request\tpri=85\tuid=%d\tsd=[%s event=\"request\"", os.Getuid(), SDID)
	if !strings.HasPrefix(string(props), want) {
		t.Errorf("rsyslog parsed the first message as\n%s\nwant it to start %s", props, want)
	}
	if !strings.Contains(string(props), "msgid=refused\tpri=84\t") {
		t.Errorf("rsyslog did not parse the refusal as a warning:\n%s", props)
	}

	// The agent writes to the same socket in clawwarden-root's name: the
	// filter on the sender's trusted uid does not keep it.
	t.Run("forged by the agent", func(t *testing.T) {
		agent := testenv.RequireAccount(t, testenv.AgentName)
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		forged := testenv.Command(agent, nil, "/", "logger", "-u", filepath.Join(dir, "log"), "--rfc5424", "-t", "clawwarden-root",
			"--msgid", "result", "--sd-id", SDID, "--sd-param", `event="result"`, "--sd-param", `decision="ran"`, "forged by the agent")
		if out, err := forged.CombinedOutput(); err != nil {
			t.Fatalf("logger as %s: %v\n%s", agent.Name, err, out)
		}
		testenv.Eventually(t, "rsyslogd to write the forged record", func() bool {
			data, _ := os.ReadFile(filepath.Join(dir, "forwarded.log"))
			return bytes.Contains(data, []byte("forged by the agent"))
		})
		props, _ := os.ReadFile(filepath.Join(dir, "props.log"))
		if !strings.Contains(string(props), fmt.Sprintf("app=clawwarden-root\tmsgid=result\tpri=13\tuid=%d\t", agent.UID)) {
			t.Errorf("rsyslog did not see the agent's uid on the forged record:\n%s", props)
		}
		kept, err := os.ReadFile(filepath.Join(dir, "kept.log"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(kept), "\n"); bytes.Contains(kept, []byte("forged")) || n != len(local) {
			t.Errorf("the filter kept %d records, want the %d genuine ones only:\n%s", n, len(local), kept)
		}
	})
}
