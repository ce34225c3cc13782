package xades_test

// RSASSA-PSS in XML signatures (RFC 6931 §2.3.10 rsa-pss with RSAPSSParams, §2.3.11 the "#sha256-rsa-MGF1"
// family): we sign with it, we verify ours and a peer's (OpenSSL's PSS over xmllint's canonical SignedInfo), and
// Santuario agrees.

import (
	"crypto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

func TestSignRSAPSS(t *testing.T) {
	p := testpki.New()
	for _, tc := range []struct {
		hash crypto.Hash
		uri  string
		alg  string
	}{
		{crypto.SHA256, xades.NSXMLDSigMore + "sha256-rsa-MGF1", "RSASSA-PSS-SHA256"},
		{crypto.SHA384, xades.NSXMLDSigMore + "sha384-rsa-MGF1", "RSASSA-PSS-SHA384"},
		{crypto.SHA512, xades.NSXMLDSigMore + "sha512-rsa-MGF1", "RSASSA-PSS-SHA512"},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			doc := signWith(t, attackDoc, p.RSA, xades.SignOptions{RSAPSS: true, Hash: tc.hash, Profile: testProfile})
			if !strings.Contains(doc, `<ds:SignatureMethod Algorithm="`+tc.uri+`"/>`) {
				t.Fatalf("signature method is not %s", tc.uri)
			}
			s := verify.XML("pss.xml", []byte(doc), trusting(), verify.XMLOptions{}).Signatures[0]
			checkSignature(t, s, passed)
			if s.Algorithm != tc.alg {
				t.Errorf("algorithm %q, want %q", s.Algorithm, tc.alg)
			}
			checkSignature(t, verify.XML("pss.xml", tamper(t, []byte(doc)), trusting(), verify.XMLOptions{}).Signatures[0],
				want{verify.TotalFailed, verify.HashFailure, ""})
			// the value is PSS, not PKCS#1 v1.5: read as rsa-sha256 it fails
			v15 := strings.Replace(doc, tc.uri, "http://www.w3.org/2001/04/xmldsig-more#rsa-"+strings.ToLower(strings.TrimPrefix(tc.alg, "RSASSA-PSS-SHA")), 1)
			v15 = strings.Replace(v15, "rsa-256", "rsa-sha256", 1)
			v15 = strings.Replace(strings.Replace(v15, "rsa-384", "rsa-sha384", 1), "rsa-512", "rsa-sha512", 1)
			checkSignature(t, verify.XML("pss.xml", []byte(v15), trusting(), verify.XMLOptions{}).Signatures[0],
				want{verify.TotalFailed, verify.SigCryptoFailure, ""})
		})
	}
	t.Run("ECDSA key refused", func(t *testing.T) {
		if _, err := xades.Sign([]byte(attackDoc), xades.SignOptions{RSAPSS: true, Signer: p.EC256.Key, Certificate: p.EC256.Cert}); err == nil {
			t.Error("RSASSA-PSS with an ECDSA key was accepted")
		}
	})
}

// Our PSS signatures in the peers that support PSS: Santuario; xmlsec1 from 1.3 only.
func TestInteropRSAPSSOursVerifiedByPeers(t *testing.T) {
	interoptest.Tool(t)
	p := testpki.New()
	root, inter := interopPKI(t)
	peers := []string{"santuario"}
	if out, err := exec.Command("xmlsec1", "--list-transforms").CombinedOutput(); err == nil && strings.Contains(strings.ToLower(string(out)), "pss") {
		peers = append(peers, "xmlsec")
	} else {
		t.Log("xmlsec1 here has no RSASSA-PSS (added in xmlsec 1.3): not asked")
	}
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
		t.Run(h.String(), func(t *testing.T) {
			doc := signWith(t, attackDoc, p.RSA, xades.SignOptions{RSAPSS: true, Hash: h, Profile: testProfile})
			good := writeFile(t, filepath.Join(t.TempDir(), "pss.xml"), []byte(doc))
			bad := writeFile(t, filepath.Join(t.TempDir(), "pss.xml"), tamper(t, []byte(doc)))
			for _, peer := range peers {
				ok, out := interoptest.Verify(t, peer, good, root, inter)
				switch {
				case !ok && pssUnsupported(out):
					// Santuario 2.1.7 knows the URIs but needs a JCA provider with SHA256withRSAandMGF1
					t.Logf("%s here cannot check RSASSA-PSS: %s", peer, strings.TrimSpace(out))
					continue
				case !ok:
					t.Errorf("%s rejects our RSASSA-PSS signature:\n%s", peer, out)
				}
				if ok, out := interoptest.Verify(t, peer, bad, root, inter); ok {
					t.Errorf("%s accepts our tampered RSASSA-PSS signature:\n%s", peer, out)
				}
			}
		})
	}
}

// pssUnsupported recognizes a peer's "algorithm not available" answer.
func pssUnsupported(out string) bool {
	return strings.Contains(out, "does not exist") || strings.Contains(out, "not available")
}

// peerPSS makes a detached XMLDSig over content (Reference URI "umowa.txt") without our code: OpenSSL computes the
// reference digest and the RSASSA-PSS value, xmllint canonicalizes SignedInfo (exclusive C14N).
func peerPSS(t *testing.T, dir, content, method, digestURI, opensslHash, salt string) []byte {
	return peerPSSMask(t, dir, content, method, digestURI, opensslHash, opensslHash, salt)
}

// peerPSSMask is peerPSS with MGF1 over mgfHash.
func peerPSSMask(t *testing.T, dir, content, method, digestURI, opensslHash, mgfHash, salt string) []byte {
	t.Helper()
	for _, tool := range []string{"openssl", "xmllint"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	p := testpki.New()
	key := interoptest.WriteKey(t, dir, "signer.key", p.RSA.Key)
	data := writeFile(t, filepath.Join(dir, "umowa.txt"), []byte(content))
	run := func(stdin []byte, name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if stdin != nil {
			cmd.Stdin = strings.NewReader(string(stdin))
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %q: %v", name, args, err)
		}
		return out
	}
	digest := run(nil, "openssl", "dgst", "-"+opensslHash, "-binary", data)
	signedInfo := `<ds:SignedInfo xmlns:ds="` + xades.NSDSig + `"><ds:CanonicalizationMethod Algorithm="` + xmldoc.ExcC14N + `"/>` +
		method + `<ds:Reference URI="umowa.txt"><ds:DigestMethod Algorithm="` + digestURI + `"/><ds:DigestValue>` + b64(digest) +
		`</ds:DigestValue></ds:Reference></ds:SignedInfo>`
	writeFile(t, filepath.Join(dir, "signedinfo.xml"), []byte(signedInfo))
	c14n := run(nil, "xmllint", "--exc-c14n", "signedinfo.xml")
	value := run(c14n, "openssl", "dgst", "-"+opensslHash, "-sign", key, "-sigopt", "rsa_padding_mode:pss",
		"-sigopt", "rsa_pss_saltlen:"+salt, "-sigopt", "rsa_mgf1_md:"+mgfHash)
	sig := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ds:Signature xmlns:ds="` + xades.NSDSig + `" Id="peer">` +
		strings.TrimPrefix(signedInfo, `<ds:SignedInfo xmlns:ds="`+xades.NSDSig+`">`)
	sig = strings.Replace(sig, `<ds:CanonicalizationMethod`, `<ds:SignedInfo><ds:CanonicalizationMethod`, 1)
	sig += `<ds:SignatureValue>` + b64(value) + `</ds:SignatureValue><ds:KeyInfo>` + x509Data(p.RSA.Cert, p.Intermediate) +
		`</ds:KeyInfo></ds:Signature>` + "\n"
	return []byte(sig)
}

func pssParams(inner string) string {
	return `<ds:SignatureMethod Algorithm="` + xades.SignatureRSAPSS + `"><pss:RSAPSSParams xmlns:pss="` + xades.NSXMLDSigMore + `">` +
		inner + `</pss:RSAPSSParams></ds:SignatureMethod>`
}

func TestPeerRSAPSSVerifiedByOurs(t *testing.T) {
	const content = "umowa: 100.00 PLN\n"
	sha512 := "http://www.w3.org/2001/04/xmlenc#sha512"
	dm := func(uri string) string { return `<ds:DigestMethod Algorithm="` + uri + `"/>` }
	cases := []struct {
		name, method, digestURI, hash, salt, alg string
		mgf                                      string // MGF1 hash when not the digest's
	}{
		{"sha256-rsa-MGF1", `<ds:SignatureMethod Algorithm="` + xades.NSXMLDSigMore + `sha256-rsa-MGF1"/>`, uriSHA256, "sha256", "32", "RSASSA-PSS-SHA256", ""},
		{"sha512-rsa-MGF1", `<ds:SignatureMethod Algorithm="` + xades.NSXMLDSigMore + `sha512-rsa-MGF1"/>`, sha512, "sha512", "64", "RSASSA-PSS-SHA512", ""},
		{"rsa-pss without parameters", `<ds:SignatureMethod Algorithm="` + xades.SignatureRSAPSS + `"/>`, uriSHA256, "sha256", "32", "RSASSA-PSS-SHA256", ""},
		{"rsa-pss, empty RSAPSSParams", pssParams(""), uriSHA256, "sha256", "32", "RSASSA-PSS-SHA256", ""},
		{"rsa-pss SHA-512, MGF1 SHA-512, salt 64, trailer 1", pssParams(dm(sha512) + `<pss:MaskGenerationFunction Algorithm="` + xades.MGF1 + `">` +
			dm(sha512) + `</pss:MaskGenerationFunction><pss:SaltLength>64</pss:SaltLength><pss:TrailerField>1</pss:TrailerField>`), sha512, "sha512", "64", "RSASSA-PSS-SHA512", ""},
		{"rsa-pss SHA-256, salt 20", pssParams(dm(uriSHA256) + `<pss:SaltLength>20</pss:SaltLength>`), uriSHA256, "sha256", "20", "RSASSA-PSS-SHA256", ""},
		{"rsa-pss SHA-256, empty salt", pssParams(dm(uriSHA256) + `<pss:SaltLength>0</pss:SaltLength>`), uriSHA256, "sha256", "0", "RSASSA-PSS-SHA256", ""},
		{"rsa-pss SHA-512 only (salt and mask follow the digest)", pssParams(dm(sha512)), sha512, "sha512", "64", "RSASSA-PSS-SHA512", ""},
		{"rsa-pss SHA-512 only, signed with MGF1 SHA-256 (RFC 6931's default)", pssParams(dm(sha512)), sha512, "sha512", "64", "RSASSA-PSS-SHA512", "sha256"},
		{"rsa-pss SHA-256, MGF1 SHA-512", pssParams(dm(uriSHA256) + `<pss:MaskGenerationFunction Algorithm="` + xades.MGF1 + `">` + dm(sha512) +
			`</pss:MaskGenerationFunction>`), uriSHA256, "sha256", "32", "RSASSA-PSS-SHA256", "sha512"},
		{"rsa-pss SHA-384, MGF1 without DigestMethod (SHA-256)", pssParams(dm("http://www.w3.org/2001/04/xmldsig-more#sha384") +
			`<pss:MaskGenerationFunction/>`), "http://www.w3.org/2001/04/xmldsig-more#sha384", "sha384", "48", "RSASSA-PSS-SHA384", "sha256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mgf := tc.mgf
			if mgf == "" {
				mgf = tc.hash
			}
			signed := peerPSSMask(t, dir, content, tc.method, tc.digestURI, tc.hash, mgf, tc.salt)
			detached := map[string][]byte{"umowa.txt": []byte(content)}
			s := verify.XML("peer.xml", signed, trusting(), verify.XMLOptions{Detached: detached}).Signatures[0]
			checkSignature(t, s, passed)
			if s.Algorithm != tc.alg {
				t.Errorf("algorithm %q, want %q", s.Algorithm, tc.alg)
			}
			bad := map[string][]byte{"umowa.txt": tamper(t, []byte(content))}
			checkSignature(t, verify.XML("peer.xml", signed, trusting(), verify.XMLOptions{Detached: bad}).Signatures[0],
				want{verify.TotalFailed, verify.HashFailure, ""})
			// a changed value, and (with a mask hash of its own) another digest, do not verify
			sv := between(t, string(signed), "<ds:SignatureValue>", "</ds:SignatureValue>")
			flipped := strings.Replace(string(signed), sv, "<ds:SignatureValue>AAAA"+sv[len("<ds:SignatureValue>")+4:], 1)
			checkSignature(t, verify.XML("peer.xml", []byte(flipped), trusting(), verify.XMLOptions{Detached: detached}).Signatures[0],
				want{verify.TotalFailed, verify.SigCryptoFailure, ""})
			if tc.mgf != "" && strings.Contains(string(signed), "<pss:MaskGenerationFunction") {
				sameMask := strings.Replace(string(signed), between(t, string(signed), "<pss:MaskGenerationFunction", "</pss:RSAPSSParams>"), "</pss:RSAPSSParams>", 1)
				checkSignature(t, verify.XML("peer.xml", []byte(sameMask), trusting(), verify.XMLOptions{Detached: detached}).Signatures[0],
					want{verify.TotalFailed, verify.SigCryptoFailure, ""})
			}
			// a salt length other than the one used: the value does not verify
			if strings.Contains(string(signed), "<pss:SaltLength>") {
				other := strings.Replace(string(signed), "<pss:SaltLength>"+tc.salt, "<pss:SaltLength>1"+tc.salt, 1)
				checkSignature(t, verify.XML("peer.xml", []byte(other), trusting(), verify.XMLOptions{Detached: detached}).Signatures[0],
					want{verify.TotalFailed, verify.SigCryptoFailure, ""})
			}
			if _, err := exec.LookPath("java"); err == nil {
				root, inter := interopPKI(t)
				good := writeFile(t, filepath.Join(dir, "peer.xml"), signed)
				ok, out := interoptest.Verify(t, "santuario", good, root, inter)
				switch {
				case !ok && pssUnsupported(out):
					t.Logf("Santuario here cannot check %s: %s", tc.name, strings.TrimSpace(out))
				case !ok:
					t.Errorf("Santuario rejects the peer signature:\n%s", out)
				default:
					bad := writeFile(t, filepath.Join(t.TempDir(), "peer.xml"), signed)
					writeFile(t, filepath.Join(filepath.Dir(bad), "umowa.txt"), tamper(t, []byte(content)))
					if ok, out := interoptest.Verify(t, "santuario", bad, root, inter); ok {
						t.Errorf("Santuario accepts the tampered content:\n%s", out)
					}
				}
			}
		})
	}
}

// RSAPSSParams that cannot be honoured are a format failure naming the parameter, never a guess.
func TestRSAPSSParamsRefused(t *testing.T) {
	dir := t.TempDir()
	const content = "umowa: 100.00 PLN\n"
	dm := func(uri string) string { return `<ds:DigestMethod Algorithm="` + uri + `"/>` }
	base := string(peerPSS(t, dir, content, pssParams(dm(uriSHA256)), uriSHA256, "sha256", "32"))
	params := between(t, base, "<pss:RSAPSSParams", "</pss:RSAPSSParams>")
	for _, tc := range []struct{ name, inner, reason string }{
		{"trailer field 2", dm(uriSHA256) + `<pss:TrailerField>2</pss:TrailerField>`, "TrailerField"},
		{"MGF1 with MD5", dm(uriSHA256) + `<pss:MaskGenerationFunction>` + dm(uriMD5) + `</pss:MaskGenerationFunction>`, "MD5"},
		{"unknown mask generation function", dm(uriSHA256) + `<pss:MaskGenerationFunction Algorithm="urn:mgf2"/>`, "MGF1 only"},
		{"negative salt", dm(uriSHA256) + `<pss:SaltLength>-1</pss:SaltLength>`, "SaltLength"},
		{"parameters out of order", `<pss:SaltLength>32</pss:SaltLength>` + dm(uriSHA256), "unexpected element"},
		{"MD5 digest", dm(uriMD5), "MD5"},
		{"unknown digest", dm("urn:whirlpool"), "not accepted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(base, params, `<pss:RSAPSSParams xmlns:pss="`+xades.NSXMLDSigMore+`">`+tc.inner+`</pss:RSAPSSParams>`, 1)
			s := verify.XML("peer.xml", []byte(doc), trusting(), verify.XMLOptions{Detached: map[string][]byte{"umowa.txt": []byte(content)}}).Signatures[0]
			checkSignature(t, s, want{verify.TotalFailed, verify.FormatFailure, tc.reason})
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "umowa.txt")); err != nil {
		t.Fatal(err)
	}
}
