package web

import (
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/profile"
)

// The per-address limits (registration, resend, reset, failed logins) are one count in the profile service,
// shared by the API and the pages, so both must key a request on the same address. Behind the same
// --trusted-proxies they do not: the API (gin's ClientIP) also believes X-Real-IP from a trusted proxy and takes
// the leftmost hop when every hop is trusted, the pages read only X-Forwarded-For and fall back to the proxy.
// Behind a proxy that sets X-Real-IP (nginx's common `proxy_set_header X-Real-IP $remote_addr`), every page
// visitor is the proxy: 100 wrong page logins refuse page logins to everyone (and 20 registrations close
// registration on the pages) for the window.
func TestAttackPagesAndAPIKeyTheSameClientDifferently(t *testing.T) {
	gin.SetMode(gin.TestMode)
	trusted := []string{"10.0.0.0/8"}
	proxies, err := parseProxies(trusted)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{proxies: proxies}
	for _, tc := range []struct {
		name, header, value string
	}{
		{"X-Real-IP from the trusted proxy", "X-Real-IP", "203.0.113.9"},
		{"X-Forwarded-For of trusted hops only", "X-Forwarded-For", "10.7.7.7, 10.8.8.8"},
		{"X-Forwarded-For as the API reads it", "X-Forwarded-For", "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = "10.1.2.3:4000"
			r.Header.Set(tc.header, tc.value)
			c, eng := gin.CreateTestContext(httptest.NewRecorder())
			if err := eng.SetTrustedProxies(trusted); err != nil { // as api.New does with cfg.TrustedProxies
				t.Fatal(err)
			}
			c.Request = r
			api, pages := profile.AddressBucket(c.ClientIP()), s.clientAddr(r)
			if api != pages {
				t.Errorf("the API counts %s, the pages %s", api, pages)
			}
		})
	}
}
