package guard

import "sync"

// memo is a small, bounded, concurrency-safe cache for what Outbound derives from the parts of an
// OutboundContext that stay the same from one reply to the next (a tenant's system prompt, the
// other tenants' names and numbers). It only saves time: a miss computes the same value, so the
// package stays deterministic. Cached values are never modified after they are stored.
type memo[V any] struct {
	mu  sync.Mutex
	m   map[string]V
	max int
}

func newMemo[V any](max int) *memo[V] {
	return &memo[V]{m: make(map[string]V), max: max}
}

func (c *memo[V]) get(key string, compute func() V) V {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m) // crude, but the working set is a few tenants' worth and refills at once
	}
	c.m[key] = v
	c.mu.Unlock()
	return v
}
