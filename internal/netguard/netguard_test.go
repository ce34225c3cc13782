package netguard_test

import (
	"net/netip"
	"testing"

	"github.com/trustsign/trustsign/internal/netguard"
)

func TestSpecialPurpose(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		special bool
	}{
		{"127.0.0.1", true}, {"10.1.2.3", true}, {"169.254.169.254", true}, {"100.64.0.1", true},
		{"192.168.1.1", true}, {"0.0.0.0", true}, {"224.0.0.1", true}, {"::1", true}, {"fe80::1", true},
		{"fc00::1", true}, {"::ffff:127.0.0.1", true}, {"64:ff9b::a00:1", true}, {"2002:a00:1::", true},
		{"8.8.8.8", false}, {"193.0.6.139", false}, {"2001:4860:4860::8888", false},
	} {
		if got := netguard.SpecialPurpose(netip.MustParseAddr(tc.addr)); got != tc.special {
			t.Errorf("%s: special %v, want %v", tc.addr, got, tc.special)
		}
	}
	if !netguard.SpecialPurpose(netip.Addr{}) {
		t.Error("the zero address is not refused")
	}
}
