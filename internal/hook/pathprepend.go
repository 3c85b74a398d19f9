package hook

import (
	"path/filepath"
	"slices"
	"strings"
)

// sameDir reports whether the pathPrepend entry names dir, the way OpenClaw
// reads the entry: trimmed, with a leading "~" expanded to home.
func sameDir(entry, dir, home string) bool {
	e := strings.TrimSpace(entry)
	switch {
	case e == "~":
		e = home
	case strings.HasPrefix(e, "~/"):
		e = filepath.Join(home, e[2:])
	}
	if e == "" {
		return false
	}
	return filepath.Clean(e) == filepath.Clean(dir)
}

// Prepend returns entries with dir first and every other entry that names
// dir removed; the remaining entries keep their order.
func Prepend(entries []string, dir, home string) []string {
	out := []string{dir}
	for _, e := range entries {
		if !sameDir(e, dir, home) {
			out = append(out, e)
		}
	}
	return out
}

// Without returns entries with every entry that names dir removed.
func Without(entries []string, dir, home string) []string {
	out := []string{}
	for _, e := range entries {
		if !sameDir(e, dir, home) {
			out = append(out, e)
		}
	}
	return out
}

// IsFirst reports whether entries start with dir and name it only once.
func IsFirst(entries []string, dir, home string) bool {
	return len(entries) > 0 && sameDir(entries[0], dir, home) &&
		!slices.ContainsFunc(entries[1:], func(e string) bool { return sameDir(e, dir, home) })
}

// prependPATH puts dir first in a colon-separated PATH value, dropping other
// copies of it and empty elements.
func prependPATH(pathList, dir string) string {
	parts := []string{dir}
	for _, p := range strings.Split(pathList, ":") {
		if p != "" && filepath.Clean(p) != filepath.Clean(dir) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ":")
}

// stripPATH removes dir from a colon-separated PATH value.
func stripPATH(pathList, dir string) string {
	var parts []string
	for _, p := range strings.Split(pathList, ":") {
		if p != "" && filepath.Clean(p) != filepath.Clean(dir) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ":")
}

// firstInPATH reports whether dir is the first element of a PATH value.
func firstInPATH(pathList, dir string) bool {
	first, _, _ := strings.Cut(pathList, ":")
	return first != "" && filepath.Clean(first) == filepath.Clean(dir)
}
