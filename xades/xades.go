// Package xades makes and checks XML Advanced Electronic Signatures (XAdES, ETSI EN 319 132-1, XAdES 1.3.2
// namespace) in the shape of the Polish trusted-profile service: enveloped signatures with an XPath Filter 2.0
// reference to the whole document, enveloping and detached signatures, co-signatures, counter-signatures and the
// trusted-profile binding (ppZP:PodpisZP) in ClaimedRole.
//
// It is a pure format library: it takes bytes, keys (crypto.Signer) and options and returns bytes or the facts it
// found (which references verified, which certificate produced the signature value, what each reference covers).
// It does not decide trust: chains, trust roots and validation policy belong to package verify. It never reads
// files or the network: detached content is handed in by the caller.
package xades

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"

	// hash implementations registered for crypto.Hash.New (MD5 is only ever recognised, to be reported as weak)
	_ "crypto/md5"
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Namespaces.
const (
	NSDSig                     = "http://www.w3.org/2000/09/xmldsig#"
	NSXAdES                    = "http://uri.etsi.org/01903/v1.3.2#"
	NSXAdES141                 = "http://uri.etsi.org/01903/v1.4.1#"
	NSFilter2                  = "http://www.w3.org/2002/06/xmldsig-filter2"
	NSPPZP                     = "http://crd.gov.pl/xml/schematy/ppzp/"
	NSOsoba                    = "http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"
	NSPZNew                    = "http://crd.gov.pl/xml/schematy/podpis_zaufany/"
	NSWrapper                  = "urn:trustsign:wrapper:1"
	TypeSignedProperties       = "http://uri.etsi.org/01903#SignedProperties"
	TypeCountersignedSignature = "http://uri.etsi.org/01903#CountersignedSignature"
)

// Transform and algorithm URIs.
const (
	TransformEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	TransformFilter2   = NSFilter2
	TransformBase64    = "http://www.w3.org/2000/09/xmldsig#base64"
	TransformXPath     = "http://www.w3.org/TR/1999/REC-xpath-19991116"
	TransformXSLT      = "http://www.w3.org/TR/1999/REC-xslt-19991116"
)

type digestAlg struct {
	uri  string
	hash crypto.Hash
	name string
	weak bool
}

var digestAlgs = []digestAlg{
	{"http://www.w3.org/2001/04/xmlenc#sha256", crypto.SHA256, "SHA-256", false},
	{"http://www.w3.org/2001/04/xmldsig-more#sha384", crypto.SHA384, "SHA-384", false},
	{"http://www.w3.org/2001/04/xmlenc#sha512", crypto.SHA512, "SHA-512", false},
	{"http://www.w3.org/2001/04/xmldsig-more#sha224", crypto.SHA224, "SHA-224", false},
	{"http://www.w3.org/2000/09/xmldsig#sha1", crypto.SHA1, "SHA-1", true},
	{"http://www.w3.org/2001/04/xmldsig-more#md5", crypto.MD5, "MD5", true},
}

func digestByURI(uri string) (digestAlg, bool) {
	for _, d := range digestAlgs {
		if d.uri == uri {
			return d, true
		}
	}
	return digestAlg{}, false
}

func digestURI(h crypto.Hash) string {
	for _, d := range digestAlgs {
		if d.hash == h {
			return d.uri
		}
	}
	return ""
}

type keyKind int

const (
	keyRSA keyKind = iota + 1
	keyECDSA
	keyHMAC
)

type sigAlg struct {
	uri  string
	kind keyKind
	hash crypto.Hash
	name string
}

var sigAlgs = []sigAlg{
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", keyRSA, crypto.SHA256, "RSA-SHA256"},
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", keyRSA, crypto.SHA384, "RSA-SHA384"},
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", keyRSA, crypto.SHA512, "RSA-SHA512"},
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha224", keyRSA, crypto.SHA224, "RSA-SHA224"},
	{"http://www.w3.org/2000/09/xmldsig#rsa-sha1", keyRSA, crypto.SHA1, "RSA-SHA1"},
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-md5", keyRSA, crypto.MD5, "RSA-MD5"},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", keyECDSA, crypto.SHA256, "ECDSA-SHA256"},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", keyECDSA, crypto.SHA384, "ECDSA-SHA384"},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", keyECDSA, crypto.SHA512, "ECDSA-SHA512"},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224", keyECDSA, crypto.SHA224, "ECDSA-SHA224"},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", keyECDSA, crypto.SHA1, "ECDSA-SHA1"},
	{"http://www.w3.org/2000/09/xmldsig#hmac-sha1", keyHMAC, crypto.SHA1, "HMAC-SHA1"},
	{"http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", keyHMAC, crypto.SHA256, "HMAC-SHA256"},
	{"http://www.w3.org/2001/04/xmldsig-more#hmac-sha384", keyHMAC, crypto.SHA384, "HMAC-SHA384"},
	{"http://www.w3.org/2001/04/xmldsig-more#hmac-sha512", keyHMAC, crypto.SHA512, "HMAC-SHA512"},
}

func sigAlgByURI(uri string) (sigAlg, bool) {
	for _, a := range sigAlgs {
		if a.uri == uri {
			return a, true
		}
	}
	return sigAlg{}, false
}

// signatureMethodFor picks the SignatureMethod URI for a public key and hash.
func signatureMethodFor(pub crypto.PublicKey, h crypto.Hash) (sigAlg, error) {
	var kind keyKind
	switch k := pub.(type) {
	case *rsa.PublicKey:
		kind = keyRSA
	case *ecdsa.PublicKey:
		kind = keyECDSA
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return sigAlg{}, fmt.Errorf("xades: unsupported elliptic curve %s", k.Curve.Params().Name)
		}
	default:
		return sigAlg{}, fmt.Errorf("xades: unsupported key type %T (RSA or ECDSA expected)", pub)
	}
	for _, a := range sigAlgs {
		if a.kind == kind && a.hash == h && h != crypto.SHA1 && h != crypto.MD5 {
			return a, nil
		}
	}
	return sigAlg{}, fmt.Errorf("xades: unsupported hash %v for signing", h)
}

// IsWeakHash reports hash functions no longer accepted for new signatures.
func IsWeakHash(h crypto.Hash) bool { return h == crypto.SHA1 || h == crypto.MD5 }

// Profile is the trusted-profile identity bound into a signature (ppZP:PodpisZP in ClaimedRole).
type Profile struct {
	FirstName  string `json:"firstName"`
	SecondName string `json:"secondName,omitempty"`
	Surname    string `json:"surname"`
	PESEL      string `json:"pesel"`
	ProfileID  string `json:"profileId"`
	Login      string `json:"login"`
	// DateOfBirth (YYYY-MM-DD) is read from the newer podpis_zaufany format; not written.
	DateOfBirth string `json:"dateOfBirth,omitempty"`
	// AuthorizationPolicy names how the holder confirmed the signature (IdPolitykiAutoryzacji).
	AuthorizationPolicy string `json:"authorizationPolicy,omitempty"`
}
