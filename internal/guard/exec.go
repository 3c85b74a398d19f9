package guard

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// forwarded are the signals passed on to sudo, which relays them to the
// command.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// safeValue reports whether a passed-through LANG, LC_ALL or TERM value is
// plain: 1 to 64 of [A-Za-z0-9._@+-].
func safeValue(v string) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for _, c := range []byte(v) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._@+-", c) >= 0) {
			return false
		}
	}
	return true
}

// sanitizedEnv is the whole environment of sudo and the command: PATH,
// LANG, LC_ALL, HOME and TERM, nothing else.
func sanitizedEnv(getenv func(string) string) []string {
	env := []string{"PATH=" + SecurePath}
	for _, k := range []string{"LANG", "LC_ALL", "TERM"} {
		if v := getenv(k); safeValue(v) {
			env = append(env, k+"="+v)
		}
	}
	if h := getenv("HOME"); h != "" && len(h) < 4096 && checkText("HOME", h) == nil && h[0] == '/' {
		env = append(env, "HOME="+h)
	}
	return env
}

// runSudo runs `sudo [sudoArgs] -- argv…` with the standard streams passed through and
// forwards signals to it. It returns the command's exit status (128+N for a
// command killed by signal N), or an error when sudo could not be started.
func runSudo(sudo string, sudoArgs, argv []string, env []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	args := append(append(append([]string{}, sudoArgs...), "--"), argv...)
	cmd := exec.Command(sudo, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", sudo, err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	return exitStatus(err)
}

func exitStatus(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// startResetSudo starts `sudo -k`, which invalidates the user's cached sudo
// credentials so no elevation outlives the command. The returned function
// waits for it and reports how it went.
func startResetSudo(sudo string, env []string) func() error {
	cmd := exec.Command(sudo, "-k")
	cmd.Env = env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return func() error { return fmt.Errorf("%s -k: %w", sudo, err) }
	}
	return func() error {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("%s -k: %v: %s", sudo, err, strings.TrimSpace(out.String()))
		}
		return nil
	}
}
