// Package unitfile owns the formats of the files clawwarden hands to a
// service manager: systemd unit files and drop-ins, launchd property lists,
// and crontab lines. It quotes and checks what is written, and reads back
// what systemd, launchd and cron would see. What goes into the files
// (which unit, which PATH, which interval) is the caller's: package hook
// for the OpenClaw gateway's service, package schedule for the periodic
// cycle.
package unitfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CheckValue refuses what cannot be written on one line of a unit file,
// plist string or crontab: invalid UTF-8 and control characters.
func CheckValue(v string) error {
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

// Quote renders s as one double-quoted unit-file word: backslash and double
// quote escaped C-style and % doubled (systemd.syntax(7) "Quoting",
// systemd.unit(5) "Specifiers"), so spaces, quotes and percent signs arrive
// unchanged. ExecStart= does not expand $ in the executable path and
// Environment= never does, so $ stays as is.
func Quote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	s = strings.ReplaceAll(s, "%", "%%")
	return `"` + s + `"`
}

// Assignment renders NAME=value as one Environment= word ([Quote]).
func Assignment(name, value string) string { return Quote(name + "=" + value) }

// Values returns the raw values of key in section of a unit file, in
// order, with comments skipped and continuation lines joined.
func Values(content, section, key string) []string {
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
	var out []string
	cur := ""
	for _, l := range logical {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			cur = l[1 : len(l)-1]
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if ok && cur == section && strings.TrimSpace(k) == key {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// SplitWords splits a unit-file value into words the way systemd does for
// Environment=: whitespace separates words, single and double quotes
// group, and C-style backslash escapes are decoded.
func SplitWords(s string) ([]string, error) {
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

// ExpandSpecifiers resolves the specifiers an environment value may use
// that clawwarden can know: %% and %h (the user's home). Others are left
// as written.
func ExpandSpecifiers(s, home string) string {
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

// EnvValue returns the last value an Environment= word in values gives
// name, with specifiers expanded against home; set is false when none
// does. An empty Environment= resets the list, as in systemd.
func EnvValue(values []string, name, home string) (value string, set bool, err error) {
	for _, raw := range values {
		if strings.TrimSpace(raw) == "" {
			value, set = "", false
			continue
		}
		words, err := SplitWords(raw)
		if err != nil {
			return "", false, fmt.Errorf("the setting Environment=%s: %w", raw, err)
		}
		for _, w := range words {
			if v, ok := strings.CutPrefix(ExpandSpecifiers(w, home), name+"="); ok {
				value, set = v, true
			}
		}
	}
	return value, set, nil
}
