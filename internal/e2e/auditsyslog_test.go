package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// Enforced mode with 'enforce install --audit-syslog' (issue 13): the root
// helper sends every record of a request to /dev/log, as uid 0, with the
// local line, its hash and prev; the agent's environment does not turn it
// off; with nothing listening the request still runs and is audited
// locally, and the helper warns.
func TestEnforcedAuditSyslog(t *testing.T) {
	for _, p := range []string{"/dev/log", "/run/systemd/journal/socket"} {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists: this host's log daemon would receive the records; the test listens on /dev/log itself", p)
		}
	}
	w := newWorld(t, false)
	code, out := w.install("--audit-syslog")
	if code != 0 || !strings.Contains(out, "host's log pipeline") {
		t.Fatalf("enforce install --audit-syslog: exit %d\n%s", code, out)
	}
	w.setting("approval_timeout", "20s")

	rcv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "/dev/log", Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close(); os.Remove("/dev/log") })
	os.Chmod("/dev/log", 0o666)
	// The kernel says who sent each datagram.
	raw, err := rcv.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	raw.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1) })
	if err != nil {
		t.Fatal(err)
	}

	// The agent asks, with the variable that would turn same-user sending
	// off; the root helper reads no environment.
	before := w.pendingIDs()
	agentOut := w.background(w.agentCmd([]string{"CLAWWARDEN_AUDIT_SYSLOG=0"}, "sudo", "/usr/bin/id"))
	id := w.waitPending(before)
	if code, text := w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name]); code != 0 {
		t.Fatalf("approve: exit %d\n%s", code, text)
	}
	testenv.Eventually(t, "the agent to see uid=0", func() bool { return strings.Contains(agentOut.String(), "uid=0(root)") })

	type msg struct {
		text string
		uid  uint32
	}
	var got []msg
	buf, oob := make([]byte, 64<<10), make([]byte, 1024)
	rcv.SetReadDeadline(time.Now().Add(time.Minute)) // only stops a broken test
	testenv.Eventually(t, "the result record at /dev/log", func() bool {
		n, oobn, _, _, err := rcv.ReadMsgUnix(buf, oob)
		if err != nil {
			t.Fatal(err)
		}
		m := msg{text: string(buf[:n]), uid: ^uint32(0)}
		if cms, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil && len(cms) > 0 {
			if cred, err := syscall.ParseUnixCredentials(&cms[0]); err == nil {
				m.uid = cred.Uid
			}
		}
		got = append(got, m)
		return strings.Contains(m.text, ` event="result" decision="ran" request="`+id+`"`)
	})

	// Every local record of the request arrived, from uid 0, with its line
	// and hash.
	data, err := os.ReadFile("/var/log/clawwarden/audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var local []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.Contains(l, `"request_id":"`+id+`"`) {
			local = append(local, l)
		}
	}
	var mine []msg
	for _, m := range got {
		if strings.Contains(m.text, ` request="`+id+`"`) {
			mine = append(mine, m)
		}
	}
	if len(local) < 3 || len(mine) != len(local) {
		t.Fatalf("%d local records of %s, %d sent:\n%v", len(local), id, len(mine), mine)
	}
	t.Logf("the first record at /dev/log: %s", mine[0].text)
	for i, m := range mine {
		sum := sha256.Sum256([]byte(local[i]))
		if m.uid != 0 || !strings.Contains(m.text, " clawwarden-root ") || !strings.Contains(m.text, `[clawwarden@32473 event="`) ||
			!strings.Contains(m.text, ` hash="`+hex.EncodeToString(sum[:])+`"`) || !strings.HasSuffix(m.text, "] "+local[i]) {
			t.Errorf("record %d from uid %d:\n%s\nlocal: %s", i, m.uid, m.text, local[i])
		}
	}

	// Nothing listening: the next request runs all the same, is audited
	// locally, and the helper says what it could not send.
	rcv.Close()
	os.Remove("/dev/log")
	before = w.pendingIDs()
	agentOut = w.background(w.agentCmd(nil, "sudo", "/usr/bin/id"))
	id = w.waitPending(before)
	if code, text := w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name]); code != 0 {
		t.Fatalf("approve: exit %d\n%s", code, text)
	}
	testenv.Eventually(t, "the agent to see uid=0 again", func() bool { return strings.Contains(agentOut.String(), "uid=0(root)") })
	testenv.Eventually(t, "the result record in the local log", func() bool { return countAudit(t, id, "result", "ran") == 1 })
	if !strings.Contains(agentOut.String(), "clawwarden-root: warning: ") || !strings.Contains(agentOut.String(), "not sent to /dev/log") {
		t.Errorf("the helper did not warn:\n%s", agentOut.String())
	}
}
