package cms

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ProtonMail/go-crypto/brainpool"

	"github.com/trustsign/trustsign/internal/testpki"
)

var update = flag.Bool("update", false, "rewrite the FuzzParse seed corpus in testdata/fuzz/FuzzParse")

// FuzzParse feeds arbitrary bytes to Parse and, when they parse, to Verify. Neither may panic, errors must wrap
// a sentinel, a parsed SignedData must re-parse from its Raw bytes, and the Result must be consistent. Seeds are
// in testdata/fuzz/FuzzParse (go test -run TestFuzzSeeds -update rewrites them).
func FuzzParse(f *testing.F) {
	sentinels := []error{ErrMalformed, ErrTooLarge, ErrTrailingData, ErrNotSignedData, ErrNotDetached,
		ErrNoSignerInfo, ErrDuplicateAttribute}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Parse(data)
		if err != nil {
			if sd != nil {
				t.Fatal("SignedData returned with an error")
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		again, err := Parse(sd.Raw)
		if err != nil || again.TrailingZeros != 0 || again.BER != sd.BER || len(sd.Raw)+sd.TrailingZeros != len(data) {
			t.Fatalf("Raw does not re-parse the same: %v", err)
		}
		var results []*Result
		if sd.EContent != nil {
			results, err = sd.VerifyEncapsulated()
		} else {
			results, err = sd.VerifyDetached(func(w io.Writer) error { _, err := w.Write(data); return err })
		}
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if len(results) != len(sd.SignerInfos) {
			t.Fatalf("%d results for %d SignerInfos", len(results), len(sd.SignerInfos))
		}
		for _, res := range results {
			if res.SignatureOK != (res.SignatureErr == nil) {
				t.Fatalf("SignatureOK %v with SignatureErr %v", res.SignatureOK, res.SignatureErr)
			}
			if res.SignatureOK && res.SignerCert == nil {
				t.Fatal("signature verified without a signer certificate")
			}
			if (res.UnsupportedAlgorithm != "") != errors.Is(res.SignatureErr, ErrUnsupportedAlgorithm) {
				t.Fatalf("UnsupportedAlgorithm %q with SignatureErr %v", res.UnsupportedAlgorithm, res.SignatureErr)
			}
		}
	})
}

// fuzzSeeds are the inputs of the seed corpus: valid signatures of each kind and the malformed shapes of the
// attack tests.
func fuzzSeeds(t *testing.T) map[string][]byte {
	p := testpki.New()
	ec := sign(t, p.EC256, crypto.SHA256)
	return map[string][]byte{
		"rsa-pades":           sign(t, p.RSA, crypto.SHA256),
		"ec256-pades":         ec,
		"ec384-ber-padded":    append(toIndefinite(t, sign(t, p.EC384, crypto.SHA384), 6), make([]byte, 64)...),
		"rsa-no-signed-attrs": forged{id: p.WeakRSA, noAttrs: true}.build(t),
		"rsa-pss":             forged{id: p.WeakRSA, sigAlg: pssAlgorithm(crypto.SHA256, 32), rawSig: func(h []byte) []byte { return make([]byte, 128) }}.build(t),
		"two-signer-infos":    forged{id: p.EC256, copies: 2}.build(t),
		"two-signers": func() []byte {
			a, alg := forged{id: p.EC256}.signerInfo(t)
			b, _ := forged{id: p.EC384, hash: crypto.SHA384}.signerInfo(t)
			return derContentInfo([][]byte{alg}, [][]byte{p.EC256.Cert.Raw, p.EC384.Cert.Raw}, [][]byte{a, b})
		}(),
		"encapsulated":   withEContent(t, ec),
		"ed448-shake256": ed448SignedData(t, shake256Len512, false),
		"brainpool-p256": forged{id: brainpoolIdentity(t, brainpool.P256r1(), asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7})}.build(t),
		"plain-ecdsa":    forged{id: p.EC256, sigAlg: derAlgorithmIdentifier(oidECDSAPlainSHA256, nil), rawSig: plainSig(t, p.EC256.Key)}.build(t),
		"duplicate-digest": forged{id: p.EC256, attrs: [][]byte{
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, make([]byte, 32))),
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, make([]byte, 32))),
		}}.build(t),
		"truncated":         ec[:len(ec)/2],
		"trailing-garbage":  append(bytes.Clone(ec), 0, 'x'),
		"huge-length":       []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06, 0x09},
		"nested-indefinite": append(bytes.Repeat([]byte{0x30, 0x80}, 80), bytes.Repeat([]byte{0, 0}, 80)...),
	}
}

// TestFuzzSeeds checks that the seed corpus exists and rewrites it with -update.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	if *update {
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
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) < 10 {
		t.Fatalf("seed corpus %s: %d files, %v (run go test -run TestFuzzSeeds -update)", dir, len(entries), err)
	}
}
