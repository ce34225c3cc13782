package web

import (
	"net/http/httptest"
	"testing"
)

// The per-address limits read the client's address: the peer, or behind a trusted proxy the nearest untrusted hop
// of X-Forwarded-For (a client cannot pick its own address by sending the header to an untrusted peer).
func TestClientAddr(t *testing.T) {
	proxies, err := parseProxies([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{proxies: proxies}
	tests := []struct {
		name, remote, xff, want string
	}{
		{"no proxy", "198.51.100.1:4000", "", "198.51.100.1"},
		{"header from an untrusted peer ignored", "198.51.100.1:4000", "203.0.113.9", "198.51.100.1"},
		{"trusted proxy", "10.1.2.3:4000", "203.0.113.9", "203.0.113.9"},
		{"chain of trusted proxies", "10.1.2.3:4000", "203.0.113.9, 192.0.2.7", "203.0.113.9"},
		{"spoofed left part skipped", "10.1.2.3:4000", "1.1.1.1, 203.0.113.9", "203.0.113.9"},
		{"garbage stops at the proxy", "10.1.2.3:4000", "nonsense", "10.1.2.3"},
		{"IPv6 peer counts as its /64", "[2001:db8::1]:4000", "", "2001:db8::/64"},
		{"another address of the same /64", "[2001:db8::ffff:1:2]:4000", "", "2001:db8::/64"},
		{"IPv4-mapped IPv6 peer", "[::ffff:198.51.100.1]:4000", "", "198.51.100.1"},
		{"IPv6 client behind a trusted proxy", "10.1.2.3:4000", "2001:db8:1:2:3::9", "2001:db8:1:2::/64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/register", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := s.clientAddr(r); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := parseProxies([]string{"not-an-address"}); err == nil {
		t.Error("a bad proxy accepted")
	}
}
