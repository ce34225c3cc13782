package xades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/trustsign/trustsign/internal/keyusage"
	"github.com/trustsign/trustsign/internal/xmldoc"
)

// Format is the placement of a signature relative to the signed data.
type Format int

// Signature formats.
const (
	// Enveloped appends the signature as the last child of the document's root element; its reference covers
	// the whole document minus every ds:Signature (XPath Filter 2.0), so co-signatures keep each other valid.
	Enveloped Format = iota
	// Enveloping puts the document inside a ds:Object of the signature.
	Enveloping
	// Detached references an external file by name; the digest covers its bytes.
	Detached
)

func (f Format) String() string {
	switch f {
	case Enveloped:
		return "enveloped"
	case Enveloping:
		return "enveloping"
	case Detached:
		return "detached"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// SignOptions configures Sign.
type SignOptions struct {
	Format Format
	// Signer is the private key; Certificate its certificate (placed in KeyInfo and SigningCertificate).
	Signer      crypto.Signer
	Certificate *x509.Certificate
	// Chain certificates help verifiers build the chain: those with the signer's key type are carried in KeyInfo,
	// the others in the unsigned CertificateValues.
	Chain []*x509.Certificate
	// Hash for digests and the signature (SHA-256 when zero; SHA-384 and SHA-512 allowed).
	Hash crypto.Hash
	// RSAPSS signs with an RSA key in RSASSA-PSS (the "#sha256-rsa-MGF1" family of RFC 6931: MGF1 with Hash, a
	// salt as long as the hash) instead of PKCS#1 v1.5. The Signer must accept *rsa.PSSOptions.
	RSAPSS bool
	// SigningTime defaults to the current time (UTC, whole seconds).
	SigningTime time.Time
	// Profile, when set, binds the trusted-profile identity into ClaimedRole.
	Profile *Profile
	// SigningCertificateV2 writes xades:SigningCertificateV2 (EN 319 132-1) instead of SigningCertificate.
	SigningCertificateV2 bool
	// DetachedURI is the Reference URI of detached content (usually its file name).
	DetachedURI string
	// MIMEType of the signed data, written in DataObjectFormat (default text/xml, or application/octet-stream
	// for detached content).
	MIMEType string
	// Rand is the source for Ids and (if the signer uses it) the signature; crypto/rand when nil.
	Rand io.Reader
	// Limits bound parsing of the input document.
	Limits xmldoc.Limits
	// TimeStamp, when set, makes the signature XAdES B-T: it is called with the imprint (a digest, with Hash, of
	// the exclusive canonical form of ds:SignatureValue, ETSI EN 319 132-1 5.3) and returns a DER RFC 3161
	// TimeStampToken over it (tsa.Client.Stamp's Token.DER), written as xades:SignatureTimeStamp. It is called
	// with SignContext's context.
	TimeStamp func(ctx context.Context, imprint []byte) ([]byte, error)
}

// ErrNotXML is returned when enveloped or enveloping signing is asked for input that is not well-formed XML.
var ErrNotXML = errors.New("xades: input is not well-formed XML")

// Sign signs data and returns the signed XML. For Enveloped and Enveloping, data must be an XML document
// (use Wrap for other files); for Detached, data is any content and the result is a standalone signature. A
// certificate whose key usage does not allow document signatures is refused (verifiers would refuse every
// signature made with it).
func Sign(data []byte, opts SignOptions) ([]byte, error) {
	return SignContext(context.Background(), data, opts)
}

// SignContext is Sign with a context for SignOptions.TimeStamp.
func SignContext(ctx context.Context, data []byte, opts SignOptions) ([]byte, error) {
	if err := keyusage.ForDocuments(opts.Certificate); err != nil { // nil Certificate: sign says so
		return nil, fmt.Errorf("xades: %w", err)
	}
	return sign(ctx, data, opts)
}

// sign is Sign without the key-usage check (tests make the signatures other tools would).
func sign(ctx context.Context, data []byte, opts SignOptions) ([]byte, error) {
	if opts.Signer == nil || opts.Certificate == nil {
		return nil, errors.New("xades: a signer and its certificate are required")
	}
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	alg, err := signatureMethodFor(opts.Certificate.PublicKey, h, opts.RSAPSS)
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(opts.Signer.Public(), opts.Certificate.PublicKey) {
		return nil, errors.New("xades: the private key does not match the certificate")
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	idb := make([]byte, 12)
	if _, err := io.ReadFull(rnd, idb); err != nil {
		return nil, err
	}
	id := "ID-" + hex.EncodeToString(idb)
	t := opts.SigningTime
	if t.IsZero() {
		t = time.Now()
	}
	t = t.UTC().Truncate(time.Second)

	s := &sigBuilder{id: id, hash: h, alg: alg, opts: &opts, time: t}
	src := string(data)
	doc, object, digest, err := covered(src, &opts, id, h)
	if err != nil {
		return nil, err
	}
	s.object, s.dataDigest = object, digest

	sigXML, err := s.build(ctx)
	if err != nil {
		return nil, err
	}
	switch opts.Format {
	case Enveloped:
		root := doc.Root
		var out bytes.Buffer
		out.Grow(len(src) + len(sigXML) + len(root.Local) + 4)
		if root.Inner >= 0 {
			out.WriteString(src[:root.Inner])
			out.WriteString(sigXML)
			out.WriteString(src[root.Inner:])
		} else {
			// <root .../> becomes <root ...>SIGNATURE</root>; canonically the same element
			tagEnd := root.End - 2
			out.WriteString(src[:tagEnd])
			out.WriteString(">")
			out.WriteString(sigXML)
			out.WriteString("</" + qname(root.Prefix, root.Local) + ">")
			out.WriteString(src[root.End:])
		}
		return out.Bytes(), nil
	default:
		return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + sigXML + "\n"), nil
	}
}

// Prepare runs what Sign does with data before any key is used: it parses data within opts.Limits (enveloped and
// enveloping) and canonicalizes the content the signature would cover. An error says Sign could never sign data in
// opts.Format with these options (not well-formed, beyond the limits, a relative namespace URI...), whatever the key.
// Signer and Certificate are not needed.
func Prepare(data []byte, opts SignOptions) error {
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	_, _, _, err := covered(string(data), &opts, "ID-prepare", h)
	return err
}

// covered parses src (enveloped and enveloping) and digests, with h, the content the signature with id covers: the
// document without its signatures (enveloped), the ds:Object holding its root (enveloping, returned as object) or the
// bytes (detached).
func covered(src string, opts *SignOptions, id string, h crypto.Hash) (doc *xmldoc.Document, object string, digest []byte, err error) {
	switch opts.Format {
	case Enveloped, Enveloping:
		doc, err = xmldoc.ParseString(src, opts.Limits)
		if err != nil {
			return nil, "", nil, fmt.Errorf("%w: %w", ErrNotXML, err)
		}
	case Detached:
		if opts.DetachedURI == "" {
			return nil, "", nil, errors.New("xades: detached signing needs the content's URI (file name)")
		}
	default:
		return nil, "", nil, fmt.Errorf("xades: unknown format %v", opts.Format)
	}
	hw := h.New()
	switch opts.Format {
	case Enveloped:
		if err := xmldoc.Canonicalize(hw, xmldoc.Subset{Doc: doc, Exclude: allSignatures(doc)}, xmldoc.Method{}); err != nil {
			return nil, "", nil, err
		}
	case Enveloping:
		object = `<ds:Object Id="` + id + `-object">` + src[doc.Root.Start:doc.Root.End] + `</ds:Object>`
		od, err := xmldoc.ParseString(`<ds:Object xmlns:ds="`+NSDSig+`" Id="`+id+`-object">`+src[doc.Root.Start:doc.Root.End]+`</ds:Object>`, opts.Limits)
		if err != nil {
			return nil, "", nil, fmt.Errorf("%w: %w", ErrNotXML, err)
		}
		if err := xmldoc.Canonicalize(hw, xmldoc.Subset{Doc: od, Apex: od.Root}, xmldoc.Method{Exclusive: true}); err != nil {
			return nil, "", nil, err
		}
	case Detached:
		hw.Write([]byte(src))
	}
	return doc, object, hw.Sum(nil), nil
}

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// allSignatures returns every ds:Signature element of the document (the XPath Filter 2.0 subtract set
// /descendant::ds:Signature).
func allSignatures(doc *xmldoc.Document) []*xmldoc.Node {
	var out []*xmldoc.Node
	if doc.Root.Is(NSDSig, "Signature") {
		return []*xmldoc.Node{doc.Root}
	}
	doc.Root.Descendants(func(n *xmldoc.Node) bool {
		if n.Is(NSDSig, "Signature") {
			out = append(out, n)
			return false
		}
		return true
	})
	return out
}

type sigBuilder struct {
	id         string
	hash       crypto.Hash
	alg        sigAlg
	opts       *SignOptions
	time       time.Time
	dataDigest []byte
	object     string
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// escapeText escapes character data for element content and attribute values.
func escapeText(s string) string {
	if !strings.ContainsAny(s, "&<>\"\r") {
		return s
	}
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "\r", "&#xD;")
	return r.Replace(s)
}

func (s *sigBuilder) build(ctx context.Context) (string, error) {
	o := s.opts
	id := s.id
	dURI := digestURI(s.hash)
	cert := o.Certificate

	// SignedProperties
	var sp strings.Builder
	sp.WriteString(`<xades:SignedProperties Id="` + id + `-signedprops"><xades:SignedSignatureProperties>`)
	sp.WriteString(`<xades:SigningTime>` + s.time.Format("2006-01-02T15:04:05Z") + `</xades:SigningTime>`)
	ch := s.hash.New()
	ch.Write(cert.Raw)
	certDigest := b64(ch.Sum(nil))
	if o.SigningCertificateV2 {
		is, err := issuerSerialV2(cert)
		if err != nil {
			return "", err
		}
		sp.WriteString(`<xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="` + dURI +
			`"/><ds:DigestValue>` + certDigest + `</ds:DigestValue></xades:CertDigest><xades:IssuerSerialV2>` + is +
			`</xades:IssuerSerialV2></xades:Cert></xades:SigningCertificateV2>`)
	} else {
		sp.WriteString(`<xades:SigningCertificate><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="` + dURI +
			`"/><ds:DigestValue>` + certDigest + `</ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>` +
			escapeText(cert.Issuer.String()) + `</ds:X509IssuerName><ds:X509SerialNumber>` + cert.SerialNumber.String() +
			`</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert></xades:SigningCertificate>`)
	}
	sp.WriteString(`<xades:SignaturePolicyIdentifier><xades:SignaturePolicyImplied/></xades:SignaturePolicyIdentifier>`)
	if o.Profile != nil {
		sp.WriteString(`<xades:SignerRole><xades:ClaimedRoles><xades:ClaimedRole>`)
		sp.WriteString(podpisZP(o.Profile))
		sp.WriteString(`</xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole>`)
	}
	sp.WriteString(`</xades:SignedSignatureProperties>`)
	mime := o.MIMEType
	if mime == "" {
		mime = "text/xml"
		if o.Format == Detached {
			mime = "application/octet-stream"
		}
	}
	sp.WriteString(`<xades:SignedDataObjectProperties><xades:DataObjectFormat ObjectReference="#` + id + `-ref0"><xades:MimeType>` +
		escapeText(mime) + `</xades:MimeType></xades:DataObjectFormat></xades:SignedDataObjectProperties>`)
	sp.WriteString(`</xades:SignedProperties>`)
	spText := sp.String()

	// Digest of SignedProperties (exclusive C14N; the in-context result equals this standalone one because
	// exclusive C14N renders only visibly used namespaces and every element here is prefixed).
	spDoc, err := xmldoc.ParseString(`<xades:QualifyingProperties xmlns:xades="`+NSXAdES+`" xmlns:ds="`+NSDSig+`">`+spText+`</xades:QualifyingProperties>`, xmldoc.Limits{})
	if err != nil {
		return "", fmt.Errorf("xades: building SignedProperties: %w", err)
	}
	hw := s.hash.New()
	if err := xmldoc.Canonicalize(hw, xmldoc.Subset{Doc: spDoc, Apex: spDoc.Root.FirstChild}, xmldoc.Method{Exclusive: true}); err != nil {
		return "", err
	}
	spDigest := hw.Sum(nil)

	// SignedInfo
	var si strings.Builder
	si.WriteString(`<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="` + xmldoc.ExcC14N + `"/><ds:SignatureMethod Algorithm="` + s.alg.uri + `"/>`)
	switch o.Format {
	case Enveloped:
		si.WriteString(`<ds:Reference Id="` + id + `-ref0" URI=""><ds:Transforms><ds:Transform Algorithm="` + TransformFilter2 +
			`"><dsig-xpath:XPath xmlns:dsig-xpath="` + NSFilter2 + `" Filter="subtract">/descendant::ds:Signature</dsig-xpath:XPath></ds:Transform></ds:Transforms>`)
	case Enveloping:
		si.WriteString(`<ds:Reference Id="` + id + `-ref0" URI="#` + id + `-object"><ds:Transforms><ds:Transform Algorithm="` + xmldoc.ExcC14N + `"/></ds:Transforms>`)
	case Detached:
		si.WriteString(`<ds:Reference Id="` + id + `-ref0" URI="` + escapeText(detachedURI(o.DetachedURI)) + `">`)
	}
	si.WriteString(`<ds:DigestMethod Algorithm="` + dURI + `"/><ds:DigestValue>` + b64(s.dataDigest) + `</ds:DigestValue></ds:Reference>`)
	si.WriteString(`<ds:Reference Type="` + TypeSignedProperties + `" URI="#` + id + `-signedprops"><ds:Transforms><ds:Transform Algorithm="` +
		xmldoc.ExcC14N + `"/></ds:Transforms><ds:DigestMethod Algorithm="` + dURI + `"/><ds:DigestValue>` + b64(spDigest) + `</ds:DigestValue></ds:Reference>`)
	si.WriteString(`</ds:SignedInfo>`)
	siText := si.String()

	siDoc, err := xmldoc.ParseString(`<ds:Signature xmlns:ds="`+NSDSig+`">`+siText+`</ds:Signature>`, xmldoc.Limits{})
	if err != nil {
		return "", fmt.Errorf("xades: building SignedInfo: %w", err)
	}
	hw = s.hash.New()
	if err := xmldoc.Canonicalize(hw, xmldoc.Subset{Doc: siDoc, Apex: siDoc.Root.FirstChild}, xmldoc.Method{Exclusive: true}); err != nil {
		return "", err
	}
	sigValue, err := signDigest(o, s.alg, s.hash, hw.Sum(nil))
	if err != nil {
		return "", err
	}

	var out strings.Builder
	out.Grow(len(siText) + len(spText) + len(s.object) + 2*len(cert.Raw) + 1024)
	out.WriteString(`<ds:Signature xmlns:ds="` + NSDSig + `" Id="` + id + `">`)
	out.WriteString(siText)
	sigValueXML := `<ds:SignatureValue Id="` + id + `-sigvalue">` + b64(sigValue) + `</ds:SignatureValue>`
	var sigTS string
	if o.TimeStamp != nil {
		if sigTS, err = timeStampElement(ctx, o, s, sigValueXML); err != nil {
			return "", err
		}
	}
	out.WriteString(sigValueXML)
	// Chain certificates with the signer's key type go into KeyInfo after the signer's, where every XMLDSig
	// verifier looks when building a chain; others (e.g. an RSA CA above an ECDSA seal, which makes xadesjs fail)
	// go into the unsigned CertificateValues, which XAdES verifiers read.
	var inKeyInfo, inValues []*x509.Certificate
	for _, c := range o.Chain {
		switch {
		case c.Equal(cert):
		case c.PublicKeyAlgorithm == cert.PublicKeyAlgorithm:
			inKeyInfo = append(inKeyInfo, c)
		default:
			inValues = append(inValues, c)
		}
	}
	out.WriteString(`<ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + b64(cert.Raw) + `</ds:X509Certificate>`)
	for _, c := range inKeyInfo {
		out.WriteString(`<ds:X509Certificate>` + b64(c.Raw) + `</ds:X509Certificate>`)
	}
	out.WriteString(`</ds:X509Data></ds:KeyInfo>`)
	out.WriteString(s.object)
	out.WriteString(`<ds:Object><xades:QualifyingProperties xmlns:xades="` + NSXAdES + `" Target="#` + id + `">`)
	out.WriteString(spText)
	if len(inValues) > 0 || sigTS != "" {
		out.WriteString(`<xades:UnsignedProperties><xades:UnsignedSignatureProperties>`)
		out.WriteString(sigTS)
		if len(inValues) > 0 {
			out.WriteString(`<xades:CertificateValues>`)
			for _, c := range inValues {
				out.WriteString(`<xades:EncapsulatedX509Certificate>` + b64(c.Raw) + `</xades:EncapsulatedX509Certificate>`)
			}
			out.WriteString(`</xades:CertificateValues>`)
		}
		out.WriteString(`</xades:UnsignedSignatureProperties></xades:UnsignedProperties>`)
	}
	out.WriteString(`</xades:QualifyingProperties></ds:Object></ds:Signature>`)
	return out.String(), nil
}

// detachedURI escapes a file name for use as a relative URI reference.
func detachedURI(name string) string {
	return (&url.URL{Path: name}).EscapedPath()
}

// signDigest produces the XMLDSig SignatureValue: PKCS#1 v1.5 or RSASSA-PSS for RSA, r||s (fixed-size halves)
// for ECDSA.
func signDigest(o *SignOptions, alg sigAlg, h crypto.Hash, digest []byte) ([]byte, error) {
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var so crypto.SignerOpts = h
	if alg.kind == keyRSAPSS {
		so = &rsa.PSSOptions{SaltLength: alg.salt, Hash: h}
	}
	sig, err := o.Signer.Sign(rnd, digest, so)
	if err != nil {
		return nil, fmt.Errorf("xades: signing: %w", err)
	}
	if alg.kind != keyECDSA {
		return sig, nil
	}
	pub := o.Certificate.PublicKey.(*ecdsa.PublicKey)
	return ecdsaDERToRaw(sig, (pub.Curve.Params().BitSize+7)/8)
}

func ecdsaDERToRaw(der []byte, size int) ([]byte, error) {
	var v struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &v)
	if err != nil || len(rest) > 0 || v.R == nil || v.S == nil {
		return nil, errors.New("xades: the signer returned a malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	v.R.FillBytes(out[:size])
	v.S.FillBytes(out[size:])
	return out, nil
}

func issuerSerialV2(cert *x509.Certificate) (string, error) {
	// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber } (RFC 5035)
	type generalName struct {
		DirectoryName asn1.RawValue `asn1:"tag:4,explicit"`
	}
	type issuerSerial struct {
		Issuer []asn1.RawValue
		Serial *big.Int
	}
	dn := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: cert.RawIssuer}
	der, err := asn1.Marshal(issuerSerial{Issuer: []asn1.RawValue{dn}, Serial: cert.SerialNumber})
	if err != nil {
		return "", err
	}
	return b64(der), nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// WrapperDigest is a helper for reports: the hex SHA-256 of b.
func WrapperDigest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
