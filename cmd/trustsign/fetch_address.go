package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/trustsign/trustsign/internal/netguard"
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

// refusePrivateAddress is a net.Dialer Control refusing any address in a special-purpose range (netguard).
func refusePrivateAddress(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("fetch refused: address %q: %w", address, err)
	}
	ip := ap.Addr().Unmap()
	if netguard.SpecialPurpose(ip) {
		return fmt.Errorf("fetch refused: %s is not a public address (a file's certificates name it; --fetch-allow-private allows it)", ip)
	}
	return nil
}
