package api_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/verify"
)

const nodeA, nodeB, proxy = 0, 1, -1

// TestMultiNodeSigningFlow: submit through the proxy, the code asked on node A and redeemed on node B, the signed
// document fetched through the proxy; a session made on one node works on the other; the audit chain written by
// both nodes verifies.
func TestMultiNodeSigningFlow(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	rx := c.integrator(t, "e-recepta")
	_, tok := c.holder(t, "anna")
	onA, onB := c.client(nodeA, client.SessionToken(tok)), c.client(nodeB, client.SessionToken(tok))
	for round := 0; round < 3; round++ {
		req := submitXML(t, rx, fmt.Sprint("flow ", round))
		if _, err := onB.Preview(bg, req.ID); err != nil {
			t.Fatalf("preview on B of a request filed through the proxy: %v", err)
		}
		c.clock.Advance(2 * time.Second)
		if _, err := onA.RequestCode(bg, req.ID); err != nil {
			t.Fatalf("code on A: %v", err)
		}
		code := c.lastCode(t, "anna@example.test")
		_, err := onB.Confirm(bg, req.ID, wrong(code))
		wantProblem(t, "a wrong code on B", err, 422)
		res, err := onB.Confirm(bg, req.ID, code)
		if err != nil || res.Status != "signed" {
			t.Fatalf("round %d: the code issued on A, confirmed on B: %+v %v", round, res, err)
		}
		_, err = onA.Confirm(bg, req.ID, code)
		wantProblem(t, "replay on A of a code redeemed on B", err, 409)
		for _, n := range []int{nodeA, nodeB} {
			st, err := rx.Status(bg, req.ID)
			if err != nil || st.Status != client.StatusSigned {
				t.Fatalf("status through the proxy (%d): %+v %v", n, st, err)
			}
		}
		signed, _, err := rx.SignedDocument(bg, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep := verify.XML("r.xml", signed, c.policy, verify.XMLOptions{}); rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 {
			t.Fatalf("round %d: %s, %d signatures", round, rep.Indication, len(rep.Signatures))
		}
	}
	// logging out on one node ends the session on both
	if err := onA.Logout(bg); err != nil {
		t.Fatal(err)
	}
	_, err := onB.Me(bg)
	wantProblem(t, "a session ended on A, used on B", err, 401)
	c.verifyAudit(t)
}

// TestMultiNodeConcurrentConfirm: ten confirmations with the right code at once, alternating between the nodes:
// exactly one 200, the others 409/422, one seal stored and one signature.create in the audit log.
func TestMultiNodeConcurrentConfirm(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	rx := c.integrator(t, "e-recepta")
	_, tok := c.holder(t, "anna")
	holder := c.client(proxy, client.SessionToken(tok))
	const rounds, n = 3, 10
	for round := 0; round < rounds; round++ {
		req := submitXML(t, rx, fmt.Sprint("race ", round))
		c.clock.Advance(2 * time.Second)
		if _, err := holder.RequestCode(bg, req.ID); err != nil {
			t.Fatal(err)
		}
		code := c.lastCode(t, "anna@example.test")
		statuses := make([]int, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				if _, err := holder.Confirm(bg, req.ID, code); err != nil {
					statuses[i] = client.StatusOf(err)
				} else {
					statuses[i] = 200
				}
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			switch s {
			case 200:
				ok++
			case 409, 422:
			default:
				t.Errorf("round %d: a concurrent confirmation answered %d", round, s)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of %d confirmations on two nodes succeeded (%v), want exactly 1", round, ok, n, statuses)
		}
		signed, _, err := rx.SignedDocument(bg, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep := verify.XML("r.xml", signed, c.policy, verify.XMLOptions{}); rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 {
			t.Fatalf("round %d: the document is not signed exactly once: %s, %d signatures", round, rep.Indication, len(rep.Signatures))
		}
	}
	if got := c.auditCount(t, "signature.create"); got != rounds {
		t.Errorf("%d signature.create records for %d requests", got, rounds)
	}
	c.verifyAudit(t)
}

// TestAttackCodeGuessingAcrossNodes: wrong codes sent to alternating nodes count in one total: three kill the code
// (not three per node), and the guessing limit (20 failures a day) is not doubled by a second node.
func TestAttackCodeGuessingAcrossNodes(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{msgs: profile.MessageOptions{PerDestination: 1000, HolderPerDestination: 1000}})
	rx := c.integrator(t, "e-recepta")
	_, tok := c.holder(t, "anna")
	on := []*client.Client{c.client(nodeA, client.SessionToken(tok)), c.client(nodeB, client.SessionToken(tok))}
	newCode := func(t *testing.T, id string) string {
		t.Helper()
		c.clock.Advance(2 * time.Second)
		if _, err := on[0].RequestCode(bg, id); err != nil {
			t.Fatal(err)
		}
		return c.lastCode(t, "anna@example.test")
	}

	t.Run("three wrong entries over two nodes kill the code", func(t *testing.T) {
		id := submitXML(t, rx, "kill").ID
		code := newCode(t, id)
		for i := range 3 {
			_, err := on[i%2].Confirm(bg, id, wrong(code))
			wantProblem(t, fmt.Sprintf("wrong entry %d on node %d", i+1, i%2), err, 422)
		}
		for i, cl := range on {
			_, err := cl.Confirm(bg, id, code)
			wantProblem(t, fmt.Sprintf("the right code on node %d after three wrong ones", i), err, 422)
		}
	})
	t.Run("guessing limit is one total", func(t *testing.T) {
		c.clock.Advance(16 * time.Minute) // a fresh window of code issues (the session idled out: log in again)
		s, err := c.client(proxy).Login(bg, "anna", clienttest.Password)
		if err != nil {
			t.Fatal(err)
		}
		on[0], on[1] = c.client(nodeA, client.SessionToken(s.Token)), c.client(nodeB, client.SessionToken(s.Token))
		id := submitXML(t, rx, "guess").ID
		var last error
		guesses := 0
		for guesses < 60 && !clienttest.IsProblem(last, 429) {
			code := newCode(t, id)
			for i := 0; i < 3 && !clienttest.IsProblem(last, 429); i++ {
				_, last = on[guesses%2].Confirm(bg, id, wrong(code))
				guesses++
			}
			if clienttest.IsProblem(last, 429) {
				break
			}
			c.clock.Advance(time.Minute) // stay within the issue window
		}
		p := wantProblem(t, "after many wrong entries on two nodes", last, 429)
		if guesses > 21 { // MaxFailures (20) + the refused one
			t.Errorf("throttled after %d wrong entries over two nodes, want after 20", guesses-1)
		}
		if p.RetryAfter < 3600 {
			t.Errorf("Retry-After %d s, want the failure window", p.RetryAfter)
		}
		for i, cl := range on {
			c.clock.Advance(2 * time.Second)
			_, err := cl.RequestCode(bg, id)
			wantProblem(t, fmt.Sprintf("a new code on node %d while throttled", i), err, 429)
		}
	})
}

// TestAttackLoginGuessingAcrossNodes: wrong passwords alternating between nodes meet the login delay after five in
// total, and the delay holds on both nodes.
func TestAttackLoginGuessingAcrossNodes(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	c.holder(t, "anna")
	on := []*client.Client{c.client(nodeA), c.client(nodeB)}
	var last error
	n := 0
	for n = 1; n <= 12; n++ {
		_, last = on[n%2].Login(bg, "anna", fmt.Sprintf("Wrong-Password-%d", n))
		if clienttest.IsProblem(last, 429) {
			break
		}
		wantProblem(t, fmt.Sprintf("attempt %d", n), last, 401)
	}
	if n != 6 {
		t.Fatalf("throttled after %d wrong passwords over two nodes, want after 5", n-1)
	}
	for i, cl := range on {
		_, err := cl.Login(bg, "anna", clienttest.Password)
		wantProblem(t, fmt.Sprintf("the right password on node %d while delayed", i), err, 429)
	}
	c.clock.Advance(time.Second)
	if _, err := on[0].Login(bg, "anna", clienttest.Password); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
}

// TestMultiNodeSweepsRunOnce: both nodes run the expiry sweep at once (as every `serve` does each minute): each
// expired request is expired once, notified once and audited once.
func TestMultiNodeSweepsRunOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	notified := map[string]int{}
	c := newCluster(t, clusterOptions{notify: func(string) func(context.Context, signing.Request) {
		return func(_ context.Context, r signing.Request) {
			mu.Lock()
			notified[r.ID+" "+r.Status]++
			mu.Unlock()
		}
	}})
	rx := c.integrator(t, "e-recepta")
	const n = 20
	ids := make([]string, n)
	for i := range n {
		ids[i] = submitXML(t, rx, fmt.Sprint("expire ", i)).ID
	}
	c.clock.Advance(8 * 24 * time.Hour) // past every request's expiry
	var wg sync.WaitGroup
	expired := make([]int, len(c.nodes))
	for i, nd := range c.nodes {
		wg.Go(func() {
			e, _, err := nd.Signing.Sweep(bg, 7*24*time.Hour)
			if err != nil {
				t.Errorf("%s sweep: %v", nd.name, err)
			}
			expired[i] = e
		})
		wg.Go(func() {
			if _, err := nd.Profiles.Sweep(bg); err != nil {
				t.Errorf("%s profile sweep: %v", nd.name, err)
			}
		})
	}
	wg.Wait()
	if expired[0]+expired[1] != n {
		t.Errorf("the nodes expired %v requests, want %d in total", expired, n)
	}
	for _, id := range ids {
		if k := notified[id+" expired"]; k != 1 {
			t.Errorf("%s: notified %d times of its expiry", id, k)
		}
	}
	if got := c.auditCount(t, "signature.expire"); got != n {
		t.Errorf("%d signature.expire records for %d requests", got, n)
	}
	c.verifyAudit(t)
}

// TestMultiNodeMaintenanceWindow: a window written once (admin maintenance add, on any node's store) closes login
// and signing on every node, within the nodes' cache of a couple of seconds.
func TestMultiNodeMaintenanceWindow(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	c.holder(t, "anna")
	now := c.clock.Now()
	// both nodes have read (and cached) the empty list
	for i := range c.nodes {
		if s, err := c.client(i).Maintenance(bg); err != nil || len(s.Windows) != 0 {
			t.Fatalf("node %d: %+v %v", i, s, err)
		}
	}
	if err := c.nodes[nodeA].DB.AddMaintenanceWindow(bg, store.MaintenanceWindow{ID: "mw1", Start: now, End: now.Add(time.Hour),
		Message: "upgrade", Created: now, CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(3 * time.Second) // past the window cache
	for i := range c.nodes {
		_, err := c.client(i).Login(bg, "anna", clienttest.Password)
		wantProblem(t, fmt.Sprintf("login on node %d during the window", i), err, 503)
	}
}

// TestMultiNodeConcurrentFlows: holders sign at the same time through the proxy (every request may land on either
// node): every flow ends signed exactly once, no request answers 5xx (no serialization failure escapes the
// retries), and the one audit chain verifies.
func TestMultiNodeConcurrentFlows(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	rx := c.integrator(t, "e-recepta")
	const holders, rounds = 8, 3
	sessions := make([]*client.Client, holders)
	for i := range holders {
		_, tok := c.holder(t, fmt.Sprintf("lekarz%d", i))
		sessions[i] = c.client(proxy, client.SessionToken(tok))
	}
	for round := range rounds {
		c.clock.Advance(2 * time.Second)
		var wg sync.WaitGroup
		for i, holder := range sessions {
			wg.Go(func() {
				req, err := rx.Submit(bg, client.Submission{Document: []byte(fmt.Sprintf("<recepta>%d/%d</recepta>", i, round)), FileName: "r.xml"})
				if err != nil {
					t.Errorf("holder %d round %d: submit: %v", i, round, err)
					return
				}
				if _, err := holder.RequestCode(bg, req.ID); err != nil {
					t.Errorf("holder %d round %d: code: %v", i, round, err)
					return
				}
				code := c.lastCode(t, fmt.Sprintf("lekarz%d@example.test", i))
				if _, err := holder.Confirm(bg, req.ID, code); err != nil {
					t.Errorf("holder %d round %d: confirm: %v", i, round, err)
					return
				}
				signed, _, err := rx.SignedDocument(bg, req.ID)
				if err != nil {
					t.Errorf("holder %d round %d: fetch: %v", i, round, err)
					return
				}
				if rep := verify.XML("r.xml", signed, c.policy, verify.XMLOptions{}); rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 {
					t.Errorf("holder %d round %d: %s, %d signatures", i, round, rep.Indication, len(rep.Signatures))
				}
			})
		}
		wg.Wait()
	}
	if got := c.auditCount(t, "signature.create"); got != holders*rounds {
		t.Errorf("%d signature.create records for %d flows", got, holders*rounds)
	}
	c.verifyAudit(t)
}
