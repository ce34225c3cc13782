package revocation_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/trustsign/trustsign/revocation"
)

// Check reads a CA's CRL, offline, as an answer about one certificate.
func ExampleCheck() {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example CA"},
		NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, _ := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(42),
		Subject: pkix.Name{CommonName: "Example seal"}, NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(1, 0, 0),
		CRLDistributionPoints: []string{"http://crl.example.test/ca.crl"}}, ca, &leafKey.PublicKey, caKey)
	leaf, _ := x509.ParseCertificate(leafDER)
	crl, _ := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(7), ThisUpdate: at,
		NextUpdate: at.AddDate(0, 0, 7), RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: big.NewInt(42), RevocationTime: at.Add(-time.Hour), ReasonCode: revocation.ReasonKeyCompromise}}}, ca, caKey)

	fmt.Println("needs status:", revocation.NeedsStatus(leaf))
	res := revocation.Check(leaf, ca, revocation.Data{CRLs: [][]byte{crl}}, at)
	for _, a := range res.Answers {
		fmt.Println(a.Kind, a.Status, a.RevokedAt.Format(time.RFC3339), "reason", a.Reason)
	}
	// Output:
	// needs status: true
	// CRL revoked 2026-03-01T11:00:00Z reason 1
}
