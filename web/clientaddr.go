package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/trustsign/trustsign/profile"
)

// parseProxies reads the trusted reverse proxies (addresses or CIDRs).
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range list {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if pf, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pf.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("web: trusted proxy %q is not an address or CIDR", p)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// clientAddr is the client's address for per-address limits, read exactly as the API reads it (gin's
// Context.ClientIP with the same trusted proxies), since both fronts share the counts: the connection's peer, or,
// when the peer is a trusted proxy, the first of X-Forwarded-For and X-Real-Ip that holds a valid hop list, walked
// from the right to the first hop that is not a trusted proxy (or its leftmost hop); IPv6 addresses count per /64
// (profile.AddressBucket).
func (s *server) clientAddr(r *http.Request) string { return profile.AddressBucket(s.clientIP(r)) }

// clientIP is the client's address (see clientAddr).
func (s *server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(strings.TrimSpace(r.RemoteAddr))
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if !s.trusted(peer) {
		return peer.Unmap().String()
	}
	for _, h := range []string{"X-Forwarded-For", "X-Real-Ip"} {
		if ip, ok := s.fromHeader(r.Header.Get(h)); ok {
			return ip
		}
	}
	return peer.Unmap().String()
}

// fromHeader walks a forwarding header's hops from the right: the first that is not a trusted proxy, or the
// leftmost; not ok when a hop is not an address.
func (s *server) fromHeader(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	hops := strings.Split(v, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return "", false
		}
		if i == 0 || !s.trusted(a) {
			return a.Unmap().String(), true
		}
	}
	return "", false
}
