package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/ringback/ringback/internal/quiethours"
)

func TestParseProc(t *testing.T) {
	rss, hwm, err := parseProcStatus("Name:\tworker\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t12\n")
	if err != nil || rss != 100<<20 || hwm != 200<<20 {
		t.Fatalf("parseProcStatus = %d, %d, %v", rss, hwm, err)
	}
	if _, _, err := parseProcStatus("Name:\tworker\n"); err == nil {
		t.Fatal("parseProcStatus accepted a status without VmRSS")
	}
	// The command name may hold spaces and parentheses.
	cpu, err := parseProcStat("4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0")
	if err != nil || cpu != 3*time.Second {
		t.Fatalf("parseProcStat = %v, %v; want 3s", cpu, err)
	}
}

func TestMedianPerSecond(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var times []time.Time
	// 10 in the first second, 30 in the second, 20 in the third, 5 in a partial fourth.
	for k, n := range []int{10, 30, 20, 5} {
		for i := range n {
			times = append(times, t0.Add(time.Duration(k)*time.Second+time.Duration(i)*time.Second/time.Duration(2*n)))
		}
	}
	if got := medianPerSecond(times); got != 20 {
		t.Fatalf("medianPerSecond = %v, want 20 (the partial last second left out)", got)
	}
}

// TestCallerZones: at every hour of the year one zone is in daytime, and each zone has enough
// callers for the 10,000 sleepers and their pilot, located in that zone alone.
func TestCallerZones(t *testing.T) {
	for at := time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC); at.Year() == 2026; at = at.Add(time.Hour) {
		z, loc, err := pickCallerZone(at)
		if err != nil {
			t.Fatal(err)
		}
		if h := at.In(loc).Hour(); h < 8 || h >= 19 {
			t.Fatalf("%v: picked %s at %02d local", at, z.zone, h)
		}
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, z := range callerZones {
		n := quietTargetSleepers + pilotSize(quietTargetSleepers)
		callers, err := zoneCallers(z, n, now)
		if err != nil {
			t.Fatalf("%s: %v", z.desc, err)
		}
		seen := map[string]bool{}
		for _, c := range callers {
			if seen[c] {
				t.Fatalf("%s: caller repeated", z.desc)
			}
			seen[c] = true
		}
		d, err := quiethours.Next(now, callers[n-1], quiethours.Policy{TenantTimezone: "UTC"})
		if err != nil || len(d.Zones) != 1 || d.Zones[0] != z.zone {
			t.Fatalf("%s: last caller located in %v (%v)", z.desc, d.Zones, err)
		}
	}
}

func TestBareSleeperWakesAtItsInstant(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	start := env.Now()
	wake := start.Add(8 * time.Hour)
	var sink *sleeperSink
	var woke time.Time
	env.RegisterActivity(sink)
	env.OnActivity(sink.Woke, mock.Anything, "sleep/x/main/1").Return(func(context.Context, string) error {
		woke = env.Now()
		return nil
	})
	env.ExecuteWorkflow(BareSleeper, SleeperInput{ID: "sleep/x/main/1", Wake: wake})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if woke.Before(wake) {
		t.Fatalf("activity ran at %v, before the wake-up at %v", woke, wake)
	}
}
