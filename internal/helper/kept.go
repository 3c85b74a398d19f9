package helper

import (
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Kept is an approval an approver kept for this exact request (--for): it
// holds the signed decision, so every reuse verifies the signature against
// the allowed signers of that moment (removing a key revokes it), and the
// boot it was given in (a reboot ends it).
type Kept struct {
	Key      Key       `json:"key"`
	Request  []byte    `json:"request"`  // the canonical request bytes the decision names
	Decision []byte    `json:"decision"` // the decision's canonical bytes
	Sig      []byte    `json:"sig"`
	BootID   string    `json:"boot_id"`
	Idle     Duration  `json:"idle"`
	LastUse  time.Time `json:"last_use"`
}

// Key is what a kept approval is for: the same key, and only it, reuses it.
type Key struct {
	UID          int      `json:"uid"`
	Argv         []string `json:"argv"`
	Binary       string   `json:"binary"`
	BinarySHA256 string   `json:"binary_sha256"`
	Cwd          string   `json:"cwd"`
	Task         string   `json:"task,omitempty"`
}

func (k Key) equal(o Key) bool {
	return k.UID == o.UID && k.Binary == o.Binary && k.BinarySHA256 == o.BinarySHA256 && k.Cwd == o.Cwd &&
		k.Task == o.Task && slices.Equal(k.Argv, o.Argv)
}

// Duration is a time.Duration in JSON as a string.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// keptStore is the kept approvals file, state/sessions.json (root, 0600).
type keptStore struct{ path string }

func (s keptStore) load() ([]Kept, error) {
	data, err := safefile.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ks []Kept
	if err := json.Unmarshal(data, &ks); err != nil {
		return nil, err
	}
	return ks, nil
}

// update runs a locked read-modify-write; expired entries are dropped.
func (s keptStore) update(now time.Time, boot string, fn func([]Kept) []Kept) error {
	return safefile.Update(s.path, func(old []byte) ([]byte, error) {
		var ks []Kept
		if len(old) > 0 {
			if err := json.Unmarshal(old, &ks); err != nil {
				ks = nil // a corrupt file keeps nothing: fail closed
			}
		}
		ks = slices.DeleteFunc(ks, func(k Kept) bool { return !k.live(now, boot) })
		ks = fn(ks)
		return json.MarshalIndent(ks, "", "  ")
	})
}

// live reports whether k may still be used at now in this boot.
func (k Kept) live(now time.Time, boot string) bool {
	return k.BootID == boot && boot != "" && !k.LastUse.After(now) && now.Sub(k.LastUse) <= time.Duration(k.Idle)
}
