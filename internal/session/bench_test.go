package session

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkStoreRoundTrip measures one locked read-modify-write of a state
// with 20 approvals: lock, read, parse, change, marshal, write to a temp
// file, fsync, rename, fsync the directory.
func BenchmarkStoreRoundTrip(b *testing.B) {
	s := &Store{Path: filepath.Join(b.TempDir(), "root-session-state.json")}
	s.Update(func(st *State, now time.Time) error {
		for i := range 20 {
			st.Grant(Approval{Key: key("", "/usr/bin/systemctl", "restart", "svc"+strconv.Itoa(i)), ApprovedAt: now, Via: "terminal"})
		}
		return nil
	})
	b.ReportAllocs()
	for b.Loop() {
		err := s.Update(func(st *State, now time.Time) error {
			st.Expire(now)
			st.Touch(now)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad measures an unlocked read and parse of the same state.
func BenchmarkLoad(b *testing.B) {
	s := &Store{Path: filepath.Join(b.TempDir(), "root-session-state.json")}
	s.Update(func(st *State, now time.Time) error {
		for i := range 20 {
			st.Grant(Approval{Key: key("", "/usr/bin/systemctl", "restart", "svc"+strconv.Itoa(i)), ApprovedAt: now, Via: "terminal"})
		}
		return nil
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Load(); err != nil {
			b.Fatal(err)
		}
	}
}
