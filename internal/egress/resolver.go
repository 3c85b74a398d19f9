package egress

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Resolver looks names and addresses up. *net.Resolver implements it; tests
// use a net.Resolver whose Dial reaches a DNS server they run.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// DefaultTimeout bounds each lookup of a [Cache].
const DefaultTimeout = 2 * time.Second

// Cache answers lookups through a Resolver, each bounded by a timeout, and
// remembers answers and failures for the rest of the run, so one scan asks
// for every name and address at most once. It is safe for concurrent use;
// concurrent lookups of the same key share one query.
type Cache struct {
	r       Resolver
	timeout time.Duration

	mu  sync.Mutex
	fwd map[string]*lookup[[]netip.Addr]
	rev map[netip.Addr]*lookup[[]string]
}

type lookup[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// NewCache returns a per-run cache over r (net.DefaultResolver when nil)
// with the given per-lookup timeout (DefaultTimeout when zero).
func NewCache(r Resolver, timeout time.Duration) *Cache {
	if r == nil {
		r = net.DefaultResolver
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Cache{
		r:       r,
		timeout: timeout,
		fwd:     map[string]*lookup[[]netip.Addr]{},
		rev:     map[netip.Addr]*lookup[[]string]{},
	}
}

// once runs fn for key the first time and returns its memoized result.
func once[K comparable, T any](c *Cache, m map[K]*lookup[T], key K, fn func() (T, error)) (T, error) {
	c.mu.Lock()
	l, ok := m[key]
	if !ok {
		l = &lookup[T]{done: make(chan struct{})}
		m[key] = l
	}
	c.mu.Unlock()
	if !ok {
		l.val, l.err = fn()
		close(l.done)
	}
	<-l.done
	return l.val, l.err
}

// Forward returns the addresses host resolves to (IPv4-mapped addresses
// unmapped). An IP literal resolves to itself.
func (c *Cache) Forward(ctx context.Context, host string) ([]netip.Addr, error) {
	host = normalName(host)
	return once(c, c.fwd, host, func() ([]netip.Addr, error) {
		if a, err := netip.ParseAddr(host); err == nil {
			return []netip.Addr{a.Unmap()}, nil
		}
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		addrs, err := c.r.LookupNetIP(ctx, "ip", host)
		for i := range addrs {
			addrs[i] = addrs[i].Unmap()
		}
		return addrs, err
	})
}

// Reverse returns the names of addr's PTR records, lower-case without the
// final dot.
func (c *Cache) Reverse(ctx context.Context, addr netip.Addr) ([]string, error) {
	return once(c, c.rev, addr, func() ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		names, err := c.r.LookupAddr(ctx, addr.String())
		out := make([]string, 0, len(names))
		for _, n := range names {
			if n = normalName(n); n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out, err
	})
}

// Confirmed returns the reverse names of addr that resolve back to addr
// (forward-confirmed reverse DNS), sorted.
func (c *Cache) Confirmed(ctx context.Context, addr netip.Addr) []string {
	names, _ := c.Reverse(ctx, addr)
	var out []string
	for _, n := range names {
		addrs, err := c.Forward(ctx, n)
		if err == nil && slices.Contains(addrs, addr) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// normalName lower-cases a DNS name and drops the final dot.
func normalName(n string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
}
