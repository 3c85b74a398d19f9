package hook

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template"

	"github.com/clawwarden/clawwarden/internal/unitfile"
)

// DropInName is the file name of clawwarden's drop-in in the gateway unit's
// ".service.d" directory. systemd applies drop-ins in file-name order and a
// later Environment=PATH= wins, so the name sorts after the usual
// "override.conf" that `systemctl --user edit` writes.
const DropInName = "zz-clawwarden-path.conf"

// dropInMarker starts every drop-in clawwarden writes; a file without it is
// not ours and is never replaced or removed.
const dropInMarker = "# Written by clawwarden"

// systemdDefaultPATH is systemd's built-in PATH for services when neither the
// unit nor a drop-in sets one.
const systemdDefaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// dropInTemplate is parsed on first use, not at program start: every
// clawwarden invocation (the sudo shim included) would pay for it.
var dropInTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("drop-in").Funcs(template.FuncMap{
		"assignment": unitfile.Assignment,
	}).Parse(dropInText))
})

const dropInText = `# Written by clawwarden ("clawwarden hook install"): puts the sudo shim's
# directory first on the OpenClaw gateway's PATH, so the agent's "sudo" is
# clawwarden's approval-first shim, and turns off OpenClaw's exec shell
# snapshots, which would load an alias or function named sudo from the
# account's shell startup files before every exec. "clawwarden hook
# uninstall" removes this file. If you edit it, clawwarden leaves it alone.
[Service]
Environment={{assignment "PATH" .PATH}}
Environment={{assignment "OPENCLAW_EXEC_SHELL_SNAPSHOT" "0"}}
`

// RenderDropIn returns the drop-in that sets the gateway's PATH to pathValue.
func RenderDropIn(pathValue string) ([]byte, error) {
	if err := unitfile.CheckValue(pathValue); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := dropInTemplate().Execute(&b, struct{ PATH string }{pathValue}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// unitName checks a systemd unit name taken from the environment.
var unitName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9@._:-]+\.service$`) })

// SystemdUnit is the gateway's systemd user unit, named as OpenClaw names it:
// $OPENCLAW_SYSTEMD_UNIT, else openclaw-gateway.service, or
// openclaw-gateway-<profile>.service for $OPENCLAW_PROFILE.
func SystemdUnit(getenv func(string) string) (string, error) {
	name := strings.TrimSpace(getenv("OPENCLAW_SYSTEMD_UNIT"))
	if name == "" {
		name = "openclaw-gateway"
		if p := profile(getenv); p != "" {
			name += "-" + p
		}
	}
	if !strings.HasSuffix(name, ".service") {
		name += ".service"
	}
	if !unitName().MatchString(name) {
		return "", fmt.Errorf("systemd unit name %q is not valid", name)
	}
	return name, nil
}

// profile is OpenClaw's gateway profile: $OPENCLAW_PROFILE unless empty or
// "default".
func profile(getenv func(string) string) string {
	p := strings.TrimSpace(getenv("OPENCLAW_PROFILE"))
	if strings.EqualFold(p, "default") {
		return ""
	}
	return p
}

// unitPATH returns the PATH that the unit file and its other drop-ins give
// the service, and whether one of them sets it. Drop-ins are read in
// systemd's order (file name), skipping clawwarden's own.
func unitPATH(unitFile, home string) (string, bool, error) {
	files := []string{unitFile}
	entries, err := os.ReadDir(unitFile + ".d")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".conf") && e.Name() != DropInName {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, n := range names {
		files = append(files, filepath.Join(unitFile+".d", n))
	}
	var values []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", false, err
		}
		vs := unitfile.Values(string(data), "Service", "Environment")
		if _, _, err := unitfile.EnvValue(vs, "PATH", home); err != nil {
			return "", false, fmt.Errorf("%s: %w", f, err)
		}
		values = append(values, vs...)
	}
	return unitfile.EnvValue(values, "PATH", home)
}

// dropInPATH reads the PATH that a clawwarden drop-in sets.
func dropInPATH(content, home string) (string, bool) {
	path, set, err := unitfile.EnvValue(unitfile.Values(content, "Service", "Environment"), "PATH", home)
	if err != nil {
		return "", false
	}
	return path, set
}
