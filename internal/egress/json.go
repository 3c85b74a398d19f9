package egress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// WriteJSON writes r as the report file's JSON document, laid out like the
// port monitor's: one object whose connections and findings arrays hold one
// compact element per line. Decoding the output with encoding/json yields r.
func (r *Report) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// value encodes v compactly, without the encoder's final newline.
	value := func(v any) ([]byte, error) {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	first := true
	field := func(key string, v any) error {
		b, err := value(v)
		if err != nil {
			return err
		}
		if !first {
			bw.WriteString(",\n")
		}
		first = false
		bw.WriteString(`  "` + key + `": `)
		_, err = bw.Write(b)
		return err
	}
	array := func(key string, n int, elem func(i int) any) error {
		if !first {
			bw.WriteString(",\n")
		}
		bw.WriteString(`  "` + key + `": [`)
		for i := 0; i < n; i++ {
			b, err := value(elem(i))
			if err != nil {
				return err
			}
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n    ")
			bw.Write(b)
		}
		if n > 0 {
			bw.WriteString("\n  ")
		}
		_, err := bw.WriteString("]")
		return err
	}
	bw.WriteString("{\n")
	for _, kv := range []struct {
		key       string
		v         any
		omitEmpty bool
	}{
		{"generated_at", r.GeneratedAt, false},
		{"host", r.Host, false},
		{"scanner", r.Scanner, false},
		{"complete_attribution", r.CompleteAttribution, false},
		{"attribution_note", r.AttributionNote, true},
		{"allowlist_file", r.AllowlistFile, false},
		{"allowlist_missing", r.AllowlistMissing, false},
		{"hint", r.Hint, true},
	} {
		if kv.omitEmpty && kv.v == "" {
			continue
		}
		if err := field(kv.key, kv.v); err != nil {
			return err
		}
	}
	if len(r.ResolutionErrors) > 0 {
		if err := field("resolution_errors", r.ResolutionErrors); err != nil {
			return err
		}
	}
	if err := array("connections", len(r.Connections), func(i int) any { return &r.Connections[i] }); err != nil {
		return err
	}
	if err := array("findings", len(r.Findings), func(i int) any { return &r.Findings[i] }); err != nil {
		return err
	}
	summary, err := json.MarshalIndent(r.Summary, "  ", "  ")
	if err != nil {
		return err
	}
	bw.WriteString(",\n  \"summary\": ")
	bw.Write(summary)
	bw.WriteString("\n}\n")
	return bw.Flush()
}
