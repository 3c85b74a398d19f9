package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sentinelExemptions are exported sentinel errors of domain packages that
// never reach exitCode on their own, with the reason.
var sentinelExemptions = map[string]string{
	"safefile.ErrLocked": "cycle and helpers test for it and act (another run holds the lock)",
	"cycle.ErrRunning":   "the cycle command reports it and exits 0",
	"helper.ErrUsage":    "the root helper's (cmd/clawwarden-root), which has its own exit statuses",
	// A signed decision is verified by the root helper; the waiting
	// request sees a refusal (approval.ErrDenied).
	"signed.ErrBadSignature":   "verified in the root helper",
	"signed.ErrDenied":         "verified in the root helper",
	"signed.ErrExpired":        "verified in the root helper",
	"signed.ErrMalformed":      "verified in the root helper",
	"signed.ErrNoUserPresence": "verified in the root helper",
	"signed.ErrOtherHost":      "verified in the root helper",
	"signed.ErrOtherRequest":   "verified in the root helper",
	"signed.ErrUnknownSigner":  "verified in the root helper",
}

// TestEverySentinelHasAnExitStatus finds every exported package-level
// sentinel error (var ErrX = …) in the domain packages and checks that the
// exit mapping (errmap.go, exit.go) names it, unless it is exempt with a
// reason; and that every status the mapping gives has a row in the exit
// table the README is checked against.
func TestEverySentinelHasAnExitStatus(t *testing.T) {
	t.Parallel()
	declared := map[string]string{} // pkg.ErrX → file
	dirs, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, d := range dirs {
		switch d.Name() {
		case "cli", "e2e", "testenv", "scripttest":
			continue
		}
		files, _ := filepath.Glob(filepath.Join("..", d.Name(), "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				g, ok := decl.(*ast.GenDecl)
				if !ok || g.Tok != token.VAR {
					continue
				}
				for _, spec := range g.Specs {
					for _, n := range spec.(*ast.ValueSpec).Names {
						if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
							declared[f.Name.Name+"."+n.Name] = file
						}
					}
				}
			}
		}
	}
	if len(declared) < 20 {
		t.Fatalf("found only %d sentinels: the scan is broken", len(declared))
	}

	mapped := map[string]bool{}
	for _, file := range []string{"errmap.go", "exit.go"} {
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && strings.HasPrefix(sel.Sel.Name, "Err") {
					mapped[x.Name+"."+sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	var missing []string
	for name, file := range declared {
		if !mapped[name] && sentinelExemptions[name] == "" {
			missing = append(missing, name+" ("+file+")")
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("sentinel errors with no exit status (add them to sentinels in errmap.go, or exempt them with a reason):\n  %s", strings.Join(missing, "\n  "))
	}
	for name := range sentinelExemptions {
		if _, ok := declared[name]; !ok {
			t.Errorf("exemption %s names no sentinel", name)
		}
	}

	inTable := map[int]bool{}
	for _, e := range exitTable {
		inTable[e.Code] = true
	}
	for _, m := range sentinels {
		if !inTable[m.code] {
			t.Errorf("%v maps to exit status %d, which has no row in the exit table (README.md)", m.err, m.code)
		}
	}
}
