package finding

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"sync"
)

// WriteJSON writes report, a struct or a pointer to one, as a report file's
// JSON document: one object with one member per line, in field order, with
// encoding/json's member names and omitempty rule. A member that is a slice
// of structs holds one compact element per line, so a report of thousands of
// listeners stays readable and diffable line by line; a struct member is
// indented; any other member is compact. Values are encoded by
// encoding/json without HTML escaping, so decoding the output with
// encoding/json yields report.
//
// Long slices are encoded by several goroutines, a batch at a time, and
// written in order. A destination that can grow (a bytes.Buffer) is grown
// once to the document's estimated size rather than at every doubling.
func WriteJSON(w io.Writer, report any) error {
	v := reflect.Indirect(reflect.ValueOf(report))
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("finding.WriteJSON: want a struct, got %T", report)
	}
	d := &docWriter{bw: bufio.NewWriterSize(w, 64<<10), enc: newEncoder()}
	if g, ok := w.(interface{ Grow(int) }); ok {
		g.Grow(d.estimate(v))
	}
	d.bw.WriteString("{")
	n := 0
	for i := range v.NumField() {
		name, omitEmpty, ok := member(v.Type().Field(i))
		f := v.Field(i)
		if !ok || omitEmpty && isEmpty(f) {
			continue
		}
		if n > 0 {
			d.bw.WriteString(",")
		}
		n++
		if err := d.member(name, f); err != nil {
			return err
		}
	}
	if n > 0 {
		d.bw.WriteString("\n")
	}
	d.bw.WriteString("}\n")
	return d.bw.Flush()
}

// docWriter writes one document.
type docWriter struct {
	bw      *bufio.Writer
	enc     *encoder
	workers []*encoder // for long slices
}

// encoder encodes values compactly into its buffer.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// append encodes x after what the buffer holds, without the encoder's final
// newline.
func (e *encoder) append(x any) error {
	if err := e.enc.Encode(x); err != nil {
		return err
	}
	e.buf.Truncate(e.buf.Len() - 1)
	return nil
}

// value returns x encoded; the bytes are valid until the next use of e.
func (e *encoder) value(x any) ([]byte, error) {
	e.buf.Reset()
	err := e.append(x)
	return e.buf.Bytes(), err
}

// member writes the member name with value f.
func (d *docWriter) member(name string, f reflect.Value) error {
	key, err := d.enc.value(name)
	if err != nil {
		return err
	}
	d.bw.WriteString("\n  ")
	d.bw.Write(key)
	d.bw.WriteString(": ")
	switch {
	case isStructSlice(f):
		return d.elements(f)
	case f.Kind() == reflect.Struct:
		d.enc.enc.SetIndent("  ", "  ")
		b, err := d.enc.value(addr(f))
		d.enc.enc.SetIndent("", "")
		if err != nil {
			return err
		}
		d.bw.Write(b)
	default:
		b, err := d.enc.value(addr(f))
		if err != nil {
			return err
		}
		d.bw.Write(b)
	}
	return nil
}

// Elements of long slices are encoded in batches of batchPerWorker elements
// per goroutine.
const (
	batchPerWorker = 64
	maxWorkers     = 4
)

// elements writes the slice f, one element per line.
func (d *docWriter) elements(f reflect.Value) error {
	n := f.Len()
	if d.workers == nil {
		d.workers = []*encoder{d.enc}
		for range min(runtime.GOMAXPROCS(0), maxWorkers) - 1 {
			d.workers = append(d.workers, newEncoder())
		}
	}
	d.bw.WriteString("[")
	batch := batchPerWorker * len(d.workers)
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		if err := d.encodeBatch(f, lo, hi); err != nil {
			return err
		}
		for _, e := range d.workers {
			d.bw.Write(e.buf.Bytes())
		}
	}
	if n > 0 {
		d.bw.WriteString("\n  ")
	}
	d.bw.WriteString("]")
	return nil
}

// encodeBatch encodes elements lo to hi of f, each after its separator,
// split among the workers in order: the first worker's buffer holds the
// first part.
func (d *docWriter) encodeBatch(f reflect.Value, lo, hi int) error {
	encode := func(e *encoder, a, b int) error {
		e.buf.Reset()
		for i := a; i < b; i++ {
			if i > 0 {
				e.buf.WriteString(",")
			}
			e.buf.WriteString("\n    ")
			if err := e.append(addr(f.Index(i))); err != nil {
				return err
			}
		}
		return nil
	}
	if hi-lo <= batchPerWorker {
		for _, e := range d.workers[1:] {
			e.buf.Reset()
		}
		return encode(d.workers[0], lo, hi)
	}
	per := (hi - lo + len(d.workers) - 1) / len(d.workers)
	errs := make([]error, len(d.workers))
	var wg sync.WaitGroup
	for w, e := range d.workers {
		a, b := min(lo+w*per, hi), min(lo+(w+1)*per, hi)
		wg.Go(func() { errs[w] = encode(e, a, b) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// estimate returns the approximate size of v's document: the long slices
// from their first elements, the rest from a fixed allowance.
func (d *docWriter) estimate(v reflect.Value) int {
	size := 4 << 10
	for i := range v.NumField() {
		f := v.Field(i)
		if _, _, ok := member(v.Type().Field(i)); !ok || !isStructSlice(f) || f.Len() == 0 {
			continue
		}
		k := min(f.Len(), 32)
		d.enc.buf.Reset()
		for j := range k {
			if d.enc.append(addr(f.Index(j))) != nil {
				return size
			}
		}
		size += (d.enc.buf.Len()/k + 6) * f.Len() * 21 / 20
	}
	return size
}

func isStructSlice(f reflect.Value) bool {
	return f.Kind() == reflect.Slice && !f.IsNil() && f.Type().Elem().Kind() == reflect.Struct
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
