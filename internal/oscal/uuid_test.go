package oscal

import "testing"

// TestUUIDv5 checks the name-based UUID against RFC 9562's example
// (appendix A.4: "www.example.com" in the DNS namespace).
func TestUUIDv5(t *testing.T) {
	dns := mustParseUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	if got, want := uuidV5(dns, "www.example.com").String(), "2ed6657d-e927-568b-95e1-2665a8aea6a2"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestToken(t *testing.T) {
	for in, want := range map[string]string{"privilege_boundary": "privilege_boundary", "openclaw:gateway.bind": "openclaw_gateway.bind", "1x": "_x", "A.8.2": "A.8.2", "PR.AA-05": "PR.AA-05"} {
		if got := token(in); got != want {
			t.Errorf("token(%q) = %q, want %q", in, got, want)
		}
	}
}
