package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringback/ringback/internal/testenv"
)

func TestRateLimitHoldsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	url := testenv.Database(t)
	// Two stores are two starter replicas sharing one database.
	replicas := []*Store{openStoreURL(t, url), openStoreURL(t, url)}
	limit := Limit{N: 10, Per: time.Hour}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := replicas[i%2].Allow(ctx, "sms-caller:test", limit)
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != int64(limit.N) {
		t.Fatalf("%d of 60 concurrent events allowed, want exactly %d", got, limit.N)
	}
	// Another key has its own budget.
	if ok, err := replicas[0].Allow(ctx, "sms-caller:other", limit); err != nil || !ok {
		t.Fatalf("independent bucket refused: %v", err)
	}
}

func TestRateLimitRefills(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	// 5 per 500 ms: an event is earned back every 100 ms.
	limit := Limit{N: 5, Per: 500 * time.Millisecond}
	for i := range 5 {
		if ok, _ := s.Allow(ctx, "refill", limit); !ok {
			t.Fatalf("event %d of the first burst refused", i)
		}
	}
	if ok, _ := s.Allow(ctx, "refill", limit); ok {
		t.Fatal("sixth event of a burst of five allowed")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err := s.Allow(ctx, "refill", limit)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bucket never refilled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.Allow(ctx, "x", Limit{}); err == nil {
		t.Fatal("zero limit accepted")
	}
	if n, err := s.PruneRateBuckets(ctx, 0); err != nil || n < 0 {
		t.Fatalf("prune: %d %v", n, err)
	}
}
