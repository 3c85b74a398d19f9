package cycle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name  string
		codes []string // each step's exit status
		want  int
	}{
		{"all pass", []string{"0", "0"}, 0},
		{"findings", []string{"0", "10", "0"}, 10},
		{"failure beats findings", []string{"10", "3", "0"}, 3},
		{"first failure stays", []string{"0", "4", "3", "10"}, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "logs", "cycle.log")
			var steps [][]string
			for i, c := range tt.codes {
				steps = append(steps, []string{"-c", "echo step " + string(rune('a'+i)) + "; echo to stderr >&2; exit " + c})
			}
			res, err := Run(context.Background(), Options{Exe: "/bin/sh", Steps: steps, Log: log, FindingsCode: 10, FailedCode: 70})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.want || len(res.Steps) != len(tt.codes) {
				t.Fatalf("exit %d with %d steps, want %d", res.ExitCode, len(res.Steps), tt.want)
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			s := string(data)
			for i, c := range tt.codes {
				if !strings.Contains(s, "step -c: exit "+c) || !strings.Contains(s, "    step "+string(rune('a'+i))+"\n") {
					t.Errorf("log lacks step %d (exit %s): %s", i, c, s)
				}
			}
			if !strings.Contains(s, "    to stderr\n") || !strings.Contains(s, "cycle end: exit ") {
				t.Errorf("log: %s", s)
			}
			if fi, _ := os.Stat(log); fi.Mode().Perm() != 0o600 {
				t.Errorf("log mode %v", fi.Mode())
			}
		})
	}
}

func TestRunMissingProgram(t *testing.T) {
	log := filepath.Join(t.TempDir(), "cycle.log")
	res, err := Run(context.Background(), Options{Exe: filepath.Join(t.TempDir(), "missing"), Steps: [][]string{{"ports"}}, Log: log, FindingsCode: 10, FailedCode: 70})
	if err != nil || res.ExitCode != 70 {
		t.Fatalf("exit %d, %v", res.ExitCode, err)
	}
	if data, _ := os.ReadFile(log); !strings.Contains(string(data), "no such file") {
		t.Errorf("log does not say why the step failed: %s", data)
	}
}

func TestRunOneAtATime(t *testing.T) {
	log := filepath.Join(t.TempDir(), "cycle.log")
	lock, err := safefile.TryLockFor(log)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	_, err = Run(context.Background(), Options{Exe: "/bin/true", Steps: [][]string{{"x"}}, Log: log})
	if !errors.Is(err, ErrRunning) {
		t.Fatalf("second cycle: %v", err)
	}
	if _, err := os.Stat(log); err == nil {
		if data, _ := os.ReadFile(log); len(data) > 0 {
			t.Errorf("a refused cycle wrote the log: %s", data)
		}
	}
}

func TestRunFinal(t *testing.T) {
	log := filepath.Join(t.TempDir(), "cycle.log")
	var seen Result
	res, err := Run(context.Background(), Options{Exe: "/bin/sh", Steps: [][]string{{"-c", "exit 10"}}, Log: log, FindingsCode: 10, FailedCode: 70,
		Final: &Final{Name: "prometheus", Run: func(_ context.Context, r Result) (string, int) {
			seen = r
			return "wrote /x/clawwarden.prom", 3
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen.Steps) != 1 || seen.ExitCode != 10 || seen.Started.IsZero() {
		t.Errorf("final step saw %+v, want the result of the steps", seen)
	}
	if res.ExitCode != 3 || len(res.Steps) != 2 || res.Steps[1].Step != "prometheus" || res.Steps[1].ExitCode != 3 {
		t.Errorf("result %+v: want the final step's failure counted", res)
	}
	data, _ := os.ReadFile(log)
	if s := string(data); !strings.Contains(s, "step prometheus: exit 3") || !strings.Contains(s, "    wrote /x/clawwarden.prom\n") {
		t.Errorf("log lacks the final step: %s", s)
	}
}
