package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// untrustedFetchClient is the HTTP client of a revocation.Fetcher that follows the URLs of certificates someone
// else made (verify --online, extend): the AIA and CRL distribution points of a crafted file could otherwise make
// the verifier send requests into its own network (loopback, a cloud metadata service, an intranet). It connects
// only to public unicast addresses, checked on the address dialled, so that a name resolving to a private address
// (DNS rebinding included) and redirects are refused too. allowPrivate (--fetch-allow-private) lifts this, for a
// test PKI or a proxy on the local network.
func untrustedFetchClient(allowPrivate bool) *http.Client {
	if allowPrivate {
		return nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: refusePrivateAddress}
	tr.DialContext = d.DialContext
	return &http.Client{Transport: tr}
}

// nonPublic are the ranges that IsGlobalUnicast and IsPrivate leave in but no CA serves revocation data from.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: reaches IPv4 addresses, private ones too
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// refusePrivateAddress is a net.Dialer Control refusing any address but a public unicast one.
func refusePrivateAddress(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("fetch refused: address %q: %w", address, err)
	}
	ip := ap.Addr().Unmap()
	ok := ip.IsGlobalUnicast() && !ip.IsPrivate()
	for _, p := range nonPublic {
		ok = ok && !p.Contains(ip)
	}
	if !ok {
		return fmt.Errorf("fetch refused: %s is not a public address (a file's certificates name it; --fetch-allow-private allows it)", ip)
	}
	return nil
}
