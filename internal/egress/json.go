package egress

import (
	"io"

	"github.com/clawwarden/clawwarden/internal/finding"
)

// WriteJSON writes r as the report file's JSON document (see
// [finding.WriteJSON]), laid out like the port monitor's: one object whose
// connections and findings arrays hold one compact element per line.
// Decoding the output with encoding/json yields r.
func (r *Report) WriteJSON(w io.Writer) error { return finding.WriteJSON(w, r) }
