package main

import (
	"os"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
)

// TestAttackOnlineFetchReachesPrivateAddress: a file someone else made names, in its certificates' AIA and CRL
// distribution points, addresses on the verifier's own network (here loopback, like a cloud metadata service or an
// intranet admin page would be). verify --online and extend must not make requests there unless told to
// (--fetch-allow-private); offline the verdict stays what the embedded data shows.
func TestAttackOnlineFetchReachesPrivateAddress(t *testing.T) {
	f := newFixture(t)
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	id, err := r.Signer()
	if err != nil {
		t.Fatal(err)
	}
	key, err := testpki.KeyPEM(id.Key)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f.path("lt.key"), string(key))
	write(t, f.path("lt.pem"), string(testpki.CertsPEM(id.Cert)))
	write(t, f.path("lt-chain.pem"), string(testpki.CertsPEM(id.Chain[1:]...)))
	signed := f.path("lt-signed.xml")
	if code, _, stderr := ts(t, "sign", "--key", f.path("lt.key"), "--cert", f.path("lt.pem"), "--chain", f.path("lt-chain.pem"),
		f.path("doc.xml"), "-o", signed); code != 0 {
		t.Fatalf("sign: exit %d %s", code, stderr)
	}
	verifyArgs := []string{"verify", "--trust", f.path("root.pem"), "--online", "--fetch-timeout", "2s", signed}
	extendArgs := []string{"extend", "--level", "b-lt", "--tsa", p.TSA(t, testpki.TSAGood), "--fetch-timeout", "2s", signed, "-o", f.path("lt-ext.xml")}
	for _, tc := range []struct {
		name string
		args []string
	}{{"verify --online", verifyArgs}, {"extend b-lt", extendArgs}} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.Requests()
			code, _, stderr := ts(t, tc.args...)
			if n := r.Requests() - before; n != 0 {
				t.Fatalf("%d requests to the loopback responders named by the file (exit %d %s)", n, code, stderr)
			}
			if code == 0 {
				t.Fatalf("exit 0 without the revocation data it could not fetch: %s", stderr)
			}
		})
	}
	// told to, it fetches (a demo or test PKI on the local network)
	before := r.Requests()
	if code, _, stderr := ts(t, append([]string{"verify", "--fetch-allow-private"}, verifyArgs[1:]...)...); code != 0 || r.Requests() == before {
		t.Fatalf("--fetch-allow-private: exit %d, %d requests: %s", code, r.Requests()-before, stderr)
	}
	if _, err := os.Stat(f.path("lt-ext.xml")); err == nil {
		t.Fatal("extend wrote a file although the validation data could not be fetched")
	}
}
