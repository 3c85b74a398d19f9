package cli

import (
	"os"
	"testing"

	"github.com/clawwarden/clawwarden/internal/rootside"
)

// TestMain points enforced mode's layout at an empty directory: these tests
// are about the command line in same-user mode, whatever the test host has
// installed (the end-to-end tests install enforced mode while they run).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "clawwarden-cli-test-")
	if err != nil {
		panic(err)
	}
	enforcedLayout = rootside.Layout{Root: dir}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
