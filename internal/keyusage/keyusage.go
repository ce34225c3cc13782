// Package keyusage decides whether a certificate may make document signatures: its keyUsage must allow
// digitalSignature or nonRepudiation (contentCommitment), and an extended key usage, when present, must not restrict
// the key to other purposes (TLS servers, code signing, time-stamping, OCSP responses...).
//
// The verifier uses it to refuse such signatures (INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE, as EU DSS does), and
// the signer to refuse such a seal. It is not a chain validator.
package keyusage

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
)

// Extended key usages that allow document signatures besides anyExtendedKeyUsage and emailProtection (S/MIME,
// which national signature certificates commonly carry).
var (
	// OIDDocumentSigning is id-kp-documentSigning (RFC 9336).
	OIDDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
	// OIDAdobeAuthenticDocuments is Adobe's "Authentic Documents Trust" usage.
	OIDAdobeAuthenticDocuments = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 5}
	// OIDMicrosoftDocumentSigning is Microsoft's document signing usage.
	OIDMicrosoftDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3, 12}
)

// ForDocuments returns nil when c may sign documents, and otherwise an error saying why not.
func ForDocuments(c *x509.Certificate) error {
	if c == nil {
		return nil
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fmt.Errorf("the certificate's key usage (%s) allows neither digitalSignature nor nonRepudiation", describe(c.KeyUsage))
	}
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageAny || u == x509.ExtKeyUsageEmailProtection {
			return nil
		}
	}
	for _, u := range c.UnknownExtKeyUsage {
		if u.Equal(OIDDocumentSigning) || u.Equal(OIDAdobeAuthenticDocuments) || u.Equal(OIDMicrosoftDocumentSigning) {
			return nil
		}
	}
	return fmt.Errorf("the certificate's extended key usage (%s) excludes document signing", describeExt(c))
}

var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"}, {x509.KeyUsageContentCommitment, "nonRepudiation"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"}, {x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"}, {x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"}, {x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

func describe(u x509.KeyUsage) string {
	var out []string
	for _, k := range keyUsageNames {
		if u&k.bit != 0 {
			out = append(out, k.name)
		}
	}
	return strings.Join(out, ", ")
}

var extNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageClientAuth: "clientAuth",
	x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageTimeStamping: "timeStamping",
	x509.ExtKeyUsageOCSPSigning: "OCSPSigning", x509.ExtKeyUsageIPSECEndSystem: "ipsecEndSystem",
	x509.ExtKeyUsageIPSECTunnel: "ipsecTunnel", x509.ExtKeyUsageIPSECUser: "ipsecUser",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto: "msSGC", x509.ExtKeyUsageNetscapeServerGatedCrypto: "nsSGC",
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: "msCommercialCodeSigning",
	x509.ExtKeyUsageMicrosoftKernelCodeSigning:     "msKernelCodeSigning",
}

func describeExt(c *x509.Certificate) string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := extNames[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("usage %d", u))
		}
	}
	for _, u := range c.UnknownExtKeyUsage {
		out = append(out, u.String())
	}
	return strings.Join(out, ", ")
}
