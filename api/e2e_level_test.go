package api_test

// Long-term seals over real HTTP (issue 12): the service seals at its configured level through the in-process
// test TSA; a TSA that fails is a 503 that leaves the request pending and the code unspent; an integrator may ask
// for a level up to the configured one.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// switchableTSA is the test TSA whose behaviour a test changes while the service runs.
type switchableTSA struct {
	mode     atomic.Int32
	handlers map[testpki.TSAMode]http.Handler
	URL      string
}

func newSwitchableTSA(t *testing.T, modes ...testpki.TSAMode) *switchableTSA {
	t.Helper()
	s := &switchableTSA{handlers: map[testpki.TSAMode]http.Handler{}}
	for _, m := range modes {
		h, err := testpki.New().TSAHandler(m)
		if err != nil {
			t.Fatal(err)
		}
		s.handlers[m] = h
	}
	s.mode.Store(int32(modes[0]))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.handlers[testpki.TSAMode(s.mode.Load())].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *switchableTSA) set(m testpki.TSAMode) { s.mode.Store(int32(m)) }

// atLevel configures the service's level and its TSA client (the slow TSA answers only after the client's
// time-out: 3 s, so that a loaded machine does not make the good TSA look slow).
func atLevel(level, tsaURL string) func(*clienttest.Options) {
	return func(o *clienttest.Options) {
		o.Signing = func(so *signing.Options) {
			so.Level = level
			so.TimeStamp = (&tsa.Client{URLs: []string{tsaURL}, Timeout: 3 * time.Second}).Stamp
			so.Validation = (&revocation.Fetcher{Timeout: 2 * time.Second}).Collect
		}
	}
}

// sealOne submits doc, has a holder confirm it and returns the request's id and the confirmation's error.
func sealOne(t *testing.T, e *e2e, login string, sub client.Submission) (id, code string, holder *client.Client, err error) {
	t.Helper()
	_, _, holder = e.holder(t, login)
	sub.SuccessURL, sub.FailureURL = rxSuccess, rxFailure
	req, err := e.rx.Submit(bg, sub)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if _, err := holder.RequestCode(bg, req.ID); err != nil {
		t.Fatal(err)
	}
	code = e.code(t, login)
	_, err = holder.Confirm(bg, req.ID, code)
	return req.ID, code, holder, err
}

// TestLevelBTSealsVerify: a service at b-t time-stamps every seal: the stored XML verifies as XAdES-B-T and the
// PDF as PAdES-B-T, each with a valid signature time-stamp, and the request shows the level and the time-stamp.
func TestLevelBTSealsVerify(t *testing.T) {
	t.Parallel()
	ts := newSwitchableTSA(t, testpki.TSAGood)
	e := newE2E(t, atLevel("b-t", ts.URL))
	for i, tc := range []struct {
		name  string
		doc   []byte
		level string
	}{
		{"recepta.xml", prescription(t), "XAdES-B-T"},
		{"wniosek.pdf", pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}), "PAdES-B-T"},
	} {
		id, _, _, err := sealOne(t, e, []string{"anna", "basia"}[i], client.Submission{Document: tc.doc, FileName: tc.name})
		if err != nil {
			t.Fatalf("%s: confirm: %v", tc.name, err)
		}
		signed, _, err := e.rx.SignedDocument(bg, id)
		if err != nil {
			t.Fatal(err)
		}
		rep := verify.Bytes(bg, tc.name, signed, e.Policy, verify.Options{})
		if rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 {
			t.Fatalf("%s: %+v", tc.name, rep)
		}
		s := rep.Signatures[0]
		if s.Level != tc.level || len(s.TimeStamps) == 0 || s.TimeStamps[0].Indication != verify.TotalPassed {
			t.Fatalf("%s: level %q time-stamps %+v", tc.name, s.Level, s.TimeStamps)
		}
		st, err := e.rx.Status(bg, id)
		if err != nil || st.Level != "b-t" || len(st.TimeStamps) != 1 || st.TimeStamps[0].Kind != "signature" ||
			!strings.Contains(st.TimeStamps[0].TSA, "Trustsign Test TSA") || st.TimeStamps[0].Time.IsZero() {
			t.Fatalf("%s: status %+v %v", tc.name, st, err)
		}
	}
}

// TestAttackTSAOutageKeepsRequestPending: the TSA fails (HTTP 500, then too slow to answer) while the holder
// confirms. Each confirmation is a 503 with Retry-After that changes nothing: the request stays pending, no
// document is stored, the code is not spent; once the TSA is back the same code seals the document at B-T.
func TestAttackTSAOutageKeepsRequestPending(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"xml", "pdf"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			ts := newSwitchableTSA(t, testpki.TSAHTTP500, testpki.TSASlow, testpki.TSAGood)
			e := newE2E(t, atLevel("b-t", ts.URL))
			sub := client.Submission{Document: prescription(t), FileName: "recepta.xml"}
			if format == "pdf" {
				sub = client.Submission{Document: pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}), FileName: "wniosek.pdf"}
			}
			id, code, holder, err := sealOne(t, e, "anna", sub)
			p := wantProblem(t, "confirm while the TSA answers 500", err, 503)
			if p.RetryAfter <= 0 || !strings.HasSuffix(p.Type, "seal-unavailable") {
				t.Fatalf("problem %+v", p)
			}
			ts.set(testpki.TSASlow)
			_, err = holder.Confirm(bg, id, code)
			wantProblem(t, "confirm while the TSA is too slow", err, 503)
			st, err := e.rx.Status(bg, id)
			if err != nil || st.Status != client.StatusPending || st.FailureReason != "" || len(st.TimeStamps) != 0 {
				t.Fatalf("after the TSA failures: %+v %v (want pending)", st, err)
			}
			_, _, err = e.rx.SignedDocument(bg, id)
			wantProblem(t, "document after the TSA failures", err, 409)
			if n := auditCount(t, e, "signature.unavailable"); n != 2 {
				t.Errorf("%d unavailable seals audited, want 2", n)
			}

			ts.set(testpki.TSAGood)
			res, err := holder.Confirm(bg, id, code)
			if err != nil || res.Status != "signed" {
				t.Fatalf("confirm once the TSA is back: %+v %v", res, err)
			}
			signed, _, err := e.rx.SignedDocument(bg, id)
			if err != nil {
				t.Fatal(err)
			}
			rep := verify.Bytes(bg, "signed", signed, e.Policy, verify.Options{})
			if rep.Indication != verify.TotalPassed || !strings.HasSuffix(rep.Signatures[0].Level, "-B-T") {
				t.Fatalf("after recovery: %s %+v", rep.Indication, rep.Signatures)
			}
			_, err = holder.Confirm(bg, id, code)
			wantProblem(t, "code replay after recovery", err, 409)
		})
	}
}

// TestLevelPerRequest: an integrator may ask for a level up to the configured one (b-b from a b-t service makes
// an untimestamped seal); a higher one is a 400 level-not-allowed, an unknown one a 422, and nothing is stored.
func TestLevelPerRequest(t *testing.T) {
	t.Parallel()
	ts := newSwitchableTSA(t, testpki.TSAGood)
	e := newE2E(t, atLevel("b-t", ts.URL))
	doc := prescription(t)

	_, err := e.rx.Submit(bg, client.Submission{Document: doc, FileName: "r.xml", Level: "b-lt"})
	if p := wantProblem(t, "b-lt from a b-t service", err, 400); !strings.HasSuffix(p.Type, "level-not-allowed") {
		t.Fatalf("problem %+v", p)
	}
	_, err = e.rx.SubmitBatch(bg, client.BatchSubmission{Level: "b-lta", Documents: []client.BatchDocument{{Document: doc, FileName: "a.xml"}, {Document: doc, FileName: "b.xml"}}})
	wantProblem(t, "a b-lta batch from a b-t service", err, 400)
	_, err = e.rx.Submit(bg, client.Submission{Document: doc, FileName: "r.xml", Level: "b-x"})
	wantProblem(t, "an unknown level", err, 422)

	id, _, _, err := sealOne(t, e, "anna", client.Submission{Document: doc, FileName: "r.xml", Level: "B-B"})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := e.rx.Status(bg, id)
	signed, _, err := e.rx.SignedDocument(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	rep := verify.Bytes(bg, "r.xml", signed, e.Policy, verify.Options{})
	if st.Level != "b-b" || len(st.TimeStamps) != 0 || rep.Signatures[0].Level != "XAdES-B-B" {
		t.Fatalf("b-b asked: status %+v, verified at %s", st, rep.Signatures[0].Level)
	}

	// a service left at its default seals at b-b and says so
	plain := newE2E(t)
	req, err := plain.rx.Submit(bg, client.Submission{Document: doc, FileName: "r.xml"})
	if err != nil || req.Level != "b-b" {
		t.Fatalf("default level: %+v %v", req, err)
	}
	_, err = plain.rx.Submit(bg, client.Submission{Document: doc, FileName: "r.xml", Level: "b-t"})
	wantProblem(t, "b-t from a b-b service", err, 400)
}

// extendImplemented tells whether xades.Extend is past its skeleton (the B-LT/B-LTA tests wait for it).
func extendImplemented() bool {
	_, err := xades.Extend(context.Background(), []byte("<a/>"), xades.ExtendOptions{Level: "b-lt"})
	return err == nil || !strings.Contains(err.Error(), "not implemented")
}

// TestLevelBLTAndBLTASealsVerify: a service at b-lt and b-lta seals XML and PDF at those levels (skipped while
// xades.Extend and pades.Extend are the skeleton).
func TestLevelBLTAndBLTASealsVerify(t *testing.T) {
	t.Parallel()
	if !extendImplemented() {
		t.Skip("xades.Extend / pades.Extend not implemented on this branch yet: the lead enables this test after merging them")
	}
	ts := newSwitchableTSA(t, testpki.TSAGood)
	for _, level := range []string{"b-lt", "b-lta"} {
		e := newE2E(t, atLevel(level, ts.URL))
		for i, tc := range []struct {
			name string
			doc  []byte
			want string
		}{
			{"recepta.xml", prescription(t), "XAdES-" + strings.ToUpper(level)},
			{"wniosek.pdf", pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}), "PAdES-" + strings.ToUpper(level)},
		} {
			id, _, _, err := sealOne(t, e, []string{"anna", "basia"}[i], client.Submission{Document: tc.doc, FileName: tc.name})
			if err != nil {
				t.Fatalf("%s %s: confirm: %v", level, tc.name, err)
			}
			signed, _, err := e.rx.SignedDocument(bg, id)
			if err != nil {
				t.Fatal(err)
			}
			rep := verify.Bytes(bg, tc.name, signed, e.Policy, verify.Options{})
			if rep.Indication != verify.TotalPassed || rep.Signatures[0].Level != tc.want {
				t.Fatalf("%s %s: %s %+v", level, tc.name, rep.Indication, rep.Signatures)
			}
		}
	}
}

// TestLevelBTBatchStampsConcurrently: the documents of a B-T batch are time-stamped concurrently (their TSA round
// trips overlap), and each stored document carries its own time-stamp.
func TestLevelBTBatchStampsConcurrently(t *testing.T) {
	t.Parallel()
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: the batch is sealed one document at a time")
	}
	good, err := testpki.New().TSAHandler(testpki.TSAGood)
	if err != nil {
		t.Fatal(err)
	}
	var inFlight, most atomic.Int32
	two := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if n >= 2 {
			once.Do(func() { close(two) })
		}
		select { // hold the answer until a second request is in flight (or give up: the test then fails below)
		case <-two:
		case <-time.After(2 * time.Second):
		}
		good.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e := newE2E(t, func(o *clienttest.Options) {
		o.Signing = func(so *signing.Options) {
			so.Level = signing.LevelBT
			so.TimeStamp = (&tsa.Client{URLs: []string{srv.URL}, Timeout: 5 * time.Second}).Stamp
		}
	})
	_, _, anna := e.holder(t, "anna")
	doc := prescription(t)
	b, err := e.rx.SubmitBatch(bg, client.BatchSubmission{Documents: []client.BatchDocument{{Document: doc, FileName: "a.xml"},
		{Document: doc, FileName: "b.xml"}, {Document: doc, FileName: "c.xml"}}, SuccessURL: rxSuccess, FailureURL: rxFailure})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anna.RequestCode(bg, b.ID); err != nil {
		t.Fatal(err)
	}
	res, err := anna.Confirm(bg, b.ID, e.code(t, "anna"))
	if err != nil || len(res.Requests) != 3 {
		t.Fatalf("confirm: %+v %v", res, err)
	}
	if most.Load() < 2 {
		t.Errorf("at most %d time-stamp requests in flight: the batch was stamped one document at a time", most.Load())
	}
	for _, r := range res.Requests {
		if r.Level != "b-t" || len(r.TimeStamps) != 1 {
			t.Errorf("%s: level %q, %d time-stamps", r.FileName, r.Level, len(r.TimeStamps))
		}
	}
}
