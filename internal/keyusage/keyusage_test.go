package keyusage

import (
	"crypto/x509"
	"encoding/asn1"
	"testing"
)

func TestForDocuments(t *testing.T) {
	for _, tc := range []struct {
		name string
		cert x509.Certificate
		ok   bool
	}{
		{"no extensions", x509.Certificate{}, true},
		{"digitalSignature", x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature}, true},
		{"nonRepudiation only", x509.Certificate{KeyUsage: x509.KeyUsageContentCommitment}, true},
		{"keyEncipherment only", x509.Certificate{KeyUsage: x509.KeyUsageKeyEncipherment}, false},
		{"CA usages only", x509.Certificate{KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, false},
		{"keyAgreement only", x509.Certificate{KeyUsage: x509.KeyUsageKeyAgreement}, false},
		{"serverAuth only", x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, false},
		{"timeStamping only", x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}, false},
		{"codeSigning and OCSP", x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning, x509.ExtKeyUsageOCSPSigning}}, false},
		{"clientAuth only", x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, false},
		{"clientAuth and emailProtection", x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}}, true},
		{"any", x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, true},
		{"documentSigning (RFC 9336)", x509.Certificate{UnknownExtKeyUsage: []asn1.ObjectIdentifier{OIDDocumentSigning}}, true},
		{"Adobe authentic documents", x509.Certificate{UnknownExtKeyUsage: []asn1.ObjectIdentifier{OIDAdobeAuthenticDocuments}}, true},
		{"an unknown usage only", x509.Certificate{UnknownExtKeyUsage: []asn1.ObjectIdentifier{{1, 2, 3, 4}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ForDocuments(&tc.cert)
			if (err == nil) != tc.ok {
				t.Errorf("ForDocuments = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
