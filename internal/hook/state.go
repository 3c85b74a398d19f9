package hook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// StateFile is the name of the record of what `hook install` changed, in
// the security directory.
const StateFile = "hook-state.json"

// stateVersion is the format of [State]. Fields added since (SudoeditShim,
// Plugin) are optional, so a file written before them still reads as version 1.
const stateVersion = 1

// State records what `hook install` changed, so that `hook uninstall` can
// restore exactly that and nothing else, and `hook status` can tell a layer
// clawwarden made from one it found.
type State struct {
	Version      int             `json:"version"`
	InstalledAt  time.Time       `json:"installed_at"`
	Binary       string          `json:"binary"` // the clawwarden binary the shims point at
	Shim         *ShimRecord     `json:"shim,omitempty"`
	SudoeditShim *ShimRecord     `json:"sudoedit_shim,omitempty"` // absent in files from before the sudoedit shim
	PathPrepend  []PrependRecord `json:"path_prepend,omitempty"`
	DropIn       *DropInRecord   `json:"systemd_drop_in,omitempty"`
	Plist        *PlistRecord    `json:"launchd_plist,omitempty"`
	Plugin       *PluginRecord   `json:"openclaw_plugin,omitempty"` // absent in files from before the plugin
}

// ShimRecord is one shim symlink, sudo or sudoedit.
type ShimRecord struct {
	Path   string `json:"path"`
	Target string `json:"target"`
	// BinDirCreated says install created the bin directory; only the sudo
	// shim's record sets it, and uninstall removes the directory (when
	// empty) after removing that shim.
	BinDirCreated bool `json:"bin_dir_created"`
}

// PrependRecord is one change to an OpenClaw pathPrepend list.
type PrependRecord struct {
	Key string `json:"key"` // tools.exec.pathPrepend or agents.entries.ID.tools.exec.pathPrepend
	// Previous is the value before install, or null when PreviousUnset: as
	// written in openclaw.json when Exact, else as `openclaw config get
	// --json` returned it (the two differ where OpenClaw expands "~" or
	// substitutes ${VAR}).
	Previous      json.RawMessage `json:"previous"`
	PreviousUnset bool            `json:"previous_unset"`
	Exact         bool            `json:"exact"`
	ToolsExisted  bool            `json:"tools_existed"`      // the "tools" object around Key existed
	ExecExisted   bool            `json:"tools_exec_existed"` // the "tools.exec" object around Key existed
	Set           []string        `json:"set"`                // what install wrote
}

// DropInRecord is the systemd user drop-in that sets the gateway's PATH.
type DropInRecord struct {
	Unit       string    `json:"unit"`
	Path       string    `json:"path"`
	SHA256     string    `json:"sha256"` // of the content install wrote
	DirCreated bool      `json:"dir_created"`
	WrittenAt  time.Time `json:"written_at"`
}

// PlistRecord is the edit of the gateway's LaunchAgent plist.
type PlistRecord struct {
	Label          string    `json:"label"`
	Path           string    `json:"path"`
	Backup         string    `json:"backup"`          // copy of the original
	OriginalSHA256 string    `json:"original_sha256"` // of the original bytes
	WrittenSHA256  string    `json:"written_sha256"`  // of what install wrote
	Mode           uint32    `json:"mode"`            // the original permission bits
	OldPATH        *string   `json:"old_path"`        // EnvironmentVariables.PATH before, null if unset
	HadEnv         bool      `json:"had_environment_variables"`
	WrittenPATH    string    `json:"written_path"` // EnvironmentVariables.PATH install wrote
	WrittenAt      time.Time `json:"written_at"`
}

// empty reports whether the state records no change at all.
func (s *State) empty() bool {
	return s.Shim == nil && s.SudoeditShim == nil && len(s.PathPrepend) == 0 && s.DropIn == nil && s.Plist == nil && s.Plugin == nil
}

// loadState reads the state file; a missing file is an empty state. A file
// that does not parse is an error wrapping [safefile.ErrInvalid].
func loadState(path string) (*State, bool, error) {
	data, err := safefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Version: stateVersion}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, false, fmt.Errorf("%s: %w: %v", path, safefile.ErrInvalid, err)
	}
	if s.Version != stateVersion {
		return nil, false, fmt.Errorf("%s: %w: unknown version %d", path, safefile.ErrInvalid, s.Version)
	}
	return &s, true, nil
}

// saveState writes the state file, or removes it when nothing is recorded.
func saveState(path string, s *State) error {
	if s.empty() {
		if _, err := safefile.Check(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		return os.Remove(path)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(path, append(data, '\n'))
}
