// Command benchstart times how long programs take to start and exit, for
// scripts/bench-startup. Each argument is NAME=COMMAND (COMMAND split on
// spaces). It runs -w warm-up rounds, then -r rounds in which every command
// runs once, in a fresh random order each round, so a change in the host's
// load hits all of them alike and no command always follows the same one.
// For each command it prints the median wall time, the median CPU time
// (user + system, from the child's rusage, which the host's load disturbs
// less) and the shortest wall time, each with its ratio to the first
// command's.
//
// With -inittrace N it runs one COMMAND N times with GODEBUG=inittrace=1
// instead and prints, per package, the median time of its initialisation
// and what it allocates, largest first, with their sum.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type bench struct {
	name string
	argv []string
	wall []time.Duration
	cpu  []time.Duration
}

func main() {
	warm := flag.Int("w", 20, "warm-up rounds")
	rounds := flag.Int("r", 200, "measured rounds")
	inittrace := flag.Int("inittrace", 0, "run the one COMMAND this many times with GODEBUG=inittrace=1")
	top := flag.Int("top", 15, "packages to list with -inittrace")
	flag.Parse()
	if *inittrace > 0 {
		if err := initTrace(flag.Args(), *inittrace, *top); err != nil {
			fmt.Fprintln(os.Stderr, "benchstart:", err)
			os.Exit(1)
		}
		return
	}
	var bs []*bench
	for _, arg := range flag.Args() {
		name, command, ok := strings.Cut(arg, "=")
		if !ok || strings.TrimSpace(command) == "" {
			fmt.Fprintf(os.Stderr, "benchstart: %q is not NAME=COMMAND\n", arg)
			os.Exit(2)
		}
		bs = append(bs, &bench{name: name, argv: strings.Fields(command)})
	}
	if len(bs) == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchstart [-w N] [-r N] NAME=COMMAND...")
		os.Exit(2)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchstart:", err)
		os.Exit(1)
	}
	for round := 0; round < *warm+*rounds; round++ {
		for _, i := range rand.Perm(len(bs)) {
			b := bs[i]
			wall, cpu, err := runOnce(b.argv, devnull)
			if err != nil {
				fmt.Fprintf(os.Stderr, "benchstart: %s: %v\n", b.name, err)
				os.Exit(1)
			}
			if round >= *warm {
				b.wall = append(b.wall, wall)
				b.cpu = append(b.cpu, cpu)
			}
		}
	}
	base := bs[0]
	bw, bc := median(base.wall), median(base.cpu)
	bm := slices.Min(base.wall)
	fmt.Printf("%-36s %10s %8s %10s %8s %10s %8s %6s\n", "", "wall", "", "cpu", "", "min wall", "", "runs")
	for _, b := range bs {
		w, c, m := median(b.wall), median(b.cpu), slices.Min(b.wall)
		fmt.Printf("%-36s %7.2f ms %7.2fx %7.2f ms %7.2fx %7.2f ms %7.2fx %6d\n", b.name,
			ms(w), float64(w)/float64(bw), ms(c), float64(c)/float64(bc), ms(m), float64(m)/float64(bm), len(b.wall))
	}
}

// runOnce runs argv with its output discarded and returns the wall time
// from start to exit and the child's user + system CPU time.
func runOnce(argv []string, out *os.File) (time.Duration, time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, err
	}
	wall := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var cpu time.Duration
	if ru != nil {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return wall, cpu, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// initTrace runs argv n times with GODEBUG=inittrace=1 and prints each
// package's median initialisation time, its allocations, and the sums.
func initTrace(argv []string, n, top int) error {
	if len(argv) == 0 {
		return fmt.Errorf("-inittrace needs a COMMAND")
	}
	type pkg struct {
		name   string
		clock  []float64 // ms
		bytes  int
		allocs int
	}
	pkgs := map[string]*pkg{}
	var order []string
	for i := 0; i < n; i++ {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %v", strings.Join(argv, " "), err)
		}
		// init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
		sc := bufio.NewScanner(&stderr)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 11 || f[0] != "init" || f[6] != "clock," {
				continue
			}
			clock, err1 := strconv.ParseFloat(f[4], 64)
			b, err2 := strconv.Atoi(f[7])
			a, err3 := strconv.Atoi(f[9])
			if err1 != nil || err2 != nil || err3 != nil {
				continue
			}
			p := pkgs[f[1]]
			if p == nil {
				p = &pkg{name: f[1]}
				pkgs[f[1]] = p
				order = append(order, f[1])
			}
			p.clock = append(p.clock, clock)
			p.bytes, p.allocs = b, a
		}
	}
	var list []*pkg
	var sum float64
	var sumBytes, sumAllocs int
	for _, name := range order {
		p := pkgs[name]
		slices.Sort(p.clock)
		list = append(list, p)
		sum += p.clock[len(p.clock)/2]
		sumBytes += p.bytes
		sumAllocs += p.allocs
	}
	slices.SortStableFunc(list, func(a, b *pkg) int {
		return -cmpFloat(a.clock[len(a.clock)/2], b.clock[len(b.clock)/2])
	})
	fmt.Printf("%d packages initialised, sum of per-package medians %.2f ms, %d bytes in %d allocations (%d runs)\n",
		len(list), sum, sumBytes, sumAllocs, n)
	for i, p := range list {
		if i == top {
			break
		}
		fmt.Printf("  %-52s %7.3f ms %8d B %5d allocs\n", p.name, p.clock[len(p.clock)/2], p.bytes, p.allocs)
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
