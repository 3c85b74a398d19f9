package egress

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer is a real DNS server on 127.0.0.1 that answers from its tables,
// never answers names in silent (so lookups time out), and counts queries.
type dnsServer struct {
	conn   net.PacketConn
	hosts  map[string][]netip.Addr // name (with final dot) → addresses
	ptr    map[netip.Addr][]string // address → names
	silent map[string]bool

	mu      sync.Mutex
	queries map[string]int // "TYPE name" → count
}

// startDNS serves hosts ("name" → "addr,addr") and ptr ("addr" → "name,name").
func startDNS(t *testing.T, hosts, ptr map[string]string, silent ...string) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: pc, hosts: map[string][]netip.Addr{}, ptr: map[netip.Addr][]string{}, silent: map[string]bool{}, queries: map[string]int{}}
	for name, addrs := range hosts {
		for _, a := range strings.Split(addrs, ",") {
			s.hosts[name+"."] = append(s.hosts[name+"."], netip.MustParseAddr(a))
		}
	}
	for addr, names := range ptr {
		for _, n := range strings.Split(names, ",") {
			s.ptr[netip.MustParseAddr(addr)] = append(s.ptr[netip.MustParseAddr(addr)], n+".")
		}
	}
	for _, n := range silent {
		s.silent[n+"."] = true
	}
	t.Cleanup(func() { pc.Close() })
	go s.serve()
	return s
}

// resolver returns a pure-Go net.Resolver whose queries all go to s.
func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", s.conn.LocalAddr().String())
		},
	}
}

func (s *dnsServer) count(typ dnsmessage.Type, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[typ.String()+" "+name+"."]
}

func (s *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		name := strings.ToLower(q.Name.String())
		s.mu.Lock()
		s.queries[q.Type.String()+" "+name]++
		s.mu.Unlock()
		if s.silent[name] {
			continue
		}
		resp, ok := s.answer(h.ID, q, name)
		if ok {
			s.conn.WriteTo(resp, from)
		}
	}
}

func (s *dnsServer) answer(id uint16, q dnsmessage.Question, name string) ([]byte, bool) {
	hdr := dnsmessage.Header{ID: id, Response: true, Authoritative: true, RCode: dnsmessage.RCodeSuccess}
	addrs, known := s.hosts[name]
	var ptrNames []string
	if q.Type == dnsmessage.TypePTR {
		if a, ok := parseArpa(name); ok {
			ptrNames, known = s.ptr[a], len(s.ptr[a]) > 0
		}
	}
	if !known {
		hdr.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, hdr)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	switch q.Type {
	case dnsmessage.TypeA:
		for _, a := range addrs {
			if a.Is4() {
				b.AResource(rh, dnsmessage.AResource{A: a.As4()})
			}
		}
	case dnsmessage.TypeAAAA:
		for _, a := range addrs {
			if a.Is6() {
				b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
			}
		}
	case dnsmessage.TypePTR:
		for _, n := range ptrNames {
			b.PTRResource(rh, dnsmessage.PTRResource{PTR: dnsmessage.MustNewName(n)})
		}
	}
	out, err := b.Finish()
	return out, err == nil
}

// parseArpa parses an IPv4 in-addr.arpa name.
func parseArpa(name string) (netip.Addr, bool) {
	rest, ok := strings.CutSuffix(name, ".in-addr.arpa.")
	if !ok {
		return netip.Addr{}, false
	}
	p := strings.Split(rest, ".")
	if len(p) != 4 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(p[3] + "." + p[2] + "." + p[1] + "." + p[0])
	return a, err == nil
}
