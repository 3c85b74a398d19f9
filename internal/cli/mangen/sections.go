package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// readmeSections are the README sections appended to clawwarden(1), with
// their man page headings: one definition (the README, whose exit table a
// test keeps equal to the code's) for both.
var readmeSections = []struct{ readme, man string }{
	{"Exit status", "EXIT STATUS"},
	{"Environment variables", "ENVIRONMENT"},
	{"Files", "FILES"},
}

// appendSections adds EXIT STATUS, ENVIRONMENT and FILES from the README at
// readme to the root page.
func appendSections(page, readme string) error {
	data, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, s := range readmeSections {
		_, body, ok := strings.Cut(string(data), "\n## "+s.readme+"\n")
		if !ok {
			return fmt.Errorf("%s has no %q section", readme, s.readme)
		}
		body, _, _ = strings.Cut(body, "\n## ")
		fmt.Fprintf(&b, ".SH %s\n", s.man)
		writeRoff(&b, body)
	}
	f, err := os.OpenFile(page, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var (
	codeSpan  = regexp.MustCompile("`([^`]*)`")
	separator = regexp.MustCompile(`^\|(\s*:?-+:?\s*\|)+$`)
)

// writeRoff renders Markdown paragraphs and tables as man(7): a paragraph
// per .PP, a table row per .TP with its first cell as the tag.
func writeRoff(b *strings.Builder, md string) {
	var para []string
	flush := func() {
		if len(para) > 0 {
			fmt.Fprintf(b, ".PP\n%s\n", roffText(strings.Join(para, " ")))
			para = nil
		}
	}
	header := false
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			flush()
			header = false
		case strings.HasPrefix(line, "|"):
			flush()
			if separator.MatchString(line) {
				continue
			}
			if !header { // the first row names the columns
				header = true
				continue
			}
			cells := splitRow(line)
			if len(cells) == 0 {
				continue
			}
			fmt.Fprintf(b, ".TP\n%s\n%s\n", roffText(cells[0]), roffText(strings.Join(cells[1:], "; ")))
		default:
			para = append(para, line)
		}
	}
	flush()
}

// splitRow splits a Markdown table row into its cells; `\|` is a literal
// bar.
func splitRow(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// roffText escapes text for roff and renders `code` in bold.
func roffText(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	s = codeSpan.ReplaceAllString(s, `\fB$1\fR`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
