package sockets

// collector gathers sockets into one slice. It starts at the capacity it is
// given, when the number of sockets is known beforehand, so that on a host
// with thousands the slice is allocated once and never copied; past that it
// gathers them in chunks that double in size and copies them once into an
// exact slice, rather than leaving the trail of append's copies behind.
type collector struct {
	chunks [][]Socket
	cur    []Socket
	n      int
}

// newCollector returns a collector for about hint sockets (0: unknown).
func newCollector(hint int) collector {
	if hint <= 0 {
		return collector{}
	}
	return collector{cur: make([]Socket, 0, hint+hint/8+16)}
}

func (c *collector) add(s Socket) {
	if len(c.cur) == cap(c.cur) {
		if len(c.cur) > 0 {
			c.chunks = append(c.chunks, c.cur)
		}
		c.cur = make([]Socket, 0, max(64, 2*cap(c.cur)))
	}
	c.cur = append(c.cur, s)
	c.n++
}

// sockets returns what was added, in order; nil when nothing was.
func (c *collector) sockets() []Socket {
	if len(c.chunks) == 0 {
		if c.n == 0 {
			return nil
		}
		return c.cur
	}
	out := make([]Socket, 0, c.n)
	for _, ch := range c.chunks {
		out = append(out, ch...)
	}
	return append(out, c.cur...)
}
