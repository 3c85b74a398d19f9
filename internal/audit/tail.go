package audit

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Entry is one line of the log as Tail returns it.
//
// Tail reads backwards from the end and does not count the lines before the
// ones it returns, so an entry carries its byte offset, not its line number.
type Entry struct {
	Offset  int64           // byte offset of the line's first byte in the file
	Legacy  bool            // a JSON object without "prev", written by the original skill
	Invalid string          // why the line is not a record (torn write, not JSON); empty for records and legacy lines
	Record  Record          // the parsed record; zero for legacy and invalid lines
	Raw     json.RawMessage // the line as stored, without its newline; valid JSON unless Invalid is set
}

// maxTailRead bounds one read of the lines Tail returns; beyond it, each line
// is read on its own.
const maxTailRead = 16 << 20

// Tail returns the last n lines of the log at path, oldest first: all of them
// when the log has fewer. It reads backwards from the end, not the whole file,
// and does not verify the chain (see VerifyFile). The log must pass
// safefile's trust rules; a missing log yields an error satisfying
// errors.Is(err, fs.ErrNotExist).
func Tail(path string, n int) ([]Entry, error) {
	if n < 1 {
		return nil, fmt.Errorf("tail: want at least 1 line, got %d", n)
	}
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size == 0 {
		return nil, nil
	}
	spans, _, err := lastLines(f, size, n)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	first := spans[len(spans)-1].start
	var all []byte
	if size-first <= maxTailRead {
		all = make([]byte, size-first)
		if _, err := f.ReadAt(all, first); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, noEOF(err))
		}
	}
	entries := make([]Entry, 0, len(spans))
	for i := len(spans) - 1; i >= 0; i-- {
		s := spans[i]
		var line []byte
		if all != nil {
			line = all[s.start-first : s.end-first]
		} else {
			line = make([]byte, s.end-s.start)
			if _, err := f.ReadAt(line, s.start); err != nil {
				return nil, fmt.Errorf("read %s: %w", path, noEOF(err))
			}
		}
		entries = append(entries, parseEntry(s.start, line))
	}
	return entries, nil
}

// parseEntry parses one line for Tail.
func parseEntry(off int64, line []byte) Entry {
	e := Entry{Offset: off, Raw: line}
	if len(line) == 0 {
		e.Invalid = reasonEmpty
		return e
	}
	if !bytes.HasPrefix(line, []byte(fastPrefix)) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil || obj == nil {
			e.Invalid = reasonNotJSON
			return e
		}
		if _, ok := obj["prev"]; !ok {
			e.Legacy = true
			return e
		}
	}
	if err := json.Unmarshal(line, &e.Record); err != nil {
		e.Record = Record{}
		if json.Valid(line) {
			e.Invalid = fmt.Sprintf("not a clawwarden record: %v", err)
		} else {
			e.Invalid = reasonNotJSON
		}
	}
	return e
}
