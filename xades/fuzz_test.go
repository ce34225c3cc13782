package xades_test

import (
	"crypto"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the FuzzVerifyXML seed corpus in testdata/fuzz/FuzzVerifyXML")
	}
}

func updateSeeds() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fuzzTrustFile holds the root and intermediate certificates (PEM) of the PKI that made the seeds.
var fuzzTrustFile = filepath.Join("testdata", "fuzz-trust.pem")

// fuzzDetached is the detached content every fuzz input may reference (as "umowa.txt" or, being the only entry,
// under any relative name).
var fuzzDetached = map[string][]byte{"umowa.txt": []byte("umowa: 100.00 PLN\n")}

// FuzzVerifyXML feeds arbitrary documents to verify.XML (and so to xmldoc and xades.Verify). It must never panic,
// must finish quickly, and the report must be consistent: an indication from the ETSI set, TOTAL_PASSED only with
// every check passed and no reason, any other verdict with at least one reason, and a JSON encoding. Seeds are in
// testdata/fuzz/FuzzVerifyXML (go test -run TestFuzzVerifyXMLSeeds -update rewrites them).
func FuzzVerifyXML(f *testing.F) {
	// the seeds' own trust root and intermediate, so that they (and mutants) can reach TOTAL_PASSED; read, not
	// generated, so that fuzz workers start at once
	pemData, err := os.ReadFile(fuzzTrustFile)
	if err != nil {
		f.Fatalf("%v (run go test -run TestFuzzVerifyXMLSeeds -update)", err)
	}
	certs, err := signer.LoadCertificates(pemData)
	if err != nil || len(certs) != 2 {
		f.Fatalf("%s: %d certificates, %v", fuzzTrustFile, len(certs), err)
	}
	policy := &verify.Policy{Roots: certs[:1], Intermediates: certs[1:],
		Now: func() time.Time { return certs[1].NotBefore.Add(time.Hour) }}
	f.Fuzz(func(t *testing.T, data []byte) {
		// a hang is caught by the fuzzing engine's own per-input timeout; no wall-clock bound here
		rep := verify.XML("fuzz.xml", data, policy, verify.XMLOptions{Detached: fuzzDetached, MaxBytes: 1 << 20})
		if _, err := json.Marshal(rep); err != nil {
			t.Fatalf("report does not encode: %v", err)
		}
		switch {
		case rep.Error != "":
			if rep.Indication != verify.TotalFailed || len(rep.Signatures) != 1 || rep.Signatures[0].SubIndication != verify.FormatFailure {
				t.Fatalf("unparsable document: %s with %d signature reports", rep.Indication, len(rep.Signatures))
			}
		case len(rep.Signatures) == 0:
			if rep.Indication != verify.NoSignature {
				t.Fatalf("no signature but %s", rep.Indication)
			}
		}
		var check func(s verify.SignatureReport)
		check = func(s verify.SignatureReport) {
			switch s.Indication {
			case verify.TotalPassed:
				c := s.Checks
				if c.Structure != verify.Passed || c.Digests != verify.Passed || c.SignatureValue != verify.Passed ||
					c.Chain != verify.Passed || c.SigningCertificate == verify.Failed || len(s.Reasons) != 0 || s.SubIndication != "" {
					t.Fatalf("TOTAL_PASSED with checks %+v, sub-indication %q, reasons %q", c, s.SubIndication, s.Reasons)
				}
				if rep.Indication.Severity() < s.Indication.Severity() {
					t.Fatalf("file %s better than a signature's %s", rep.Indication, s.Indication)
				}
			case verify.Indeterminate, verify.TotalFailed:
				if len(s.Reasons) == 0 || s.SubIndication == "" {
					t.Fatalf("%s without a reason or sub-indication", s.Indication)
				}
				if rep.Indication.Severity() < s.Indication.Severity() {
					t.Fatalf("file %s better than a signature's %s", rep.Indication, s.Indication)
				}
			default:
				t.Fatalf("signature indication %q", s.Indication)
			}
			if s.Covered == nil {
				t.Fatal("covered is null")
			}
			for _, cs := range s.CounterSignatures {
				check(cs)
			}
		}
		for _, s := range rep.Signatures {
			check(s)
		}
	})
}

// fuzzSeeds are the seed inputs: our signatures of every kind and the shared corpus's XML files.
func fuzzSeeds(t *testing.T) map[string][]byte {
	p := testpki.New()
	seeds := map[string][]byte{}
	add := func(name, doc string) { seeds[name] = []byte(doc) }
	env := signedEnveloped(t)
	add("enveloped-rsa-profile", env)
	add("enveloped-ec256", signWith(t, attackDoc, p.EC256, xades.SignOptions{}))
	add("enveloped-ec384-sha384-v2", signWith(t, attackDoc, p.EC384, xades.SignOptions{Hash: crypto.SHA384, SigningCertificateV2: true}))
	add("enveloping-rsa-sha512", signWith(t, attackDoc, p.RSA, xades.SignOptions{Format: xades.Enveloping, Hash: crypto.SHA512}))
	add("detached-umowa", signWith(t, string(fuzzDetached["umowa.txt"]), p.EC256, xades.SignOptions{Format: xades.Detached, DetachedURI: "umowa.txt"}))
	add("cosigned", signWith(t, env, p.EC256, xades.SignOptions{Chain: p.EC256.Chain}))
	add("wrapped-png", signWith(t, string(xades.Wrap("skan.png", "image/png", []byte("\x89PNG\r\n\x1a\n...."))), p.RSA, xades.SignOptions{}))
	id := sigIDs(t, env)[0]
	add("counter-signed", counterSigned(t, env, id, id+"-sigvalue", xades.TypeCountersignedSignature))
	add("keyvalue-only", keyValueSigned(t, p.RSA.Key))
	add("id-reference", idReferenceSigned(t))
	add("comments-xpointer", commentsSigned(t, `URI="#xpointer(id('amount'))"`))
	add("doctype", strings.Replace(env, "<wniosek ", `<!DOCTYPE wniosek [<!ENTITY e "x">]><wniosek `, 1))
	add("lta-renewed", extend(t, ltaDoc(t), extendOpts(t, "b-lta", &testSource{})))

	dir := interoptest.CorpusDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "xml", "*.xml"))
	more, _ := filepath.Glob(filepath.Join(dir, "xml", "*", "*.xml"))
	for _, file := range append(files, more...) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		seeds["corpus-"+strings.TrimSuffix(filepath.Base(file), ".xml")] = b
	}
	return seeds
}

// TestFuzzVerifyXMLSeeds checks that the seed corpus exists and rewrites it with -update.
func TestFuzzVerifyXMLSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzVerifyXML")
	if updateSeeds() {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range fuzzSeeds(t) {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if updateSeeds() {
		p := testpki.New()
		if err := os.WriteFile(fuzzTrustFile, testpki.CertsPEM(p.Root, p.Intermediate), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) < 20 {
		t.Fatalf("seed corpus %s: %d files, %v (run go test -run TestFuzzVerifyXMLSeeds -update)", dir, len(entries), err)
	}
}
