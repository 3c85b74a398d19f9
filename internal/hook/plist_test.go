package hook

import (
	"maps"
	"os"
	"reflect"
	"testing"

	"howett.net/plist"

	"github.com/clawwarden/clawwarden/internal/unitfile"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decodeForTest(t *testing.T, data []byte) map[string]any {
	t.Helper()
	doc, _, err := unitfile.DecodePlist(data)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func strPtr(s string) *string { return &s }

// TestPlistRoundTrip edits LaunchAgent plists shaped like OpenClaw's
// template and checks that only EnvironmentVariables.PATH changes, and that
// restoring gives back the original, in XML and in binary form.
func TestPlistRoundTrip(t *testing.T) {
	const bin = "/Users/alice/.openclaw/bin"
	inline := readFixture(t, "ai.openclaw.gateway.inline-env.plist")
	wrapper := readFixture(t, "ai.openclaw.gateway.env-wrapper.plist")
	binary, err := plist.Marshal(decodeForTest(t, inline), plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		data       []byte
		format     int
		oldPATH    *string
		newPATH    string
		envWrapper string
	}{
		{"inline environment", inline, plist.XMLFormat, strPtr("/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin"), bin + ":/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin", ""},
		{"binary plist", binary, plist.BinaryFormat, strPtr("/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin"), bin + ":/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin", ""},
		{"generated env wrapper, no EnvironmentVariables", wrapper, plist.XMLFormat, nil, bin + ":" + launchdDefaultPATH, "/Users/alice/.openclaw/service-env/ai.openclaw.gateway.env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := decodeForTest(t, tt.data)
			e, err := SetPlistPATH(tt.data, bin)
			if err != nil {
				t.Fatal(err)
			}
			if !e.Changed || e.NewPATH != tt.newPATH || !reflect.DeepEqual(e.OldPATH, tt.oldPATH) || e.EnvWrapper != tt.envWrapper {
				t.Fatalf("SetPlistPATH = changed %v, new %q, old %v, wrapper %q; want new %q, old %v, wrapper %q",
					e.Changed, e.NewPATH, e.OldPATH, e.EnvWrapper, tt.newPATH, tt.oldPATH, tt.envWrapper)
			}
			doc, format, err := unitfile.DecodePlist(e.Data)
			if err != nil {
				t.Fatal(err)
			}
			if format != tt.format {
				t.Errorf("format = %d, want %d", format, tt.format)
			}
			// Every key but EnvironmentVariables is unchanged, and in it
			// only PATH.
			for k, v := range orig {
				if k == "EnvironmentVariables" {
					continue
				}
				if !reflect.DeepEqual(doc[k], v) {
					t.Errorf("key %s changed: %#v -> %#v", k, v, doc[k])
				}
			}
			env := doc["EnvironmentVariables"].(map[string]any)
			if env["PATH"] != tt.newPATH {
				t.Errorf("PATH = %v, want %q", env["PATH"], tt.newPATH)
			}
			if old, ok := orig["EnvironmentVariables"].(map[string]any); ok {
				rest := maps.Clone(env)
				delete(rest, "PATH")
				oldRest := maps.Clone(old)
				delete(oldRest, "PATH")
				if !reflect.DeepEqual(rest, oldRest) {
					t.Errorf("other environment variables changed: %v -> %v", oldRest, rest)
				}
			}
			if p, set, w, err := PlistPATH(e.Data); err != nil || !set || p != tt.newPATH || w != tt.envWrapper {
				t.Errorf("PlistPATH = %q, %v, %q, %v", p, set, w, err)
			}

			// Editing again changes nothing.
			again, err := SetPlistPATH(e.Data, bin)
			if err != nil || again.Changed {
				t.Errorf("second SetPlistPATH: changed %v, err %v", again.Changed, err)
			}

			// Restoring the unchanged edit gives back the original.
			back, changed, err := RestorePlistPATH(e.Data, bin, e.NewPATH, e.OldPATH, e.HadEnv)
			if err != nil || !changed {
				t.Fatalf("RestorePlistPATH: changed %v, err %v", changed, err)
			}
			if got := decodeForTest(t, back); !reflect.DeepEqual(got, orig) {
				t.Errorf("restored plist differs from the original:\n got %#v\nwant %#v", got, orig)
			}
		})
	}
}

// TestPlistRestoreAfterChange: when PATH changed after install (OpenClaw
// rewrote it, or a person edited it), only the shim's directory is taken out.
func TestPlistRestoreAfterChange(t *testing.T) {
	const bin = "/Users/alice/.openclaw/bin"
	e, err := SetPlistPATH(readFixture(t, "ai.openclaw.gateway.inline-env.plist"), bin)
	if err != nil {
		t.Fatal(err)
	}
	doc := decodeForTest(t, e.Data)
	doc["EnvironmentVariables"].(map[string]any)["PATH"] = bin + ":/extra:/usr/bin"
	changed, err := plist.MarshalIndent(doc, plist.XMLFormat, "  ")
	if err != nil {
		t.Fatal(err)
	}
	back, ok, err := RestorePlistPATH(changed, bin, e.NewPATH, e.OldPATH, e.HadEnv)
	if err != nil || !ok {
		t.Fatalf("RestorePlistPATH: %v, %v", ok, err)
	}
	if p, _, _, _ := PlistPATH(back); p != "/extra:/usr/bin" {
		t.Errorf("PATH = %q, want /extra:/usr/bin", p)
	}
	// Without the shim's directory there is nothing to do.
	if _, ok, err := RestorePlistPATH(back, bin, e.NewPATH, e.OldPATH, e.HadEnv); err != nil || ok {
		t.Errorf("second RestorePlistPATH: changed %v, err %v", ok, err)
	}
}

func TestPlistRejectsMalformed(t *testing.T) {
	for name, data := range map[string]string{
		"not a plist":       "hello",
		"array at top":      `<?xml version="1.0"?><plist version="1.0"><array/></plist>`,
		"env not dict":      `<?xml version="1.0"?><plist version="1.0"><dict><key>EnvironmentVariables</key><string>x</string></dict></plist>`,
		"PATH not a string": `<?xml version="1.0"?><plist version="1.0"><dict><key>EnvironmentVariables</key><dict><key>PATH</key><integer>1</integer></dict></dict></plist>`,
	} {
		if _, err := SetPlistPATH([]byte(data), "/b"); err == nil {
			t.Errorf("%s: SetPlistPATH succeeded", name)
		}
	}
}

func TestEnvFilePATH(t *testing.T) {
	p, set, err := envFilePATH("testdata/ai.openclaw.gateway.env")
	want := "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/Users/alice/it's here"
	if err != nil || !set || p != want {
		t.Errorf("envFilePATH = %q, %v, %v; want %q", p, set, err, want)
	}
}
