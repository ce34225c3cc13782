package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/client"
)

// crashFlow is what the client saw of one flow against a node that is killed.
type crashFlow struct {
	id, marker, code string
	h                *faultHolder
	acked            bool // the confirmation was answered 200
}

// crashFlowRun is one signing flow of h (submit, code, confirm), remembering the code it confirmed with.
func (r *faultRig) crashFlowRun(ctx context.Context, h *faultHolder) crashFlow {
	h.flows++
	o := crashFlow{h: h, marker: fmt.Sprintf("%s-%d", h.login, h.flows)}
	sr, err := r.integ.Submit(ctx, client.Submission{Document: fmt.Appendf(nil, faultDoc, o.marker), FileName: "recepta.xml", Format: client.XAdES})
	if err != nil {
		return o
	}
	o.id = sr.ID
	if wait := time.Until(h.lastCode.Add(1100 * time.Millisecond)); wait > 0 {
		time.Sleep(wait)
	}
	seen := r.sms.sent(h.phone)
	h.codes++
	_, err = h.api.RequestCode(ctx, sr.ID)
	h.lastCode = time.Now()
	if err != nil {
		return o
	}
	code, ok := r.sms.next(h.phone, seen, 5*time.Second)
	if !ok {
		return o
	}
	o.code = code
	_, err = h.api.Confirm(ctx, sr.ID, code)
	o.acked = err == nil
	return o
}

// signatureCreates counts the signature.create audit records per request, with the store closed (audit export).
func (r *faultRig) signatureCreates(t *testing.T) map[string]int {
	t.Helper()
	code, out, errs := tsBin(t, r.bin, "", "audit", "export", "--data", r.data, "--store", r.store)
	if code != 0 {
		t.Fatalf("audit export: %d %s", code, errs)
	}
	creates := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct{ Kind, Subject string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit export line: %v", err)
		}
		if rec.Kind == "signature.create" {
			creates[rec.Subject]++
		}
	}
	if code, out, errs := tsBin(t, r.bin, "", "audit", "verify", "--data", r.data, "--store", r.store); code != 0 || !strings.Contains(out, "audit log intact") {
		t.Errorf("audit verify: %d %s %s", code, out, errs)
	}
	return creates
}

// TestCrashKill9MidLoadGroupCommit: `trustsign serve` on bbolt (group commit: many flows' writes in one fsync'd
// commit) runs the full signing flow for 16 holders at once over real HTTP and is killed with SIGKILL while
// confirmations are in flight, three times (restarted on the same store in between). With the store reopened: the
// audit chain verifies; every confirmation answered 200 is signed, with its document, and exactly one
// signature.create record; no request has two; the code of every acknowledged confirmation stays spent (confirming
// again with it is refused and seals nothing), while a code whose redemption was not acknowledged either was spent
// with its seal or can still be used, once. Every acknowledged submission is there. (Acknowledging a group before
// its commit fails this test.)
func TestCrashKill9MidLoadGroupCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	r := newFaultRig(t, "bbolt", 1, 16)
	var (
		mu    sync.Mutex
		flows []crashFlow
	)
	// three rounds of load, each ended by kill -9 while confirmations are in the node's hands (sealing, in the
	// writer's queue, committing, answering), the node restarted on the same store in between
	const rounds = 3
	for round := range rounds {
		if round > 0 {
			r.balance([]*server{r.startNode()})
		}
		killed := make(chan struct{})
		var wg sync.WaitGroup
		codes := faultCodesInLoad * (round + 1) / rounds
		for _, h := range r.holders {
			wg.Go(func() {
				for h.codes < codes {
					select {
					case <-killed:
						return
					default:
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					o := r.crashFlowRun(ctx, h)
					cancel()
					mu.Lock()
					flows = append(flows, o)
					mu.Unlock()
				}
			})
		}
		time.Sleep(1200 * time.Millisecond)
		for deadline := time.Now().Add(2 * time.Second); r.lb.confirming[0].Load() < 2 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Microsecond)
		}
		inFlight := r.lb.confirming[0].Load()
		if err := r.nodes[0].cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		r.nodes[0].cmd.Wait() //nolint:errcheck // killed
		close(killed)
		wg.Wait()
		t.Logf("round %d: killed with %d confirmations in flight", round, inFlight)
	}
	acked := 0
	for _, o := range flows {
		if o.acked {
			acked++
		}
	}
	t.Logf("%d flows, %d acknowledged", len(flows), acked)
	if acked == 0 {
		t.Fatal("no flow was acknowledged before the kills")
	}

	// the store after kill -9, reopened by the audit commands
	creates := r.signatureCreates(t)

	// a new node on the same store: what the flows were told holds
	r.balance([]*server{r.startNode()})
	ctx := context.Background()
	status := map[string]string{}
	for _, o := range flows {
		if o.id == "" {
			continue
		}
		st, err := r.integ.Status(ctx, o.id)
		if err != nil {
			t.Errorf("acknowledged submission %s (%s) after kill -9: %v", o.id, o.marker, err)
			continue
		}
		status[o.id] = st.Status
		signed := st.Status == "signed"
		switch {
		case o.acked && !signed:
			t.Errorf("acknowledged signature %s (%s) lost after kill -9: the request is %s", o.id, o.marker, st.Status)
		case signed && creates[o.id] != 1:
			t.Errorf("request %s (%s) is signed with %d signature.create records", o.id, o.marker, creates[o.id])
		case !signed && creates[o.id] != 0:
			t.Errorf("request %s (%s) is %s with %d signature.create records", o.id, o.marker, st.Status, creates[o.id])
		}
		if signed {
			doc, _, err := r.integ.SignedDocument(ctx, o.id)
			if err != nil || !bytes.Contains(doc, []byte(o.marker)) || !bytes.Contains(doc, []byte("SignatureValue>")) {
				t.Errorf("signed document of %s (%s): %v %.120q", o.id, o.marker, err, doc)
			}
		}
	}
	// each code once: confirming again with an acknowledged flow's code is refused; an unacknowledged flow's code
	// works only if its redemption did not commit
	var again, usedAfter int
	for _, o := range flows {
		if o.code == "" {
			continue
		}
		_, err := o.h.api.Confirm(ctx, o.id, o.code)
		var p *client.Problem
		switch {
		case err == nil && status[o.id] == "signed":
			t.Errorf("request %s (%s) was signed before the kill and confirmed again with its code", o.id, o.marker)
		case err == nil:
			usedAfter++
			status[o.id] = "signed"
		case !errors.As(err, &p):
			t.Errorf("confirming %s again: %v", o.id, err)
		default:
			again++
		}
	}
	t.Logf("confirming again after the restart: %d refused, %d unacknowledged redemptions completed now", again, usedAfter)
	for _, o := range r.flowsEach(t) {
		flows = append(flows, crashFlow{id: o.id, marker: o.marker, acked: o.acked})
		if o.acked {
			status[o.id] = "signed"
		}
	}
	r.nodes[0].stop(t)

	// no request sealed twice, before or after the restart
	creates = r.signatureCreates(t)
	for _, o := range flows {
		if o.id == "" {
			continue
		}
		want := 0
		if status[o.id] == "signed" {
			want = 1
		}
		if creates[o.id] != want {
			t.Errorf("request %s (%s, %s): %d signature.create records, want %d", o.id, o.marker, status[o.id], creates[o.id], want)
		}
	}
}
