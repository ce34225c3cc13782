// Package xades makes and checks XML Advanced Electronic Signatures (XAdES, ETSI EN 319 132-1, XAdES 1.3.2
// namespace) in the shape of the Polish trusted-profile service: enveloped signatures with an XPath Filter 2.0
// reference to the whole document, enveloping and detached signatures, co-signatures, counter-signatures and the
// trusted-profile binding (ppZP:PodpisZP) in ClaimedRole. Extend augments any XAdES signature, ours or another
// signer's, to the long-term levels B-T, B-LT and B-LTA (signature time-stamp, validation data, archive time-stamps
// in the 1.4.1 namespace), and Verify reads them back with the exact data each time-stamp covers.
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
	"strconv"
	"strings"

	// hash implementations registered for crypto.Hash.New (MD5 is only ever recognised, to be reported as weak)
	_ "crypto/md5"
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha3"
	_ "crypto/sha512"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

// Namespaces.
const (
	NSDSig     = "http://www.w3.org/2000/09/xmldsig#"
	NSXAdES    = "http://uri.etsi.org/01903/v1.3.2#"
	NSXAdES141 = "http://uri.etsi.org/01903/v1.4.1#"
	NSFilter2  = "http://www.w3.org/2002/06/xmldsig-filter2"
	NSPPZP     = "http://crd.gov.pl/xml/schematy/ppzp/"
	NSOsoba    = "http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"
	NSPZNew    = "http://crd.gov.pl/xml/schematy/podpis_zaufany/"
	NSWrapper  = "urn:trustsign:wrapper:1"
	// NSXMLDSigMore is RFC 6931's namespace, of RSAPSSParams among others.
	NSXMLDSigMore              = "http://www.w3.org/2007/05/xmldsig-more#"
	TypeSignedProperties       = "http://uri.etsi.org/01903#SignedProperties"
	TypeCountersignedSignature = "http://uri.etsi.org/01903#CountersignedSignature"
)

// Transform and algorithm URIs.
const (
	// SignatureRSAPSS is RSASSA-PSS with its parameters in an RSAPSSParams child of SignatureMethod (RFC 6931
	// §2.3.10); the parameterless forms are the "#sha256-rsa-MGF1" family (§2.3.11).
	SignatureRSAPSS = NSXMLDSigMore + "rsa-pss"
	// MGF1 is the only mask generation function of RSAPSSParams.
	MGF1               = NSXMLDSigMore + "MGF1"
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
	{NSXMLDSigMore + "sha3-224", crypto.SHA3_224, "SHA3-224", false},
	{NSXMLDSigMore + "sha3-256", crypto.SHA3_256, "SHA3-256", false},
	{NSXMLDSigMore + "sha3-384", crypto.SHA3_384, "SHA3-384", false},
	{NSXMLDSigMore + "sha3-512", crypto.SHA3_512, "SHA3-512", false},
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
	keyRSAPSS
)

type sigAlg struct {
	uri  string
	kind keyKind
	hash crypto.Hash
	name string
	// salt is the RSASSA-PSS salt length (0 in the table: the hash's size).
	salt int
	// mgf is the RSASSA-PSS MGF1 hash: 0 for the digest's; mgfDefault when RSAPSSParams leave it out.
	mgf crypto.Hash
}

// mgfDefault marks an RSAPSSParams without MaskGenerationFunction: MGF1 with the digest's hash, or with SHA-256
// (the default RFC 6931 states for the parameters as a whole); a value that verifies under either is accepted.
const mgfDefault = crypto.Hash(1 << 16)

var sigAlgs = []sigAlg{
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", keyRSA, crypto.SHA256, "RSA-SHA256", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", keyRSA, crypto.SHA384, "RSA-SHA384", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", keyRSA, crypto.SHA512, "RSA-SHA512", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha224", keyRSA, crypto.SHA224, "RSA-SHA224", 0, 0},
	{"http://www.w3.org/2000/09/xmldsig#rsa-sha1", keyRSA, crypto.SHA1, "RSA-SHA1", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#rsa-md5", keyRSA, crypto.MD5, "RSA-MD5", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", keyECDSA, crypto.SHA256, "ECDSA-SHA256", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", keyECDSA, crypto.SHA384, "ECDSA-SHA384", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", keyECDSA, crypto.SHA512, "ECDSA-SHA512", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224", keyECDSA, crypto.SHA224, "ECDSA-SHA224", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", keyECDSA, crypto.SHA1, "ECDSA-SHA1", 0, 0},
	{"http://www.w3.org/2000/09/xmldsig#hmac-sha1", keyHMAC, crypto.SHA1, "HMAC-SHA1", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", keyHMAC, crypto.SHA256, "HMAC-SHA256", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#hmac-sha384", keyHMAC, crypto.SHA384, "HMAC-SHA384", 0, 0},
	{"http://www.w3.org/2001/04/xmldsig-more#hmac-sha512", keyHMAC, crypto.SHA512, "HMAC-SHA512", 0, 0},
	// RSASSA-PSS without parameters (RFC 6931 §2.3.11): MGF1 with the same hash, salt as long as the hash, trailer 1
	{NSXMLDSigMore + "sha256-rsa-MGF1", keyRSAPSS, crypto.SHA256, "RSASSA-PSS-SHA256", 0, 0},
	{NSXMLDSigMore + "sha384-rsa-MGF1", keyRSAPSS, crypto.SHA384, "RSASSA-PSS-SHA384", 0, 0},
	{NSXMLDSigMore + "sha512-rsa-MGF1", keyRSAPSS, crypto.SHA512, "RSASSA-PSS-SHA512", 0, 0},
	{NSXMLDSigMore + "sha224-rsa-MGF1", keyRSAPSS, crypto.SHA224, "RSASSA-PSS-SHA224", 0, 0},
	{NSXMLDSigMore + "sha3-256-rsa-MGF1", keyRSAPSS, crypto.SHA3_256, "RSASSA-PSS-SHA3-256", 0, 0},
	{NSXMLDSigMore + "sha3-384-rsa-MGF1", keyRSAPSS, crypto.SHA3_384, "RSASSA-PSS-SHA3-384", 0, 0},
	{NSXMLDSigMore + "sha3-512-rsa-MGF1", keyRSAPSS, crypto.SHA3_512, "RSASSA-PSS-SHA3-512", 0, 0},
	{NSXMLDSigMore + "sha3-224-rsa-MGF1", keyRSAPSS, crypto.SHA3_224, "RSASSA-PSS-SHA3-224", 0, 0},
	{NSXMLDSigMore + "sha1-rsa-MGF1", keyRSAPSS, crypto.SHA1, "RSASSA-PSS-SHA1", 0, 0},
}

func sigAlgByURI(uri string) (sigAlg, bool) {
	for _, a := range sigAlgs {
		if a.uri == uri {
			if a.kind == keyRSAPSS {
				a.salt = a.hash.Size()
			}
			return a, true
		}
	}
	return sigAlg{}, false
}

// rsaPSSMethod reads the RSAPSSParams of a SignatureMethod with Algorithm SignatureRSAPSS (RFC 6931 §2.3.10):
// DigestMethod (default SHA-256), MaskGenerationFunction (MGF1 only; see mgfDefault when absent), SaltLength
// (default the digest's size) and TrailerField (1, the only value defined).
func rsaPSSMethod(method *xmldoc.Node) (sigAlg, error) {
	alg := sigAlg{uri: SignatureRSAPSS, kind: keyRSAPSS, hash: crypto.SHA256, salt: -1}
	mgfHash := mgfDefault
	els := method.Elements()
	if len(els) > 1 || (len(els) == 1 && !els[0].Is(NSXMLDSigMore, "RSAPSSParams")) {
		return sigAlg{}, fmt.Errorf("unexpected content in SignatureMethod (one RSAPSSParams expected)")
	}
	digest := func(dm *xmldoc.Node) (crypto.Hash, error) {
		uri, _ := dm.Attr("Algorithm")
		d, ok := digestByURI(uri)
		if !ok {
			return 0, fmt.Errorf("digest method %q is not accepted", uri)
		}
		return d.hash, nil
	}
	if len(els) == 1 {
		stage := 0 // the children come in this order, each at most once
		for _, c := range els[0].Elements() {
			var err error
			switch {
			case c.Is(NSDSig, "DigestMethod") && stage < 1:
				stage = 1
				alg.hash, err = digest(c)
			case c.Is(NSXMLDSigMore, "MaskGenerationFunction") && stage < 2:
				stage = 2
				if a, ok := c.Attr("Algorithm"); ok && a != MGF1 {
					return sigAlg{}, fmt.Errorf("mask generation function %q is not accepted (MGF1 only)", a)
				}
				inner := c.Elements()
				if len(inner) > 1 || (len(inner) == 1 && !inner[0].Is(NSDSig, "DigestMethod")) {
					return sigAlg{}, fmt.Errorf("unexpected content in MaskGenerationFunction")
				}
				mgfHash = crypto.SHA256 // the MGF1 parameter's default
				if len(inner) == 1 {
					mgfHash, err = digest(inner[0])
				}
			case c.Is(NSXMLDSigMore, "SaltLength") && stage < 3:
				stage = 3
				n, perr := strconv.Atoi(strings.TrimSpace(c.Text()))
				if perr != nil || n < 0 || n > 1024 {
					return sigAlg{}, fmt.Errorf("SaltLength %q is not a valid length", c.Text())
				}
				alg.salt = n
			case c.Is(NSXMLDSigMore, "TrailerField") && stage < 4:
				stage = 4
				if strings.TrimSpace(c.Text()) != "1" {
					return sigAlg{}, fmt.Errorf("TrailerField %q is not accepted (1 only)", c.Text())
				}
			default:
				return sigAlg{}, fmt.Errorf("unexpected element %s in RSAPSSParams", qname(c.Prefix, c.Local))
			}
			if err != nil {
				return sigAlg{}, err
			}
		}
	}
	if alg.hash == crypto.MD5 || mgfHash == crypto.MD5 {
		return sigAlg{}, fmt.Errorf("MD5 is not accepted for RSASSA-PSS")
	}
	alg.mgf = mgfHash
	if alg.salt < 0 {
		alg.salt = alg.hash.Size()
	}
	alg.name = "RSASSA-PSS-" + strings.Replace(hashName(alg.hash), "SHA-", "SHA", 1)
	return alg, nil
}

func hashName(h crypto.Hash) string {
	for _, d := range digestAlgs {
		if d.hash == h {
			return d.name
		}
	}
	return h.String()
}

// signatureMethodFor picks the SignatureMethod URI for a public key and hash (RSASSA-PSS for RSA keys when pss).
func signatureMethodFor(pub crypto.PublicKey, h crypto.Hash, pss bool) (sigAlg, error) {
	var kind keyKind
	switch k := pub.(type) {
	case *rsa.PublicKey:
		kind = keyRSA
		if pss {
			kind = keyRSAPSS
		}
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
	if pss && kind != keyRSAPSS {
		return sigAlg{}, fmt.Errorf("xades: RSASSA-PSS needs an RSA key, not %T", pub)
	}
	for _, a := range sigAlgs {
		if a.kind == kind && a.hash == h && h != crypto.SHA1 && h != crypto.MD5 {
			if kind == keyRSAPSS {
				a.salt = h.Size()
			}
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
	// IdentityIssuer and IdentityIssuedAt are the newer format's SignatureData (IdentityIssuer,
	// IdentityIssueTimestamp): who vouched for the identity and when; not written.
	IdentityIssuer   string `json:"identityIssuer,omitempty"`
	IdentityIssuedAt string `json:"identityIssuedAt,omitempty"`
	// AuthorizationPolicy names how the holder confirmed the signature (IdPolitykiAutoryzacji).
	AuthorizationPolicy string `json:"authorizationPolicy,omitempty"`
}
