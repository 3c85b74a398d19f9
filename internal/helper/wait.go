package helper

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/signed"
)

// pollEvery is how often the inbox is read while a request waits.
const pollEvery = 100 * time.Millisecond

// notifyEvery bounds the notifier's rate.
const notifyEvery = 5 * time.Second

// loadSigners reads the allowed signers as they are now.
func (h *helper) loadSigners() ([]signed.Signer, error) {
	data, err := rootside.ReadRootFile(h.layout.AllowedSigners())
	if err != nil {
		return nil, err
	}
	return signed.ParseAllowedSigners(bytes.NewReader(data))
}

// waitForDecision files the request and waits for a signed decision. It
// returns the accepted decision, its signer, signature and bytes, or an
// exit status (refusals are audited).
func (h *helper) waitForDecision(reqBytes []byte, rule string) (signed.Decision, signed.Signer, []byte, []byte, int) {
	var zero signed.Decision
	facts := rootside.Facts{ID: h.id, HelperPID: os.Getpid(), Filed: h.req.Created, Rule: rule, Risk: riskOf(rule),
		Staged: len(h.req.Staged), KeepAllowed: len(h.req.Staged) == 0}
	facts.Package, facts.Manifest = packageFacts(h.req.Binary)
	if err := h.layout.WritePending(h.id, reqBytes, facts, h.settings.MaxPending); err != nil {
		return zero, signed.Signer{}, nil, nil, h.refuse(ExitDenied, "queue", "%v", err)
	}
	defer h.layout.RemovePending(h.id)
	if err := h.audit(audit.Record{Event: "approval", Decision: "pending", Detail: "enforced: waiting for a signed decision ('clawwarden approve " + h.id + "')"}); err != nil {
		return zero, signed.Signer{}, nil, nil, h.refuse(ExitInternal, "audit", "the audit log cannot be written, so nothing is filed: %v", err)
	}
	h.layout.ShareAudit()
	h.say("pending request %s: an approver runs 'clawwarden approve %s' (or 'clawwarden deny %s'); it expires in %s",
		h.id, h.id, h.id, time.Duration(h.settings.ApprovalTimeout))
	go h.notify(facts)

	ctx, cancel := timeoutContext(time.Duration(h.settings.ApprovalTimeout))
	defer cancel()
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	defer signal.Stop(term)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	seen := map[string]bool{}
	for {
		for _, c := range h.layout.Decisions(h.id, h.settings.AgentUID) {
			k := string(c.Decision) + "\x00" + string(c.Sig)
			if seen[k] {
				continue
			}
			seen[k] = true
			d, signer, err := h.check(c, reqBytes)
			switch {
			case err == nil:
				return d, signer, c.Sig, c.Decision, 0
			case errors.Is(err, signed.ErrDenied):
				h.audit(audit.Record{Event: "approval", Decision: "refused", Detail: "enforced: denied by a signed decision",
					Approver: principal(signer), KeyFP: signed.Fingerprint(signer.Key)})
				return zero, signer, nil, nil, h.refuseQuiet(ExitDenied, "request %s was denied by %s", h.id, principal(signer))
			default:
				h.audit(audit.Record{Event: "decision", Decision: "rejected", Detail: "enforced: " + err.Error()})
			}
		}
		select {
		case <-ctx.Done():
			return zero, signed.Signer{}, nil, nil, h.refuse(ExitDenied, "timeout", "nobody approved request %s within %s", h.id, time.Duration(h.settings.ApprovalTimeout))
		case <-term:
			return zero, signed.Signer{}, nil, nil, h.refuse(ExitDenied, "signal", "request %s was withdrawn (SIGTERM) before a decision", h.id)
		case <-tick.C:
		}
	}
}

// refuseQuiet says why but audits nothing more (already recorded).
func (h *helper) refuseQuiet(code int, format string, args ...any) int {
	h.say(format, args...)
	return code
}

// check verifies one candidate decision: canonical, for this host and
// these request bytes, unexpired, signed (namespace, algorithm, flags) by a
// key in today's allowed signers. A valid deny returns signed.ErrDenied.
func (h *helper) check(c rootside.Candidate, reqBytes []byte) (signed.Decision, signed.Signer, error) {
	d, err := signed.ParseDecision(c.Decision)
	if err != nil {
		return d, signed.Signer{}, err
	}
	signers, err := h.loadSigners()
	if err != nil {
		return d, signed.Signer{}, fmt.Errorf("allowed signers: %w", err)
	}
	signer, err := signed.Verify(signers, c.Decision, c.Sig)
	if err != nil {
		return d, signed.Signer{}, err
	}
	if err := d.Check(h.settings.InstallID, reqBytes, h.now()); err != nil {
		return d, signer, err
	}
	if !d.Scope.Once && len(h.req.Staged) > 0 {
		return d, signer, fmt.Errorf("the decision keeps a request with staged inputs, which cannot be kept")
	}
	return d, signer, nil
}

// keptApproval finds a live kept approval for key and verifies it again.
func (h *helper) keptApproval(key Key) (signed.Signer, bool) {
	if len(h.req.Staged) > 0 {
		return signed.Signer{}, false
	}
	store := keptStore{path: h.layout.SessionsFile()}
	ks, err := store.load()
	if err != nil {
		return signed.Signer{}, false
	}
	now, boot := h.now(), bootID()
	signers, err := h.loadSigners()
	if err != nil {
		return signed.Signer{}, false
	}
	for _, k := range ks {
		if !k.Key.equal(key) || !k.live(now, boot) {
			continue
		}
		signer, err := signed.Verify(signers, k.Decision, k.Sig)
		if err != nil {
			continue // its key was removed: revoked
		}
		d, err := signed.ParseDecision(k.Decision)
		if err != nil || d.Scope.Once || d.InstallID != h.settings.InstallID || !d.Approve {
			continue
		}
		if err := store.update(now, boot, func(ks []Kept) []Kept {
			for i := range ks {
				if ks[i].Key.equal(key) {
					ks[i].LastUse = now.UTC()
				}
			}
			return ks
		}); err != nil {
			return signed.Signer{}, false
		}
		return signer, true
	}
	return signed.Signer{}, false
}

// keep stores an approval the approver kept for idle.
func (h *helper) keep(key Key, reqBytes, decBytes, sig []byte, idle time.Duration) {
	now, boot := h.now(), bootID()
	err := keptStore{path: h.layout.SessionsFile()}.update(now, boot, func(ks []Kept) []Kept {
		ks = append(ks[:0:0], ks...)
		out := ks[:0]
		for _, k := range ks {
			if !k.Key.equal(key) {
				out = append(out, k)
			}
		}
		return append(out, Kept{Key: key, Request: reqBytes, Decision: decBytes, Sig: sig, BootID: boot, Idle: Duration(idle), LastUse: now.UTC()})
	})
	if err != nil {
		h.say("warning: the kept approval was not stored: %v", err)
	}
}

// riskOf names the policy's class for the rule that allowed a command.
func riskOf(rule string) string {
	switch {
	case strings.HasPrefix(rule, "allow_exact"):
		return "named exactly in allow_exact"
	case strings.HasPrefix(rule, "allow["):
		return "allowed by a pattern"
	case strings.HasPrefix(rule, "allow (no allow list)"):
		return "open policy: any command the built-in rules do not refuse"
	}
	return rule
}

// packageFacts names the Debian package owning path and whether the file's
// MD5 matches the package's manifest. dpkg-query runs by its absolute path
// with a fixed environment; on a merged-/usr system dpkg may know the file
// by its /bin or /sbin name.
func packageFacts(path string) (pkg, manifest string) {
	names := []string{path}
	if rest, ok := strings.CutPrefix(path, "/usr"); ok && (strings.HasPrefix(rest, "/bin/") || strings.HasPrefix(rest, "/sbin/") || strings.HasPrefix(rest, "/lib")) {
		names = append(names, rest)
	}
	var out []byte
	var owned string
	for _, n := range names {
		cmd := exec.Command("/usr/bin/dpkg-query", "-S", n)
		cmd.Env = []string{"PATH=" + safePath, "LC_ALL=C"}
		if o, err := cmd.Output(); err == nil {
			out, owned = o, n
			break
		}
	}
	if out == nil {
		return "", "not from a package dpkg knows"
	}
	pkg, _, _ = strings.Cut(strings.TrimSpace(strings.Split(string(out), "\n")[0]), ":")
	pkg = strings.TrimSpace(pkg)
	var sums []byte
	for _, f := range []string{pkg + ".md5sums", pkg + ":amd64.md5sums", pkg + ":arm64.md5sums"} {
		if b, err := os.ReadFile("/var/lib/dpkg/info/" + f); err == nil {
			sums = b
			break
		}
	}
	if sums == nil {
		return pkg, "no manifest to compare with"
	}
	f, err := os.Open(path)
	if err != nil {
		return pkg, err.Error()
	}
	defer f.Close()
	h := md5.New()
	io.Copy(h, f)
	sum := hex.EncodeToString(h.Sum(nil))
	for _, line := range strings.Split(string(sums), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 2 && ("/"+fields[1] == owned || "/"+fields[1] == path) {
			if fields[0] == sum {
				return pkg, "matches the package manifest"
			}
			return pkg, "DIFFERS from the package manifest"
		}
	}
	return pkg, "not listed in the package manifest"
}

// notify runs the configured notifier as its unprivileged account with the
// request id and the helper's facts (never the agent's words) as JSON on
// standard input, bounded in time and in rate.
func (h *helper) notify(f rootside.Facts) {
	if len(h.settings.Notifier) == 0 {
		return
	}
	// At most one notification per notifyEvery: a later one waits for the
	// window to pass (the request waits anyway), so a decoy request cannot
	// hide the next one.
	stamp := h.layout.StateDir() + "/notify.last"
	for {
		fi, err := os.Stat(stamp)
		if err != nil || time.Since(fi.ModTime()) >= notifyEvery {
			break
		}
		time.Sleep(notifyEvery - time.Since(fi.ModTime()))
	}
	os.WriteFile(stamp, nil, 0o600)
	os.Chtimes(stamp, time.Now(), time.Now())
	name := h.settings.NotifierUser
	if name == "" {
		name = "nobody"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if uid == 0 {
		return
	}
	timeout := time.Duration(h.settings.NotifierTimeout)
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := timeoutContext(timeout)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"request_id": f.ID, "binary": h.req.Binary, "binary_sha256": h.req.BinarySHA256,
		"rule": f.Rule, "risk": f.Risk, "package": f.Package, "manifest": f.Manifest, "staged": f.Staged,
		"expires": h.req.Expires, "approve": "clawwarden approve " + f.ID})
	cmd := exec.CommandContext(ctx, h.settings.Notifier[0], h.settings.Notifier[1:]...)
	cmd.Env = []string{"PATH=" + safePath, "LANG=C.UTF-8"}
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(body)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	err = cmd.Run()
	detail := "enforced: notifier ran"
	if err != nil {
		detail = "enforced: notifier failed: " + err.Error()
	}
	h.audit(audit.Record{Event: "notify", Decision: map[bool]string{true: "ok", false: "failed"}[err == nil], Detail: detail})
}
