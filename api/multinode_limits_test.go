package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/api"
	"github.com/trustsign/trustsign/store"
)

// TestAttackSharedLimitKeysSwept: the shared limits keep one row per key, so a client rotating its address (here
// 300 addresses through a trusted proxy, over both nodes) leaves 300 counter windows in the database and none in
// any node's memory; once their minute is over the sweep (profile.Service.Sweep, run each minute by serve) removes
// every one, so the table holds no more than the keys of the last minute or two.
func TestAttackSharedLimitKeysSwept(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{apiCfg: func(cfg *api.Config) { cfg.TrustedProxies = []string{"127.0.0.1", "::1"} }})
	const addrs = 300
	for i := range addrs {
		req, _ := http.NewRequestWithContext(bg, "POST", c.nodes[i%2].HTTP.URL+"/v1/verify", strings.NewReader("<a>unsigned</a>"))
		req.Header.Set("Content-Type", "application/xml")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.%d.%d", i/250, i%250+1))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("verification %d: %d", i, resp.StatusCode)
		}
	}
	windows := func() int {
		t.Helper()
		n := 0
		if err := c.nodes[nodeB].DB.View(bg, func(tx *store.Tx) error {
			return tx.KV().Scan("counter_windows", nil, nil, func(_, _ []byte) (bool, error) { n++; return true, nil })
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := windows(); n != addrs {
		t.Fatalf("%d counter windows after %d addresses, want one each", n, addrs)
	}
	c.clock.Advance(30 * time.Second)
	if r, err := c.nodes[nodeA].Profiles.Sweep(bg); err != nil || r.DeletedCounterWindows != 0 {
		t.Fatalf("a sweep within the minute removed %d live windows (%v)", r.DeletedCounterWindows, err)
	}
	c.clock.Advance(31 * time.Second)
	r, err := c.nodes[nodeA].Profiles.Sweep(bg)
	if err != nil || r.DeletedCounterWindows != addrs {
		t.Fatalf("the sweep after the minute removed %d windows (%v), want %d", r.DeletedCounterWindows, err, addrs)
	}
	if n := windows(); n != 0 {
		t.Fatalf("%d counter windows left after the sweep", n)
	}
}
