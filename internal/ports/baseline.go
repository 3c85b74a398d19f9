package ports

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

// ErrBaselineExists is returned by [WriteBaseline] when the baseline exists
// and overwriting was not asked for.
var ErrBaselineExists = errors.New("approved ports baseline already exists")

// ReviewPrefix starts the comment of baseline entries a person must look at:
// public binds, insecure services and unknown processes.
const ReviewPrefix = "REVIEW: "

// Baseline turns the current listeners into approved entries for a person to
// review and prune: one entry per port, protocol and command, sorted. Entries
// for public binds, insecure services or unknown processes carry a comment
// starting with [ReviewPrefix] that says why; the others say where the
// service was seen.
func Baseline(listeners []sockets.Socket) []Rule {
	type key struct {
		port    uint16
		proto   string
		command string
	}
	type group struct {
		binds   []string
		public  []string
		unknown bool
	}
	groups := map[key]*group{}
	var keys []key
	for _, s := range listeners {
		if !s.Listening() {
			continue
		}
		k := key{s.Local.Port(), s.Proto, s.Process}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			keys = append(keys, k)
		}
		a := s.Local.Addr().String()
		if !slices.Contains(g.binds, a) {
			g.binds = append(g.binds, a)
			if Public(s.Local.Addr()) {
				g.public = append(g.public, a)
			}
		}
		if !s.Attributed() {
			g.unknown = true
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.proto, b.proto), cmp.Compare(a.command, b.command))
	})
	rules := make([]Rule, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		slices.Sort(g.binds)
		slices.Sort(g.public)
		var review []string
		if len(g.public) > 0 {
			review = append(review, "public bind on "+strings.Join(g.public, ", "))
			if k.proto == sockets.TCP && (k.port == GatewayPort || strings.Contains(strings.ToLower(k.command), "openclaw")) {
				review = append(review, "OpenClaw gateway: prefer `openclaw config set gateway.bind loopback`")
			}
		}
		if svc, ok := Insecure(k.proto, k.port, len(g.public) > 0); ok {
			review = append(review, fmt.Sprintf("insecure: %s — use %s", svc.Name, svc.Alternative))
		}
		if g.unknown {
			review = append(review, "process unknown (run as root to see it); this entry approves any process on the port")
		}
		r := Rule{Port: int(k.port), Protocol: k.proto, Command: k.command}
		if len(review) > 0 {
			r.Comment = ReviewPrefix + strings.Join(review, "; ")
		} else {
			r.Comment = "observed on " + strings.Join(g.binds, ", ")
		}
		rules = append(rules, r)
	}
	return rules
}

// WriteBaseline writes rules to path through safefile, holding path's lock.
// An existing file is replaced only when force is set, and then its old
// content is first saved to "<path>.bak-<UTC timestamp>", whose path is
// returned. Without force an existing file yields an error wrapping
// [ErrBaselineExists].
func WriteBaseline(path string, rules []Rule, force bool, now time.Time) (backup string, err error) {
	data, err := MarshalRules(rules)
	if err != nil {
		return "", err
	}
	lock, err := safefile.LockFor(path)
	if err != nil {
		return "", err
	}
	defer lock.Unlock()
	old, err := safefile.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", err
	case !force:
		return "", fmt.Errorf("%s: %w", path, ErrBaselineExists)
	default:
		stamp := now.UTC().Format("20060102T150405Z")
		backup = path + ".bak-" + stamp
		for i := 1; ; i++ {
			if _, err := os.Lstat(backup); errors.Is(err, fs.ErrNotExist) {
				break
			}
			backup = fmt.Sprintf("%s.bak-%s-%d", path, stamp, i)
		}
		if err := safefile.WriteFile(backup, old); err != nil {
			return "", fmt.Errorf("back up %s: %w", path, err)
		}
	}
	if err := safefile.WriteFile(path, data); err != nil {
		return backup, err
	}
	return backup, nil
}
