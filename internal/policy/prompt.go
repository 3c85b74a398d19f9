package policy

import (
	"encoding/json"
	"errors"
	"io/fs"
	"slices"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// PromptPolicy is the prompt policy (prompt-policy.json).
type PromptPolicy struct {
	// RequireConfirmationForUntrusted makes the guard ask a person again,
	// ignoring earlier approvals, while OPENCLAW_UNTRUSTED_SOURCE=1 says the
	// agent is acting on untrusted content. It defaults to true.
	RequireConfirmationForUntrusted bool `json:"require_confirmation_for_untrusted"`
}

// LoadPrompt reads the prompt policy at path through safefile. The bool
// reports whether the file existed: a missing file gives the default
// {RequireConfirmationForUntrusted: true}, false and no error. Malformed
// content gives an error wrapping [safefile.ErrInvalid]; an unsafe file one
// wrapping [safefile.ErrUnsafe].
func LoadPrompt(path string) (PromptPolicy, bool, error) {
	def := PromptPolicy{RequireConfirmationForUntrusted: true}
	data, err := safefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return def, false, nil
	}
	if err != nil {
		return def, false, err
	}
	pp, err := parsePrompt(data, path)
	return pp, true, err
}

// parsePrompt parses a prompt policy. A missing key keeps its default, like
// the original's dict.get; unknown keys are refused as likely typos.
func parsePrompt(data []byte, source string) (PromptPolicy, error) {
	pp := PromptPolicy{RequireConfirmationForUntrusted: true}
	top, err := object(data)
	if err != nil {
		return pp, invalidf("%s: %v", source, jsonError(data, err))
	}
	if top == nil {
		return pp, invalidf("%s: want a JSON object such as {\"require_confirmation_for_untrusted\": true}", source)
	}
	const key = "require_confirmation_for_untrusted"
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		raw := top[k]
		switch k {
		case key:
			if kindOf(raw) != "boolean" {
				return pp, invalidf("%s: %q must be true or false, not %s", source, key, kindOf(raw))
			}
			json.Unmarshal(raw, &pp.RequireConfirmationForUntrusted) // a boolean token always decodes
		case "comment", "_comment":
			if kindOf(raw) != "string" {
				return pp, invalidf("%s: %q must be a string, not %s", source, k, kindOf(raw))
			}
		case "version":
			if kd := kindOf(raw); kd != "string" && kd != "number" {
				return pp, invalidf("%s: \"version\" must be a string or a number, not %s", source, kd)
			}
		default:
			return pp, invalidf("%s: unknown key %q (known keys: %s, comment, _comment, version)", source, k, key)
		}
	}
	return pp, nil
}
