package xades_test

// Interoperability with independent implementations (../shared/interop): our signatures verify in xmlsec1 and
// Apache Santuario (and, for the shapes it can read, xadesjs), theirs verify in ours, and tampered copies are
// rejected by every verifier. The tests skip, saying why, only when the toolkit is genuinely missing.

import (
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// interopPKI writes the test PKI's trust root and intermediate as PEM files and returns their paths.
func interopPKI(t *testing.T) (root, inter string) {
	t.Helper()
	p := testpki.New()
	dir := t.TempDir()
	return interoptest.WritePEM(t, dir, "root.pem", p.Root), interoptest.WritePEM(t, dir, "inter.pem", p.Intermediate)
}

// tamper changes the signed amount in a document (or detached content) and fails if it is absent.
func tamper(t *testing.T, b []byte) []byte {
	t.Helper()
	if !strings.Contains(string(b), "100.00") {
		t.Fatal("nothing to tamper with")
	}
	return []byte(strings.Replace(string(b), "100.00", "900.00", 1))
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// oursVerdict verifies a file with ours (trusting the test root), giving detached content when named.
func oursVerdict(t *testing.T, file string, detached map[string][]byte) verify.FileReport {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return verify.XML(filepath.Base(file), b, trusting(), verify.XMLOptions{Detached: detached})
}

// Ours → peers: every shape we make verifies in the peers that can read it, and a tampered copy fails in each of
// them and in ours.
func TestInteropOursVerifiedByPeers(t *testing.T) {
	interoptest.Tool(t)
	p := testpki.New()
	root, inter := interopPKI(t)
	const content = "umowa: 100.00 PLN\n"
	all := []string{"xmlsec", "santuario"}
	withJS := []string{"xmlsec", "santuario", "xadesjs"}
	cases := []struct {
		name  string
		id    testpki.Identity
		opts  xades.SignOptions
		doc   string
		peers []string
	}{
		{"enveloped-rsa-profile", p.RSA, xades.SignOptions{Profile: testProfile}, attackDoc, all},
		{"enveloped-ecdsa-p256", p.EC256, xades.SignOptions{}, attackDoc, all},
		{"enveloped-signingcertificatev2", p.RSA, xades.SignOptions{SigningCertificateV2: true}, attackDoc, all},
		{"enveloped-ecdsa-p384-sha384", p.EC384, xades.SignOptions{Hash: crypto.SHA384}, attackDoc, all},
		{"enveloped-rsa-sha512-with-chain", p.RSA, xades.SignOptions{Hash: crypto.SHA512, Chain: p.RSA.Chain}, attackDoc, all},
		{"enveloping-rsa", p.RSA, xades.SignOptions{Format: xades.Enveloping}, attackDoc, withJS},
		{"enveloping-ecdsa-p256-v2", p.EC256, xades.SignOptions{Format: xades.Enveloping, SigningCertificateV2: true}, attackDoc, withJS},
		{"detached-rsa", p.RSA, xades.SignOptions{Format: xades.Detached, DetachedURI: "umowa.txt", MIMEType: "text/plain"}, content, withJS},
		{"detached-ecdsa-p256-sha512", p.EC256, xades.SignOptions{Format: xades.Detached, DetachedURI: "umowa.txt", Hash: crypto.SHA512}, content, withJS},
		{"wrapped-file", p.RSA, xades.SignOptions{}, string(xades.Wrap("umowa.txt", "text/plain", []byte(content))), all},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			signed := signWith(t, tc.doc, tc.id, tc.opts)
			good, bad := filepath.Join(t.TempDir(), "signed.xml"), filepath.Join(t.TempDir(), "signed.xml")
			writeFile(t, good, []byte(signed))
			var detached map[string][]byte
			if tc.opts.Format == xades.Detached {
				writeFile(t, filepath.Join(filepath.Dir(good), "umowa.txt"), []byte(tc.doc))
				writeFile(t, filepath.Join(filepath.Dir(bad), "umowa.txt"), tamper(t, []byte(tc.doc)))
				writeFile(t, bad, []byte(signed))
				detached = map[string][]byte{"umowa.txt": []byte(tc.doc)}
			} else if strings.HasPrefix(tc.name, "wrapped") {
				// the wrapped file's bytes (one base64 line, as the content is short)
				writeFile(t, bad, []byte(replaceOne(t, signed, b64([]byte(content)), b64(tamper(t, []byte(content))))))
			} else {
				writeFile(t, bad, tamper(t, []byte(signed)))
			}
			for _, peer := range tc.peers {
				if ok, out := interoptest.Verify(t, peer, good, root, inter); !ok {
					t.Errorf("%s rejects our %s signature:\n%s", peer, tc.name, out)
				}
				if ok, out := interoptest.Verify(t, peer, bad, root, inter); ok {
					t.Errorf("%s accepts our tampered %s signature:\n%s", peer, tc.name, out)
				}
			}
			if rep := oursVerdict(t, good, detached); rep.Indication != verify.TotalPassed {
				t.Errorf("ours: %s %q", rep.Indication, rep.Signatures[0].Reasons)
			}
			badDetached := detached
			if detached != nil {
				badDetached = map[string][]byte{"umowa.txt": tamper(t, []byte(tc.doc))}
			}
			if rep := oursVerdict(t, bad, badDetached); rep.Indication != verify.TotalFailed {
				t.Errorf("ours accepts the tampered copy: %s %q", rep.Indication, rep.Signatures[0].Reasons)
			}
		})
	}
	t.Run("co-signed", func(t *testing.T) {
		t.Parallel()
		signed := signWith(t, signWith(t, attackDoc, p.RSA, xades.SignOptions{Profile: testProfile}), p.EC256, xades.SignOptions{})
		good := writeFile(t, filepath.Join(t.TempDir(), "cosigned.xml"), []byte(signed))
		bad := writeFile(t, filepath.Join(t.TempDir(), "cosigned.xml"), tamper(t, []byte(signed)))
		// the first signature's SignatureValue altered: only that signature fails
		id := sigIDs(t, signed)[0]
		sv := between(t, signed, `<ds:SignatureValue Id="`+id+`-sigvalue">`, `</ds:SignatureValue>`)
		broken := strings.Replace(sv, ">", ">AAAA", 1)
		firstBroken := writeFile(t, filepath.Join(t.TempDir(), "cosigned.xml"), []byte(replaceOne(t, signed, sv, broken)))
		for _, peer := range all {
			if ok, out := interoptest.Verify(t, peer, good, root, inter); !ok {
				t.Errorf("%s rejects our co-signed document:\n%s", peer, out)
			}
			for _, f := range []string{bad, firstBroken} {
				if ok, out := interoptest.Verify(t, peer, f, root, inter); ok {
					t.Errorf("%s accepts a broken co-signed document:\n%s", peer, out)
				}
			}
		}
		rep := oursVerdict(t, good, nil)
		if rep.Indication != verify.TotalPassed || len(rep.Signatures) != 2 {
			t.Errorf("ours: %s with %d signatures", rep.Indication, len(rep.Signatures))
		}
		rep = oursVerdict(t, firstBroken, nil)
		if len(rep.Signatures) != 2 || rep.Signatures[0].Indication != verify.TotalFailed || rep.Signatures[1].Indication != verify.TotalPassed {
			t.Errorf("ours on the first signature broken: %s", rep.Indication)
		}
	})
}

// Peers → ours: signatures made by xmlsec1 and xadesjs with the test PKI's keys verify in ours; tampered copies
// fail in ours and in the peers.
func TestInteropPeersVerifiedByOurs(t *testing.T) {
	interoptest.Tool(t)
	p := testpki.New()
	root, inter := interopPKI(t)
	keys := t.TempDir()
	rsaKey := interoptest.WriteKey(t, keys, "rsa.key", p.RSA.Key)
	rsaChain := interoptest.WritePEM(t, keys, "rsa-chain.pem", p.RSA.Cert, p.Intermediate)
	rsaLeaf := interoptest.WritePEM(t, keys, "rsa.pem", p.RSA.Cert)
	ecKey := interoptest.WriteKey(t, keys, "ec.key", p.EC256.Key)
	ecLeaf := interoptest.WritePEM(t, keys, "ec.pem", p.EC256.Cert)
	const content = "umowa: 100.00 PLN\n"
	noDecl := attackDoc[strings.Index(attackDoc, "<wniosek"):]

	cases := []struct {
		name string
		// args after "IN OUT"
		args  []string
		input string
		// plain XMLDSig: no XAdES properties, so the signing certificate is not bound
		plain    bool
		detached bool
		verifier string // the peer that re-checks the tampered copy
	}{
		{"xmlsec-plain-rsa", []string{"xmlsec-sign", "--key", rsaKey, "--cert", rsaChain}, attackDoc, true, false, "xmlsec"},
		{"xmlsec-plain-ecdsa", []string{"xmlsec-sign", "--key", ecKey, "--cert", ecLeaf}, attackDoc, true, false, "xmlsec"},
		{"xmlsec-plain-no-xml-declaration", []string{"xmlsec-sign", "--key", rsaKey, "--cert", rsaChain}, noDecl, true, false, "xmlsec"},
		{"xmlsec-plain-inclusive-c14n", []string{"xmlsec-sign", "--key", rsaKey, "--cert", rsaLeaf, "--inclusive-c14n"}, attackDoc, true, false, "xmlsec"},
		{"xmlsec-ref-id", []string{"xmlsec-sign", "--key", rsaKey, "--cert", rsaLeaf, "--ref", "amount"}, attackDoc, true, false, "xmlsec"},
		{"xmlsec-xades", []string{"xmlsec-sign", "--key", rsaKey, "--cert", rsaChain, "--xades"}, attackDoc, false, false, "santuario"},
		{"xmlsec-xades-xpath2", []string{"xmlsec-sign", "--key", rsaKey, "--cert", rsaChain, "--xades", "--xpath2"}, attackDoc, false, false, "santuario"},
		{"xmlsec-xpath2-ecdsa", []string{"xmlsec-sign", "--key", ecKey, "--cert", ecLeaf, "--xpath2"}, attackDoc, true, false, "xmlsec"},
		{"xadesjs-enveloped", []string{"xadesjs-sign", "--key", rsaKey, "--cert", rsaChain, "--enveloped"}, attackDoc, false, false, "xadesjs"},
		{"xadesjs-enveloped-ecdsa", []string{"xadesjs-sign", "--key", ecKey, "--cert", ecLeaf, "--enveloped"}, attackDoc, false, false, "xadesjs"},
		{"xadesjs-enveloping", []string{"xadesjs-sign", "--key", rsaKey, "--cert", rsaChain, "--enveloping"}, attackDoc, false, false, "xadesjs"},
		{"xadesjs-detached", []string{"xadesjs-sign", "--key", rsaKey, "--cert", rsaChain, "--detached"}, content, false, true, "xadesjs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := writeFile(t, filepath.Join(dir, "umowa.xml"), []byte(tc.input))
			if tc.detached {
				in = writeFile(t, filepath.Join(dir, "umowa.txt"), []byte(tc.input))
			}
			out := filepath.Join(dir, "signed.xml")
			args := append([]string{tc.args[0], in, out}, tc.args[1:]...)
			if ok, msg := interoptest.Run(t, args...); !ok {
				t.Fatalf("interop %s failed:\n%s", tc.args[0], msg)
			}
			signed, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if tc.input == noDecl && !strings.Contains(string(signed), "&#") {
				t.Logf("note: xmlsec-sign kept the non-ASCII characters as they were")
			}
			var detached map[string][]byte
			if tc.detached {
				detached = map[string][]byte{"umowa.txt": []byte(tc.input)}
			}
			rep := oursVerdict(t, out, detached)
			if len(rep.Signatures) != 1 {
				t.Fatalf("ours found %d signatures (%s, %q)", len(rep.Signatures), rep.Indication, rep.Error)
			}
			s := rep.Signatures[0]
			t.Logf("ours: %s/%s %s %q covered %q", s.Indication, s.SubIndication, s.Level, s.Reasons, s.Covered)
			if s.Indication != verify.TotalPassed {
				t.Errorf("ours: %s/%s, want TOTAL_PASSED: %q\n%s", s.Indication, s.SubIndication, s.Reasons, signed)
			}
			if wantLevel := map[bool]string{true: "XMLDSig", false: "XAdES-B-B"}[tc.plain]; s.Level != wantLevel {
				t.Errorf("level %s, want %s", s.Level, wantLevel)
			}
			if s.Signer == nil || (s.Signer.Serial != p.RSA.Cert.SerialNumber.String() && s.Signer.Serial != p.EC256.Cert.SerialNumber.String()) {
				t.Errorf("signer %+v", s.Signer)
			}

			// tampered: the document (or the detached content) changed after signing
			bad := filepath.Join(t.TempDir(), "signed.xml")
			badDetached := detached
			if tc.detached {
				writeFile(t, bad, signed)
				writeFile(t, filepath.Join(filepath.Dir(bad), "umowa.txt"), tamper(t, []byte(tc.input)))
				badDetached = map[string][]byte{"umowa.txt": tamper(t, []byte(tc.input))}
			} else {
				writeFile(t, bad, tamper(t, signed))
			}
			if rep := oursVerdict(t, bad, badDetached); rep.Indication != verify.TotalFailed || rep.Signatures[0].SubIndication != verify.HashFailure {
				t.Errorf("ours on the tampered copy: %s/%s %q", rep.Indication, rep.Signatures[0].SubIndication, rep.Signatures[0].Reasons)
			}
			if ok, msg := interoptest.Verify(t, tc.verifier, bad, root, inter); ok {
				t.Errorf("%s accepts the tampered copy:\n%s", tc.verifier, msg)
			}
		})
	}
}
