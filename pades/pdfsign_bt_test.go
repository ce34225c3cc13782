package pades_test

import (
	"bytes"
	"crypto"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/digitorus/pdfsign"
	"github.com/digitorus/timestamp"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
)

// tsaServer is an RFC 3161 TSA over HTTP on loopback, answering with the test TSA (digitorus/timestamp).
func tsaServer(t *testing.T) string {
	t.Helper()
	tsa := testTSA(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Nonce: req.Nonce,
			Time: time.Now().UTC(), Accuracy: time.Second, Policy: []int{1, 2, 3, 4, 1}, AddTSACertificate: req.Certificates}
		resp, err := ts.CreateResponseWithOpts(tsa.Cert, tsa.Key, crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPdfsignBTToOurs: digitorus/pdfsign v1.0.0-rc2's B-T PAdES and document time-stamp verify in ours, with
// their time-stamps validated.
func TestPdfsignBTToOurs(t *testing.T) {
	p := testpki.New()
	url := tsaServer(t)
	signWith := func(in []byte, build func(*pdfsign.Document)) []byte {
		doc, err := pdfsign.Open(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			t.Fatal(err)
		}
		build(doc)
		var out bytes.Buffer
		if _, err := doc.Write(&out); err != nil {
			t.Fatalf("pdfsign: %v", err)
		}
		return out.Bytes()
	}
	bt := signWith(simplePDF(1, ""), func(d *pdfsign.Document) {
		d.Sign(p.RSA.Key, p.RSA.Cert, p.Intermediate).Format(pdfsign.PAdES_B_T).Timestamp(url)
	})
	rep := report(t, bt)
	if rep.Indication != verify.TotalPassed || rep.Signatures[0].Level != "PAdES-B-T" || len(rep.Signatures[0].TimeStamps) != 1 {
		t.Fatalf("pdfsign B-T in ours: %s, level %q, reasons %q", rep.Indication, rep.Signatures[0].Level, rep.Signatures[0].Reasons)
	}
	tsa := testTSA(t)
	withDoc := signWith(bt, func(d *pdfsign.Document) {
		d.Sign(tsa.Key, tsa.Cert, p.Intermediate).Type(pdfsign.DocumentTimestamp).Timestamp(url)
	})
	rep = report(t, withDoc)
	if rep.Indication != verify.TotalPassed || len(rep.Signatures) != 2 {
		for _, s := range rep.Signatures {
			t.Logf("%s: %s %q level %q timestamps %+v", s.ID, s.Indication, s.Reasons, s.Level, s.TimeStamps)
		}
		t.Fatalf("pdfsign document time-stamp in ours: %s", rep.Indication)
	}
	if d := rep.Signatures[1]; d.Level != "PAdES document time-stamp" || d.TimeStamps[0].Kind != "document" {
		t.Fatalf("document time-stamp: level %q, timestamps %+v", d.Level, d.TimeStamps)
	}
}
