package signing_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/trustsign/trustsign/signing"
)

func TestWebhookNotifier(t *testing.T) {
	got := make(chan signing.WebhookPayload, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p signing.WebhookPayload
		json.NewDecoder(r.Body).Decode(&p)
		p.Status = r.URL.Path + ":" + p.Status
		got <- p
	}))
	defer srv.Close()
	notify := signing.WebhookNotifier(signing.WebhookOptions{AllowPrivate: true, Backoff: time.Millisecond})
	notify(context.Background(), signing.Request{ID: "a", Status: "signed", Webhook: true, SuccessURL: srv.URL + "/ok", FailureURL: srv.URL + "/fail"})
	notify(context.Background(), signing.Request{ID: "b", Status: "expired", Webhook: true, SuccessURL: srv.URL + "/ok", FailureURL: srv.URL + "/fail"})
	notify(context.Background(), signing.Request{ID: "c", Status: "signed", SuccessURL: srv.URL + "/ok"}) // not asked for
	seen := map[string]string{}
	for i := 0; i < 2; i++ {
		select {
		case p := <-got:
			seen[p.ID] = p.Status
		case <-time.After(5 * time.Second):
			t.Fatal("notification not delivered")
		}
	}
	if seen["a"] != "/ok:signed" || seen["b"] != "/fail:expired" {
		t.Errorf("notifications %v", seen)
	}
	select {
	case p := <-got:
		t.Errorf("unexpected notification %+v", p)
	case <-time.After(100 * time.Millisecond):
	}
}

// The default client refuses loopback and private addresses (SSRF from integrator-supplied URLs).
func TestWebhookRefusesPrivateAddresses(t *testing.T) {
	hit := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit <- true }))
	defer srv.Close()
	notify := signing.WebhookNotifier(signing.WebhookOptions{Backoff: time.Millisecond})
	notify(context.Background(), signing.Request{ID: "a", Status: "signed", Webhook: true, SuccessURL: srv.URL, FailureURL: srv.URL})
	select {
	case <-hit:
		t.Error("the webhook reached a loopback address")
	case <-time.After(300 * time.Millisecond):
	}
}

// Every IANA special-purpose range and the host's own addresses are refused; ordinary public addresses pass.
func TestWebhookAddressAllowed(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("203.0.114.7"), netip.MustParseAddr("2a01:4f8::7")}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"93.184.215.14", true}, {"8.8.8.8", true}, {"2606:4700::1111", true}, {"2a00:1450:4001::200e", true},
		{"100.63.255.255", true}, {"100.128.0.0", true}, {"198.17.255.255", true}, {"198.20.0.0", true},
		{"0.0.0.0", false}, {"0.1.2.3", false}, {"10.1.2.3", false}, {"100.64.0.1", false}, {"100.127.255.254", false},
		{"127.0.0.1", false}, {"127.8.8.8", false}, {"169.254.169.254", false}, {"172.16.0.1", false}, {"172.31.255.255", false},
		{"192.0.0.170", false}, {"192.0.2.1", false}, {"192.31.196.1", false}, {"192.52.193.1", false}, {"192.88.99.1", false},
		{"192.168.1.1", false}, {"192.175.48.1", false}, {"198.18.0.1", false}, {"198.19.255.255", false},
		{"198.51.100.1", false}, {"203.0.113.9", false}, {"224.0.0.1", false}, {"239.255.255.250", false},
		{"240.0.0.1", false}, {"255.255.255.255", false},
		{"::", false}, {"::1", false}, {"::127.0.0.1", false}, {"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false}, {"64:ff9b::a9fe:a9fe", false}, {"64:ff9b:1::1", false}, {"100::1", false},
		{"2001::1", false}, {"2001:2::1", false}, {"2001:10::1", false}, {"2001:db8::1", false}, {"2002:a9fe:a9fe::1", false},
		{"2620:4f:8000::1", false}, {"3fff::1", false}, {"5f00::1", false}, {"fc00::1", false}, {"fd12:3456::1", false},
		{"fe80::1", false}, {"fe80::1%eth0", false}, {"fec0::1", false}, {"ff02::1", false},
		{"203.0.114.7", false}, {"::ffff:203.0.114.7", false}, {"2a01:4f8::7", false}, // the host's own
	} {
		if got := signing.WebhookAddressAllowed(netip.MustParseAddr(tc.addr), own); got != tc.want {
			t.Errorf("%s: allowed %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// The dial-time check refuses the host's own non-loopback addresses too (an integrator naming the service's
// public address), and a name that resolves to a special-purpose address.
func TestWebhookRefusesHostAddressesAtDial(t *testing.T) {
	addrs, _ := net.InterfaceAddrs()
	var target string
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && !p.Addr().IsLoopback() && p.Addr().Is4() {
			target = p.Addr().String()
			break
		}
	}
	if target == "" {
		t.Skip("no non-loopback IPv4 interface address on this host")
	}
	ln, err := net.Listen("tcp", target+":0")
	if err != nil {
		t.Skip(err)
	}
	hit := make(chan bool, 2)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit <- true })}}
	srv.Start()
	defer srv.Close()
	notify := signing.WebhookNotifier(signing.WebhookOptions{Backoff: time.Millisecond})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		notify(context.Background(), signing.Request{ID: "a", Status: "signed", Webhook: true, SuccessURL: u})
	}
	select {
	case <-hit:
		t.Error("the webhook reached the host's own address")
	case <-time.After(300 * time.Millisecond):
	}
}
