package audit

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// writeChainFile writes n records made by rec to a new log in dir.
func writeChainFile(b *testing.B, dir string, n int) (path string, size int64) {
	b.Helper()
	path = filepath.Join(dir, "privileged-audit.jsonl")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := writeChain(f, n, rec); err != nil {
		b.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	return path, fi.Size()
}

// writeHeadFor writes the head file of the log at path, which has n lines
// and size bytes.
func writeHeadFor(b *testing.B, path string, n int, size int64) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	last, _, err := lastLineHash(f, size)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeHead(path, head{records: n, hash: last, size: size}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkVerify1M verifies a log of a million records of about 300 bytes,
// and its head file (the performance target is 2 s on two cores).
func BenchmarkVerify1M(b *testing.B) {
	if testing.Short() {
		b.Skip("writes a 300 MB log")
	}
	const n = 1_000_000
	path, size := writeChainFile(b, b.TempDir(), n)
	writeHeadFor(b, path, n, size)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		res, err := VerifyFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if res.Records != n || res.Broken != nil || res.HeadFile != HeadOK {
			b.Fatalf("VerifyFile = %+v", res)
		}
	}
	b.ReportMetric(float64(size)/n, "bytes/record")
}

// BenchmarkAppend appends one record per operation to a log that already
// holds 100,000 records: the cost includes the lock, finding the last line
// from the end, one write and one fsync, and does not grow with the log.
func BenchmarkAppend(b *testing.B) {
	path, _ := writeChainFile(b, b.TempDir(), 100_000)
	l := &Log{Path: path}
	r := rec(7)
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Append(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendBatch3 appends the guard's usual closing batch (result,
// sudo-reset, session) per operation: one lock, one write, one fsync.
func BenchmarkAppendBatch3(b *testing.B) {
	path, _ := writeChainFile(b, b.TempDir(), 100_000)
	l := &Log{Path: path}
	rs := []Record{rec(3), rec(4), rec(5)}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Append(rs...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHead measures what the head file adds to every Append on a log of
// 100,000 records: reading it and comparing it with the log, then rewriting
// it (no fsync).
func BenchmarkHead(b *testing.B) {
	path, size := writeChainFile(b, b.TempDir(), 100_000)
	writeHeadFor(b, path, 100_000, size)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	last, terminated, err := lastLineHash(f, size)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		hw := prepareHead(path, f, size, last, terminated)
		if hw == nil || hw.lines != 100_000 {
			b.Fatalf("prepareHead = %+v", hw)
		}
		if err := hw.write(head{records: hw.lines, hash: last, size: size}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTail20 reads the last 20 records of a 100,000-record log.
func BenchmarkTail20(b *testing.B) {
	path, _ := writeChainFile(b, b.TempDir(), 100_000)
	b.ReportAllocs()
	for b.Loop() {
		es, err := Tail(path, 20)
		if err != nil || len(es) != 20 {
			b.Fatalf("Tail = %d entries, %v", len(es), err)
		}
	}
}

// TestWriteBenchLog writes a chained log of $CLAWWARDEN_BENCH_AUDIT_N records
// to $CLAWWARDEN_BENCH_AUDIT_OUT for scripts/bench, which times the real
// `clawwarden audit verify` on it. Without those variables it skips.
func TestWriteBenchLog(t *testing.T) {
	out := os.Getenv("CLAWWARDEN_BENCH_AUDIT_OUT")
	n, err := strconv.Atoi(os.Getenv("CLAWWARDEN_BENCH_AUDIT_N"))
	if out == "" || err != nil {
		t.Skip("only for scripts/bench (set CLAWWARDEN_BENCH_AUDIT_OUT and CLAWWARDEN_BENCH_AUDIT_N)")
	}
	f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := writeChain(f, n, rec); err != nil {
		t.Fatal(err)
	}
}
