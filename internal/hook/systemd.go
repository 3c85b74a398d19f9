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
	"strconv"
	"strings"
	"sync"
	"text/template"
	"unicode/utf8"
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

var dropInTemplate = template.Must(template.New("drop-in").Funcs(template.FuncMap{
	"assignment": envAssignment,
}).Parse(`# Written by clawwarden ("clawwarden hook install"): puts the sudo shim's
# directory first on the OpenClaw gateway's PATH, so the agent's "sudo" is
# clawwarden's approval-first shim, and turns off OpenClaw's exec shell
# snapshots, which would load an alias or function named sudo from the
# account's shell startup files before every exec. "clawwarden hook
# uninstall" removes this file. If you edit it, clawwarden leaves it alone.
[Service]
Environment={{assignment "PATH" .PATH}}
Environment={{assignment "OPENCLAW_EXEC_SHELL_SNAPSHOT" "0"}}
`))

// RenderDropIn returns the drop-in that sets the gateway's PATH to pathValue.
func RenderDropIn(pathValue string) ([]byte, error) {
	if err := checkUnitValue(pathValue); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := dropInTemplate.Execute(&b, struct{ PATH string }{pathValue}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// checkUnitValue refuses what cannot be written on one unit-file line.
func checkUnitValue(v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("value %q is not valid UTF-8", v)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("value %q contains a control character", v)
		}
	}
	return nil
}

// envAssignment renders NAME=value as one Environment= word: in double
// quotes, with backslash and double quote escaped C-style and % doubled
// (systemd.syntax(7) "Quoting", systemd.unit(5) "Specifiers"), so spaces,
// quotes and percent signs in the value arrive unchanged.
func envAssignment(name, value string) string {
	s := name + "=" + value
	s = strings.ReplaceAll(s, "%", "%%")
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + s + `"`
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
	var value string
	var set bool
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", false, err
		}
		for _, raw := range serviceSettings(string(data), "Environment") {
			if strings.TrimSpace(raw) == "" { // Environment= resets the list
				value, set = "", false
				continue
			}
			words, err := splitUnitWords(raw)
			if err != nil {
				return "", false, fmt.Errorf("%s: Environment=%s: %w", f, raw, err)
			}
			for _, w := range words {
				if v, ok := strings.CutPrefix(expandSpecifiers(w, home), "PATH="); ok {
					value, set = v, true
				}
			}
		}
	}
	return value, set, nil
}

// serviceSettings returns the raw values of key in the [Service] section of
// a unit file, in order, joining continuation lines.
func serviceSettings(content, key string) []string {
	var out []string
	section := ""
	var logical []string
	cont := ""
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if cont == "" && (strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		logical = append(logical, cont+line)
		cont = ""
	}
	if cont != "" {
		logical = append(logical, cont)
	}
	for _, l := range logical {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			section = l[1 : len(l)-1]
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if ok && section == "Service" && strings.TrimSpace(k) == key {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// splitUnitWords splits a unit-file value into words the way systemd does
// for Environment=: whitespace separates words, single and double quotes
// group, and C-style backslash escapes are decoded.
func splitUnitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\':
			if i+1 >= len(rs) {
				return nil, errors.New("trailing backslash")
			}
			n, adv, err := unescape(rs[i+1:])
			if err != nil {
				return nil, err
			}
			cur.WriteString(n)
			i += adv
			inWord = true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote = r
			inWord = true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// unescape decodes the C-style escape at the start of rs (after the
// backslash) and returns it with the number of runes consumed.
func unescape(rs []rune) (string, int, error) {
	switch rs[0] {
	case 'a':
		return "\a", 1, nil
	case 'b':
		return "\b", 1, nil
	case 'f':
		return "\f", 1, nil
	case 'n':
		return "\n", 1, nil
	case 'r':
		return "\r", 1, nil
	case 't':
		return "\t", 1, nil
	case 'v':
		return "\v", 1, nil
	case 's':
		return " ", 1, nil
	case '\\', '"', '\'':
		return string(rs[0]), 1, nil
	case 'x':
		if len(rs) >= 3 {
			if n, err := strconv.ParseUint(string(rs[1:3]), 16, 8); err == nil {
				return string([]byte{byte(n)}), 3, nil
			}
		}
	case '0', '1', '2', '3':
		if len(rs) >= 3 {
			if n, err := strconv.ParseUint(string(rs[0:3]), 8, 8); err == nil {
				return string([]byte{byte(n)}), 3, nil
			}
		}
	}
	return "", 0, fmt.Errorf("unsupported escape \\%c", rs[0])
}

// expandSpecifiers resolves the specifiers a PATH value may use: %% and %h
// (the user's home). Others are left as written.
func expandSpecifiers(s, home string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) {
			switch s[i+1] {
			case '%':
				b.WriteByte('%')
				i++
				continue
			case 'h':
				b.WriteString(home)
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// dropInPATH reads the PATH that a clawwarden drop-in sets.
func dropInPATH(content, home string) (string, bool) {
	vals := serviceSettings(content, "Environment")
	var path string
	var set bool
	for _, raw := range vals {
		words, err := splitUnitWords(raw)
		if err != nil {
			return "", false
		}
		for _, w := range words {
			if v, ok := strings.CutPrefix(expandSpecifiers(w, home), "PATH="); ok {
				path, set = v, true
			}
		}
	}
	return path, set
}
