package ports

import (
	"slices"

	"github.com/clawwarden/clawwarden/internal/finding"
)

// Service is a cleartext or legacy service in the insecure catalog.
type Service struct {
	// Name is the service's usual name.
	Name string
	// Protocol is "tcp", "udp", or "" for both.
	Protocol string
	// Ports are the well-known ports the service listens on.
	Ports []uint16
	// Risk is the risk of the service on a public bind; on loopback only it
	// is one level lower.
	Risk finding.Risk
	// Problem says what is insecure about it.
	Problem string
	// Alternative is the secure replacement.
	Alternative string
	// PublicOnly marks services that are flagged only on public binds: they
	// are safe enough on loopback but commonly run without authentication
	// (clawwarden does not connect to them to check).
	PublicOnly bool
}

// Catalog lists the insecure services clawwarden flags, by well-known port.
var Catalog = []Service{
	{Name: "ftp", Protocol: "tcp", Ports: []uint16{20, 21}, Risk: finding.High,
		Problem: "FTP sends logins and files in cleartext", Alternative: "SFTP/SCP over SSH (port 22), or FTPS with TLS"},
	{Name: "telnet", Protocol: "tcp", Ports: []uint16{23}, Risk: finding.Critical,
		Problem: "telnet sends the whole session, passwords included, in cleartext", Alternative: "SSH (port 22)"},
	{Name: "smtp", Protocol: "tcp", Ports: []uint16{25}, Risk: finding.Medium,
		Problem: "SMTP on port 25 is cleartext unless STARTTLS is offered and required", Alternative: "enforce STARTTLS, or use submission with STARTTLS (587) / SMTPS (465) for clients"},
	{Name: "tftp", Protocol: "udp", Ports: []uint16{69}, Risk: finding.High,
		Problem: "TFTP has no authentication and no encryption", Alternative: "SFTP/SCP over SSH, or HTTPS for boot images"},
	{Name: "http", Protocol: "tcp", Ports: []uint16{80, 8000, 8080}, Risk: finding.Medium,
		Problem: "HTTP carries requests, cookies and tokens in cleartext", Alternative: "HTTPS with TLS (443), redirecting HTTP to it"},
	{Name: "pop3", Protocol: "tcp", Ports: []uint16{110}, Risk: finding.High,
		Problem: "POP3 sends mailbox passwords in cleartext", Alternative: "POP3S with TLS (995)"},
	{Name: "imap", Protocol: "tcp", Ports: []uint16{143}, Risk: finding.High,
		Problem: "IMAP sends mailbox passwords in cleartext unless STARTTLS is required", Alternative: "IMAPS with TLS (993)"},
	{Name: "snmp", Protocol: "udp", Ports: []uint16{161, 162}, Risk: finding.High,
		Problem: "SNMP v1/v2c authenticates with a cleartext community string", Alternative: "SNMPv3 with authPriv (authentication and encryption)"},
	{Name: "ldap", Protocol: "", Ports: []uint16{389}, Risk: finding.Medium,
		Problem: "LDAP binds and directory data travel in cleartext unless StartTLS is required", Alternative: "LDAPS (636) or LDAP with required StartTLS"},
	{Name: "rexec", Protocol: "tcp", Ports: []uint16{512}, Risk: finding.Critical,
		Problem: "rexec sends passwords in cleartext", Alternative: "SSH (port 22)"},
	{Name: "rlogin", Protocol: "tcp", Ports: []uint16{513}, Risk: finding.Critical,
		Problem: "rlogin trusts host names and sends sessions in cleartext", Alternative: "SSH (port 22)"},
	{Name: "rsh", Protocol: "tcp", Ports: []uint16{514}, Risk: finding.Critical,
		Problem: "rsh trusts host names and sends sessions in cleartext", Alternative: "SSH (port 22)"},
	{Name: "vnc", Protocol: "tcp", Ports: []uint16{5900, 5901, 5902, 5903}, Risk: finding.High,
		Problem: "VNC uses weak (8-character DES) authentication and often no encryption", Alternative: "VNC bound to loopback and tunnelled over SSH, or a TLS-protected remote desktop"},
	{Name: "redis", Protocol: "tcp", Ports: []uint16{6379}, Risk: finding.Critical, PublicOnly: true,
		Problem: "Redis on a public address commonly runs without authentication or TLS", Alternative: "bind 127.0.0.1 with protected-mode yes, require ACL users/requirepass, and enable TLS if it must be remote"},
	{Name: "memcached", Protocol: "", Ports: []uint16{11211}, Risk: finding.Critical, PublicOnly: true,
		Problem: "memcached has no authentication by default and its UDP port amplifies DDoS attacks", Alternative: "bind 127.0.0.1 (-l 127.0.0.1), disable UDP (-U 0), and enable SASL if it must be remote"},
	{Name: "mongodb", Protocol: "tcp", Ports: []uint16{27017}, Risk: finding.Critical, PublicOnly: true,
		Problem: "MongoDB on a public address is often reachable without authentication", Alternative: "bindIp 127.0.0.1, security.authorization: enabled, and TLS for remote clients"},
}

// Insecure returns the catalog entry for a listener of proto on port, if the
// service is insecure at that exposure (public reports a non-loopback bind).
func Insecure(proto string, port uint16, public bool) (Service, bool) {
	if s := insecure(proto, port, public); s != nil {
		return *s, true
	}
	return Service{}, false
}

// insecure is [Insecure] returning the entry of [Catalog], or nil.
func insecure(proto string, port uint16, public bool) *Service {
	for i := range Catalog {
		s := &Catalog[i]
		if s.Protocol != "" && s.Protocol != proto {
			continue
		}
		if !slices.Contains(s.Ports, port) {
			continue
		}
		if s.PublicOnly && !public {
			return nil
		}
		return s
	}
	return nil
}
