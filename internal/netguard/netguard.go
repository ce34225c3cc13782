// Package netguard says which addresses a service may connect to on someone else's say-so (an integrator's webhook
// URL, the OCSP and CRL URLs in the certificates of a file under verification): never the special-purpose ranges
// (loopback, private, link-local where cloud metadata services live, ...), so that such a URL cannot make trustsign
// send requests into its own network.
package netguard

import "net/netip"

// specialPurpose is every range a connection made on someone else's say-so never reaches: the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (RFC 6890 and its updates; including the ranges marked globally reachable there, such as anycast relays and
// AS112, which no integrator serves notifications from), plus multicast and the deprecated site-local range.
var specialPurpose = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		// IPv4
		"0.0.0.0/8",       // "this network" (0.0.0.0 dials the local host)
		"10.0.0.0/8",      // private-use
		"100.64.0.0/10",   // shared address space (carrier-grade NAT)
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link local (cloud metadata services live here)
		"172.16.0.0/12",   // private-use
		"192.0.0.0/24",    // IETF protocol assignments (DS-Lite, PCP and TURN anycast, NAT64 discovery)
		"192.0.2.0/24",    // documentation (TEST-NET-1)
		"192.31.196.0/24", // AS112-v4
		"192.52.193.0/24", // AMT
		"192.88.99.0/24",  // deprecated 6to4 relay anycast
		"192.168.0.0/16",  // private-use
		"192.175.48.0/24", // direct delegation AS112 service
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation (TEST-NET-2)
		"203.0.113.0/24",  // documentation (TEST-NET-3)
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, and 255.255.255.255 limited broadcast
		// IPv6
		"::/96",             // unspecified, and the deprecated IPv4-compatible addresses
		"::1/128",           // loopback
		"::ffff:0:0/96",     // IPv4-mapped (unmapped and checked as IPv4 first; kept for completeness)
		"64:ff9b::/96",      // IPv4/IPv6 translation (NAT64 reaches any IPv4 address, private ones included)
		"64:ff9b:1::/48",    // local-use IPv4/IPv6 translation
		"100::/64",          // discard-only
		"100:0:0:1::/64",    // dummy IPv6 prefix
		"2001::/23",         // IETF protocol assignments (Teredo, benchmarking, ORCHID, AMT, DET …)
		"2001:db8::/32",     // documentation
		"2002::/16",         // 6to4 (embeds any IPv4 address)
		"2620:4f:8000::/48", // direct delegation AS112 service
		"3fff::/20",         // documentation
		"5f00::/16",         // segment routing (SRv6) SIDs
		"fc00::/7",          // unique local
		"fe80::/10",         // link local
		"fec0::/10",         // deprecated site local
		"ff00::/8",          // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// SpecialPurpose reports whether ip lies in a special-purpose range (or is no valid address): not a public
// unicast address that a CA, a TSA or an integrator serves from.
func SpecialPurpose(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return true
	}
	for _, p := range specialPurpose {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
