package signing

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/trustsign/trustsign/internal/netguard"
)

// webhookAddressAllowed reports whether a webhook may connect to ip: not in a special-purpose range and not one
// of the host's own addresses (own).
func webhookAddressAllowed(ip netip.Addr, own []netip.Addr) bool {
	if netguard.SpecialPurpose(ip) {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, a := range own {
		if a.Unmap().WithZone("") == ip {
			return false
		}
	}
	return true
}

// hostAddresses caches the host's own interface addresses for a minute: a webhook must not reach the service
// itself (or anything else on the host) through one of its public addresses.
type hostAddresses struct {
	mu   sync.Mutex
	at   time.Time
	addr []netip.Addr
}

func (h *hostAddresses) get() []netip.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.addr != nil && time.Since(h.at) < time.Minute {
		return h.addr
	}
	addrs, err := net.InterfaceAddrs()
	out := []netip.Addr{}
	if err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				out = append(out, p.Addr())
			} else if ip, err := netip.ParseAddr(a.String()); err == nil {
				out = append(out, ip)
			}
		}
	}
	h.addr, h.at = out, time.Now()
	return out
}
