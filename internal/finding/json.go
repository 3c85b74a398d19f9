package finding

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// WriteJSON writes report, a struct or a pointer to one, as a report file's
// JSON document: one object with one member per line, in field order, with
// encoding/json's member names and omitempty rule. A member that is a slice
// of structs holds one compact element per line, so a report of thousands of
// listeners stays readable and diffable line by line; a struct member is
// indented; any other member is compact. Values are encoded by
// encoding/json without HTML escaping, so decoding the output with
// encoding/json yields report.
func WriteJSON(w io.Writer, report any) error {
	v := reflect.Indirect(reflect.ValueOf(report))
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("finding.WriteJSON: want a struct, got %T", report)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// encode encodes x compactly into buf, without the encoder's final newline.
	encode := func(x any) ([]byte, error) {
		buf.Reset()
		if err := enc.Encode(x); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	bw.WriteString("{")
	n := 0
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, omitEmpty, ok := member(sf)
		if !ok {
			continue
		}
		f := v.Field(i)
		if omitEmpty && isEmpty(f) {
			continue
		}
		if n > 0 {
			bw.WriteString(",")
		}
		n++
		key, err := encode(name)
		if err != nil {
			return err
		}
		bw.WriteString("\n  ")
		bw.Write(key)
		bw.WriteString(": ")
		switch {
		case f.Kind() == reflect.Slice && !f.IsNil() && f.Type().Elem().Kind() == reflect.Struct:
			bw.WriteString("[")
			for j := range f.Len() {
				b, err := encode(addr(f.Index(j)))
				if err != nil {
					return err
				}
				if j > 0 {
					bw.WriteString(",")
				}
				bw.WriteString("\n    ")
				bw.Write(b)
			}
			if f.Len() > 0 {
				bw.WriteString("\n  ")
			}
			bw.WriteString("]")
		case f.Kind() == reflect.Struct:
			enc.SetIndent("  ", "  ")
			b, err := encode(addr(f))
			enc.SetIndent("", "")
			if err != nil {
				return err
			}
			bw.Write(b)
		default:
			b, err := encode(addr(f))
			if err != nil {
				return err
			}
			bw.Write(b)
		}
	}
	if n > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// member returns the JSON name of a struct field and whether it has
// omitempty, or false when encoding/json skips the field. Embedded structs
// are not supported at the top level.
func member(sf reflect.StructField) (name string, omitEmpty, ok bool) {
	if !sf.IsExported() || sf.Anonymous {
		return "", false, false
	}
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = sf.Name
	}
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == "omitempty" {
			omitEmpty = true
		}
	}
	return name, omitEmpty, true
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// addr returns a pointer to v when v is addressable, so that encoding does
// not copy it, and v's value otherwise.
func addr(v reflect.Value) any {
	if v.CanAddr() {
		return v.Addr().Interface()
	}
	return v.Interface()
}
