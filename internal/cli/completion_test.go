package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/approval"
)

// TestCompletePendingIDs: approve and deny complete the ids of the pending
// requests, each described by its command; nothing is offered after the id.
func TestCompletePendingIDs(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	state := filepath.Join(home, ".openclaw")
	q := &approval.Queue{Dir: filepath.Join(state, "security", "pending")}
	now := time.Now()
	r := approval.Request{Version: approval.RequestVersion, ID: approval.NewID(), Argv: []string{"/usr/bin/systemctl", "restart", "nginx"},
		BinarySHA256: strings.Repeat("a", 64), Cwd: "/", Created: now, Expires: now.Add(5 * time.Minute)}
	if err := q.Submit(r); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "OPENCLAW_STATE_DIR=" + state, "PATH=/usr/bin:/bin"}
	for _, cmd := range []string{"approve", "deny"} {
		code, out, errOut := run(env, "__complete", cmd, "")
		if code != 0 || !strings.Contains(out, r.ID+"\t/usr/bin/systemctl restart nginx") || !strings.Contains(out, ":4") {
			t.Errorf("%s: exit %d\n%s%s", cmd, code, out, errOut)
		}
		if _, out, _ := run(env, "__complete", cmd, r.ID, ""); strings.Contains(out, r.ID) {
			t.Errorf("%s offers an id after the id:\n%s", cmd, out)
		}
	}
}
