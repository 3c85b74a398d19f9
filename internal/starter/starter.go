// Package starter holds the starting policy files `clawwarden init` writes
// for a person to review: a command policy for an agent host (every entry
// with a comment saying why), the prompt policy, and an egress allowlist
// with the model providers and chat services OpenClaw is configured for.
package starter

import (
	_ "embed"
	"encoding/json"
	"slices"
	"strings"

	"github.com/clawwarden/clawwarden/internal/openclaw"
)

//go:embed command-policy.json
var commandPolicy []byte

//go:embed prompt-policy.json
var promptPolicy []byte

// CommandPolicy returns the starting command-policy.json.
func CommandPolicy() []byte { return slices.Clone(commandPolicy) }

// PromptPolicy returns the starting prompt-policy.json.
func PromptPolicy() []byte { return slices.Clone(promptPolicy) }

// providerHosts are the API hosts of model providers OpenClaw talks to.
var providerHosts = map[string][]string{
	"openai":     {"api.openai.com"},
	"anthropic":  {"api.anthropic.com"},
	"google":     {"generativelanguage.googleapis.com"},
	"gemini":     {"generativelanguage.googleapis.com"},
	"openrouter": {"openrouter.ai"},
	"mistral":    {"api.mistral.ai"},
	"groq":       {"api.groq.com"},
	"xai":        {"api.x.ai"},
	"deepseek":   {"api.deepseek.com"},
	"together":   {"api.together.xyz"},
	"perplexity": {"api.perplexity.ai"},
	"cohere":     {"api.cohere.com"},
	"fireworks":  {"api.fireworks.ai"},
	"moonshot":   {"api.moonshot.ai"},
	"minimax":    {"api.minimax.io"},
}

// channelHosts are the hosts of chat services OpenClaw connects to.
var channelHosts = map[string][]string{
	"telegram":   {"api.telegram.org"},
	"discord":    {"discord.com", "gateway.discord.gg"},
	"slack":      {"slack.com", "wss-primary.slack.com"},
	"whatsapp":   {"web.whatsapp.com", "g.whatsapp.net"},
	"signal":     {"chat.signal.org"},
	"googlechat": {"chat.googleapis.com"},
	"msteams":    {"api.botframework.com", "login.microsoftonline.com"},
	"line":       {"api.line.me"},
	"mattermost": {},
	"matrix":     {},
}

// Entry is one egress allowlist entry.
type Entry struct {
	Protocol string `json:"protocol"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Comment  string `json:"comment"`
}

// EgressAllowlist returns allowlist entries (HTTPS on 443) for the model
// providers and chat channels found in cfg, sorted and without duplicates.
// A nil cfg gives an empty list.
func EgressAllowlist(cfg *openclaw.Config) []Entry {
	seen := map[string]bool{}
	var out []Entry
	add := func(host, why string) {
		if seen[host] {
			return
		}
		seen[host] = true
		out = append(out, Entry{Protocol: "tcp", Host: host, Port: 443, Comment: why})
	}
	if cfg == nil {
		return []Entry{}
	}
	for _, p := range providers(cfg) {
		for _, h := range providerHosts[p] {
			add(h, "model provider "+p+" configured in openclaw.json")
		}
	}
	for id := range cfg.Object("channels") {
		if enabled, ok := cfg.Get("channels." + id + ".enabled"); ok && enabled == false {
			continue
		}
		for _, h := range channelHosts[id] {
			add(h, "chat channel "+id+" configured in openclaw.json")
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Host, b.Host) })
	if out == nil {
		out = []Entry{}
	}
	return out
}

// providers lists the provider ids named in cfg: models.providers keys and
// the "provider/model" references of the agents' models.
func providers(cfg *openclaw.Config) []string {
	set := map[string]bool{}
	for id := range cfg.Object("models.providers") {
		set[strings.ToLower(id)] = true
	}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			if p, _, ok := strings.Cut(t, "/"); ok && providerHosts[strings.ToLower(p)] != nil {
				set[strings.ToLower(p)] = true
			}
		case map[string]any:
			for k, x := range t {
				if k == "model" || k == "primary" || k == "fallbacks" || k == "defaults" || k == "list" || k == "models" || k == "entries" {
					walk(x)
				} else if _, ok := x.(map[string]any); ok {
					walk(x)
				}
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	if v, ok := cfg.Get("agents"); ok {
		walk(v)
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// MarshalEgress renders entries as egress_allowlist.json.
func MarshalEgress(entries []Entry) []byte {
	data, _ := json.MarshalIndent(entries, "", "  ")
	return append(data, '\n')
}
