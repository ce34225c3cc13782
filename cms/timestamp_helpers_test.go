package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
)

// tsaEKU is the critical extended key usage extension id-kp-timeStamping alone (RFC 3161, 2.3); crypto/x509 writes
// ExtKeyUsage non-critical, so TSA certificates carry it as an extra extension.
func tsaEKU(t testing.TB, critical bool, usages ...asn1.ObjectIdentifier) pkix.Extension {
	t.Helper()
	if usages == nil {
		usages = []asn1.ObjectIdentifier{oidKPTimeStamping}
	}
	v, err := asn1.Marshal(usages)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidExtKeyUsage, Critical: critical, Value: v}
}

var (
	tsaOnce sync.Once
	tsaID   testpki.Identity
)

// testTSA returns a TSA identity (ECDSA P-256, critical id-kp-timeStamping) issued by the test PKI.
func testTSA(t testing.TB) testpki.Identity {
	t.Helper()
	tsaOnce.Do(func() { tsaID = issueTSA(t, tsaEKU(t, true)) })
	return tsaID
}

// issueTSA issues a TSA certificate with the given EKU extension.
func issueTSA(t testing.TB, eku pkix.Extension) testpki.Identity {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := testpki.LeafTemplate(pkix.Name{Country: []string{"PL"}, Organization: []string{"Trustsign Test"}, CommonName: "Test TSA"})
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtraExtensions = []pkix.Extension{eku}
	id, err := testpki.New().IssueIdentity(tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// token describes a time-stamp token for makeToken; zero fields take defaults.
type token struct {
	tsa      testpki.Identity
	hash     crypto.Hash // imprint hash; default SHA-256
	imprint  []byte
	genTime  time.Time // default 2026-03-01 12:00:00.5 UTC
	nonce    *big.Int
	ctype    asn1.ObjectIdentifier // content-type attribute; default id-ct-TSTInfo
	noCertV2 bool                  // leave out signingCertificateV2
	version  int                   // default 1
}

// makeToken builds a TimeStampToken the way a TSA does: TSTInfo encapsulated in a SignedData signed by tok.tsa.
func makeToken(t testing.TB, tok token) []byte {
	t.Helper()
	if tok.hash == 0 {
		tok.hash = crypto.SHA256
	}
	if tok.genTime.IsZero() {
		tok.genTime = time.Date(2026, 3, 1, 12, 0, 0, 500e6, time.UTC)
	}
	if tok.ctype == nil {
		tok.ctype = oidTSTInfo
	}
	if tok.version == 0 {
		tok.version = 1
	}
	var nonce []byte
	if tok.nonce != nil {
		nonce = derInt(tok.nonce)
	}
	info := derTLV(tagSequence,
		derInt(big.NewInt(int64(tok.version))),
		derOID(asn1.ObjectIdentifier{1, 2, 3, 4, 1}),
		derTLV(tagSequence, derAlgorithmIdentifier(oidForHash(tok.hash), nil), derTLV(tagOctetString, tok.imprint)),
		derInt(big.NewInt(4242)),
		derTLV(tagGeneralized, []byte(tok.genTime.Format("20060102150405.999Z"))),
		derTLV(tagSequence, derInt(big.NewInt(1))), // accuracy: 1 s
		nonce,
		derTLV(0xa0, derTLV(0xa4, tok.tsa.Cert.RawSubject)),
	)
	attrs := [][]byte{
		derAttribute(oidAttrContentType, derOID(tok.ctype)),
		derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, digest(crypto.SHA256, info))),
	}
	if !tok.noCertV2 {
		attrs = append(attrs, derAttribute(oidAttrSigningCertificateV2, derSigningCertificateV2(tok.tsa.Cert, crypto.SHA256)))
	}
	signed := derSetOf(tagSet, attrs)
	sig, err := signAndCheck(tok.tsa.Key, rand.Reader, tok.tsa.Cert.PublicKey, crypto.SHA256, signed)
	if err != nil {
		t.Fatal(err)
	}
	sigAlg, err := signatureAlgorithmFor(tok.tsa.Key.Public(), tok.tsa.Cert, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	digestAlg := derAlgorithmIdentifier(oidSHA256, nil)
	si := derSignerInfo(derIssuerAndSerial(tok.tsa.Cert), digestAlg, signed, sigAlg, sig, nil)
	sd := derTLV(tagSequence,
		derInt(big.NewInt(3)),
		derSetOf(tagSet, [][]byte{digestAlg}),
		derTLV(tagSequence, derOID(oidTSTInfo), derTLV(tagContext0, derTLV(tagOctetString, info))),
		derSetOf(tagContext0, certificateList(tok.tsa.Cert, tok.tsa.Chain)),
		derSetOf(tagSet, [][]byte{si}))
	return derTLV(tagSequence, derOID(oidSignedData), derTLV(tagContext0, sd))
}
