package hook

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/clawwarden/clawwarden/internal/unitfile"
)

// launchdDefaultPATH is the PATH launchd gives an agent whose plist sets
// none.
const launchdDefaultPATH = "/usr/bin:/bin:/usr/sbin:/sbin"

var labelPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._-]+$`) })

// LaunchdLabel is the gateway's LaunchAgent label, chosen as OpenClaw
// chooses it: $OPENCLAW_LAUNCHD_LABEL, else ai.openclaw.gateway, or
// ai.openclaw.<profile> for $OPENCLAW_PROFILE.
func LaunchdLabel(getenv func(string) string) (string, error) {
	label := strings.TrimSpace(getenv("OPENCLAW_LAUNCHD_LABEL"))
	if label == "" {
		label = "ai.openclaw.gateway"
		if p := profile(getenv); p != "" {
			label = "ai.openclaw." + p
		}
	}
	if !labelPattern().MatchString(label) {
		return "", fmt.Errorf("launchd label %q is not valid", label)
	}
	return label, nil
}

// PlistEdit describes a LaunchAgent plist before and after [SetPlistPATH].
type PlistEdit struct {
	Data       []byte  // the new plist, in the original's format
	Changed    bool    // Data differs in meaning from the original
	OldPATH    *string // EnvironmentVariables.PATH before, nil if unset
	NewPATH    string  // EnvironmentVariables.PATH after
	HadEnv     bool    // the original had an EnvironmentVariables dictionary
	EnvWrapper string  // OpenClaw's generated environment file the job sources, if any
}

// SetPlistPATH puts dir first on the PATH in the plist's
// EnvironmentVariables, keeping every other key and value. When the plist
// sets no PATH, the new one is dir followed by launchd's default.
func SetPlistPATH(data []byte, dir string) (PlistEdit, error) {
	doc, format, err := unitfile.DecodePlist(data)
	if err != nil {
		return PlistEdit{}, err
	}
	var e PlistEdit
	env, err := envDict(doc)
	if err != nil {
		return PlistEdit{}, err
	}
	e.HadEnv = env != nil
	if env == nil {
		env = map[string]any{}
	}
	base := launchdDefaultPATH
	if v, ok := env["PATH"]; ok {
		s, ok := v.(string)
		if !ok {
			return PlistEdit{}, errors.New("EnvironmentVariables.PATH is not a string")
		}
		e.OldPATH = &s
		base = s
	}
	e.NewPATH = prependPATH(base, dir)
	e.EnvWrapper = envWrapperFile(doc)
	if e.OldPATH != nil && *e.OldPATH == e.NewPATH {
		e.Data = data
		return e, nil
	}
	env["PATH"] = e.NewPATH
	doc["EnvironmentVariables"] = env
	e.Data, err = unitfile.EncodePlist(doc, format)
	e.Changed = true
	return e, err
}

// RestorePlistPATH undoes [SetPlistPATH] on a plist that may have changed
// since: when PATH is still written, it is set back to old (removed when
// old is nil, and the EnvironmentVariables dictionary with it when hadEnv is
// false and it is left empty); otherwise only dir is taken out of PATH.
func RestorePlistPATH(data []byte, dir, written string, old *string, hadEnv bool) ([]byte, bool, error) {
	doc, format, err := unitfile.DecodePlist(data)
	if err != nil {
		return nil, false, err
	}
	env, err := envDict(doc)
	if err != nil {
		return nil, false, err
	}
	cur, ok := env["PATH"].(string)
	if env == nil || !ok {
		return data, false, nil
	}
	switch {
	case cur == written && old != nil:
		env["PATH"] = *old
	case cur == written:
		delete(env, "PATH")
	default:
		stripped := stripPATH(cur, dir)
		if stripped == cur {
			return data, false, nil
		}
		env["PATH"] = stripped
	}
	if len(env) == 0 && !hadEnv {
		delete(doc, "EnvironmentVariables")
	}
	out, err := unitfile.EncodePlist(doc, format)
	return out, true, err
}

// PlistPATH returns EnvironmentVariables.PATH of a plist, and OpenClaw's
// generated environment file when the job sources one.
func PlistPATH(data []byte) (path string, set bool, envWrapper string, err error) {
	doc, _, err := unitfile.DecodePlist(data)
	if err != nil {
		return "", false, "", err
	}
	env, err := envDict(doc)
	if err != nil {
		return "", false, "", err
	}
	path, set = env["PATH"].(string)
	return path, set, envWrapperFile(doc), nil
}

func envDict(doc map[string]any) (map[string]any, error) {
	v, ok := doc["EnvironmentVariables"]
	if !ok {
		return nil, nil
	}
	env, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("EnvironmentVariables is not a dictionary")
	}
	return env, nil
}

// envWrapperFile returns the environment file of OpenClaw's generated
// wrapper when ProgramArguments runs it (/bin/sh <state>/service-env/
// LABEL-env-wrapper.sh <state>/service-env/LABEL.env …). The wrapper sources
// that file after launchd has set EnvironmentVariables, so a PATH exported
// there wins over the plist's.
func envWrapperFile(doc map[string]any) string {
	args, _ := doc["ProgramArguments"].([]any)
	var s []string
	for _, a := range args {
		v, ok := a.(string)
		if !ok {
			return ""
		}
		s = append(s, v)
	}
	if len(s) > 0 && s[0] == "/bin/sh" {
		s = s[1:]
	}
	if len(s) >= 2 && strings.HasSuffix(s[0], "-env-wrapper.sh") && strings.HasSuffix(s[1], ".env") {
		return s[1]
	}
	return ""
}

// envFilePATH reads the PATH an OpenClaw-generated LaunchAgent environment
// file exports (lines `export KEY='value'`).
func envFilePATH(file string) (string, bool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", false, err
	}
	var path string
	var set bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		v, ok := strings.CutPrefix(line, "export PATH=")
		if !ok {
			continue
		}
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
		}
		path, set = v, true
	}
	return path, set, sc.Err()
}

// plistPathFor is the LaunchAgent plist for label in home, where OpenClaw
// writes it.
func plistPathFor(home, label string) string {
	return filepath.Join(home, "Library", "LaunchAgents", label+".plist")
}
