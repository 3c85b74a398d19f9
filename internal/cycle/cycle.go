// Package cycle runs one monitoring cycle: a fixed list of clawwarden
// commands, each its own process, one after the other, appending what each
// printed, its exit status and duration to the cycle log. Only one cycle runs
// at a time.
package cycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// ErrRunning: another cycle holds the log's lock; this one did not start.
var ErrRunning = errors.New("another cycle is running; not starting a second one")

// Steps are the commands one cycle runs, in order; each is named by its
// first word, as the log always named them.
var Steps = [][]string{
	{"preflight"},
	{"ports"},
	{"egress"},
	{"assess", "--fail-on", "violation"},
	{"notify"},
}

// Step is the outcome of one step.
type Step struct {
	Step       string  `json:"step"`
	ExitCode   int     `json:"exit_code"`
	DurationMS float64 `json:"duration_ms"`
}

// Result is the outcome of one cycle.
type Result struct {
	Started    time.Time `json:"started"`
	DurationMS float64   `json:"duration_ms"`
	Log        string    `json:"log"`
	Steps      []Step    `json:"steps"`
	ExitCode   int       `json:"exit_code"`
}

// Options say what a cycle runs and where it logs.
type Options struct {
	Exe   string     // the program each step runs (clawwarden itself)
	Steps [][]string // its arguments per step; nil means Steps
	Env   []string   // the steps' environment; nil means this process's
	Log   string     // the cycle log, appended to
	Now   func() time.Time
	// FindingsCode is the exit status by which a step says it found
	// problems; FailedCode is the status of a step that could not start.
	FindingsCode, FailedCode int
	// Final, when set, runs in this process after the steps, with the
	// result so far (Started and DurationMS cover the steps): the
	// monitoring export, which reports this very cycle. It is logged and
	// counted as one more step.
	Final *Final
}

// Final is a step that runs in the cycle's own process.
type Final struct {
	Name string
	// Run returns what it has to say for the log and its exit status.
	Run func(ctx context.Context, res Result) (output string, code int)
}

// Run runs one cycle. The result's exit status is 0 when every step exited
// 0, FindingsCode when the worst was findings, else the first other failing
// status. The log is written once, after the last step, and synced; a
// cycle that finds another one running returns ErrRunning at once.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Steps == nil {
		o.Steps = Steps
	}
	if err := safefile.EnsureDir(filepath.Dir(o.Log)); err != nil {
		return Result{}, err
	}
	lock, err := safefile.TryLockFor(o.Log)
	if errors.Is(err, safefile.ErrLocked) {
		return Result{}, ErrRunning
	}
	if err != nil {
		return Result{}, err
	}
	defer lock.Unlock()
	log, err := safefile.OpenAppend(o.Log)
	if err != nil {
		return Result{}, err
	}
	defer log.Close()

	res := Result{Started: o.Now().UTC(), Log: o.Log}
	start := time.Now()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s cycle start (pid %d)\n", res.Started.Format(time.RFC3339), os.Getpid())
	for _, args := range o.Steps {
		step, out := o.step(ctx, args)
		res.Steps = append(res.Steps, step)
		res.ExitCode = o.combine(res.ExitCode, step.ExitCode)
		logStep(&buf, o.Now(), step, out)
	}
	res.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	if f := o.Final; f != nil {
		t0 := time.Now()
		out, code := f.Run(ctx, res)
		step := Step{Step: f.Name, ExitCode: code, DurationMS: float64(time.Since(t0).Microseconds()) / 1000}
		res.Steps = append(res.Steps, step)
		res.ExitCode = o.combine(res.ExitCode, code)
		logStep(&buf, o.Now(), step, []byte(out))
	}
	fmt.Fprintf(&buf, "%s cycle end: exit %d in %.0f ms\n", o.Now().UTC().Format(time.RFC3339), res.ExitCode, res.DurationMS)
	if _, err := log.Write(buf.Bytes()); err != nil {
		return res, fmt.Errorf("write %s: %w", o.Log, err)
	}
	if err := log.Sync(); err != nil {
		return res, fmt.Errorf("write %s: %w", o.Log, err)
	}
	return res, nil
}

// logStep appends one step's log lines: its outcome, then what it printed.
func logStep(buf *bytes.Buffer, now time.Time, step Step, out []byte) {
	fmt.Fprintf(buf, "%s step %s: exit %d in %s\n", now.UTC().Format(time.RFC3339), step.Step, step.ExitCode,
		(time.Duration(step.DurationMS*1000) * time.Microsecond).Round(time.Millisecond))
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(buf, "    %s\n", line)
		}
	}
}

// step runs one step and returns its outcome and everything it printed.
func (o *Options) step(ctx context.Context, args []string) (Step, []byte) {
	t0 := time.Now()
	c := exec.CommandContext(ctx, o.Exe, args...)
	c.Env = o.Env
	if c.Env == nil {
		c.Env = os.Environ()
	}
	out, err := c.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		code = o.FailedCode
		out = append(out, []byte(err.Error()+"\n")...)
	}
	name := ""
	if len(args) > 0 {
		name = args[0]
	}
	return Step{Step: name, ExitCode: code, DurationMS: float64(time.Since(t0).Microseconds()) / 1000}, out
}

// combine folds one step's exit status into the cycle's: findings only
// replace success; any other failure replaces success or findings, and the
// first such failure stays.
func (o *Options) combine(cycle, step int) int {
	switch {
	case step == 0:
		return cycle
	case step == o.FindingsCode:
		if cycle == 0 {
			return step
		}
		return cycle
	case cycle == 0 || cycle == o.FindingsCode:
		return step
	}
	return cycle
}
