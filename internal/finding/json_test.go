package finding

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

type testElem struct {
	Name  string   `json:"name"`
	Note  string   `json:"note,omitempty"`
	PID   *int     `json:"pid"`
	Flags []string `json:"flags"`
}

type testSummary struct {
	Status string         `json:"status"`
	ByRisk map[string]int `json:"by_risk"`
}

type testReport struct {
	GeneratedAt string      `json:"generated_at"`
	Hint        string      `json:"hint,omitempty"`
	Complete    bool        `json:"complete"`
	Errors      []string    `json:"errors,omitempty"`
	Elems       []testElem  `json:"elems"`
	Others      []testElem  `json:"others"`
	Nil         []testElem  `json:"nil"`
	Summary     testSummary `json:"summary"`
	hidden      int
	Skipped     int `json:"-"`
}

func TestWriteJSON(t *testing.T) {
	pid := 7
	tests := []struct {
		name string
		r    testReport
		want string
	}{
		{"layout", testReport{
			GeneratedAt: "2026-11-25T10:30:00Z",
			Errors:      []string{"a", "b"},
			Elems: []testElem{
				{Name: "we\"ird\\na\tme\n\x01 <html>&", PID: &pid, Flags: []string{"x"}},
				{Name: "bad\xffutf8 \u2028", Note: "n"},
			},
			Others:  []testElem{},
			Summary: testSummary{Status: "violation", ByRisk: map[string]int{"low": 1, "high": 2}},
		}, `{
  "generated_at": "2026-11-25T10:30:00Z",
  "complete": false,
  "errors": ["a","b"],
  "elems": [
    {"name":"we\"ird\\na\tme\n\u0001 <html>&","pid":7,"flags":["x"]},
    {"name":"bad\ufffdutf8 \u2028","note":"n","pid":null,"flags":null}
  ],
  "others": [],
  "nil": null,
  "summary": {
    "status": "violation",
    "by_risk": {
      "high": 2,
      "low": 1
    }
  }
}
`},
		{"empty", testReport{Hint: "h", hidden: 1, Skipped: 2}, `{
  "generated_at": "",
  "hint": "h",
  "complete": false,
  "elems": null,
  "others": null,
  "nil": null,
  "summary": {
    "status": "",
    "by_risk": null
  }
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []any{&tt.r, tt.r} {
				var buf bytes.Buffer
				if err := WriteJSON(&buf, v); err != nil {
					t.Fatal(err)
				}
				if got := buf.String(); got != tt.want {
					t.Errorf("WriteJSON(%T):\ngot\n%s\nwant\n%s", v, got, tt.want)
				}
				var back, std testReport
				if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(tt.r)
				json.Unmarshal(b, &std)
				if !reflect.DeepEqual(back, std) {
					t.Errorf("decoded output differs from encoding/json's:\n%+v\n%+v", back, std)
				}
			}
		})
	}
	if err := WriteJSON(&bytes.Buffer{}, []int{1}); err == nil {
		t.Error("WriteJSON of a slice: want an error")
	}
}

// TestWriteJSONLong checks a slice long enough to be encoded in parallel
// batches, into a growable buffer and through a plain writer.
func TestWriteJSONLong(t *testing.T) {
	for _, n := range []int{1, 63, 64, 65, 127, 128, 129, 1000, 1025} {
		r := testReport{Elems: make([]testElem, n)}
		want := "{\n  \"generated_at\": \"\",\n  \"complete\": false,\n  \"elems\": ["
		for i := range r.Elems {
			r.Elems[i] = testElem{Name: strings.Repeat("x", i%7) + "<" + strconv.Itoa(i) + ">", Flags: []string{}}
			b, err := json.Marshal(&r.Elems[i])
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				want += ","
			}
			want += "\n    " + strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(string(b))
		}
		want += "\n  ],\n  \"others\": null,\n  \"nil\": null,\n  \"summary\": {\n    \"status\": \"\",\n    \"by_risk\": null\n  }\n}\n"
		var buf bytes.Buffer
		if err := WriteJSON(&buf, &r); err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		if err := WriteJSON(struct{ io.Writer }{&sb}, &r); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want || sb.String() != want {
			t.Errorf("%d elements: got\n%s\nwant\n%s", n, buf.String(), want)
		}
	}
}
