package sockets

// collector gathers sockets in chunks that double in size and then copies
// them into one slice of the exact length: appending to a single slice would
// leave a trail of ever larger copies behind, which on a host with thousands
// of sockets is most of a scan's memory.
type collector struct {
	chunks [][]Socket
	cur    []Socket
	n      int
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
		return c.cur
	}
	out := make([]Socket, 0, c.n)
	for _, ch := range c.chunks {
		out = append(out, ch...)
	}
	return append(out, c.cur...)
}
