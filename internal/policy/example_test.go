package policy_test

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/clawwarden/clawwarden/internal/policy"
)

func ExamplePolicy_Decide() {
	p, err := policy.Parse([]byte(`{
		"allow": ["^systemctl (restart|status) nginx$"],
		"deny": ["^rm "],
		"allow_exact": [["bash", "/opt/backup.sh"]]
	}`), "command-policy.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, argv := range [][]string{
		{"systemctl", "restart", "nginx"},
		{"/usr/bin/systemctl", "stop", "nginx"},
		{"bash", "/opt/backup.sh"},
		{"bash", "-c", "id"},
	} {
		// The guard passes the absolute path it resolved argv[0] to.
		d := p.Decide(argv, "/usr/bin/"+filepath.Base(argv[0]))
		fmt.Printf("%-5v %s\n", d.Allowed, d.Rule)
	}
	// Output:
	// true  allow[0] "^systemctl (restart|status) nginx$"
	// false not in allow list
	// true  allow_exact[0]
	// false builtin:shell
}

func ExamplePolicy_DecideIn() {
	var p *policy.Policy // no policy file: only the built-in rules apply
	for _, c := range []struct{ cwd, cmd string }{
		{"/etc", "tee sudoers"},
		{"/home/agent", "tee sudoers"},
		{"/home/agent", "chmod u+s bin/tool"},
	} {
		argv := strings.Fields(c.cmd)
		d := p.DecideIn(c.cwd, argv, "/usr/bin/"+argv[0])
		fmt.Printf("%-5v %s\n", d.Allowed, d.Rule)
	}
	// Output:
	// false builtin:privilege-file
	// true  allow (no allow list)
	// false builtin:privilege-file
}

func ExampleShellJoin() {
	fmt.Println(policy.ShellJoin([]string{"find", "/var/log", "-name", "*.gz", "-newer", "it's"}))
	// Output: find /var/log -name '*.gz' -newer 'it'"'"'s'
}
