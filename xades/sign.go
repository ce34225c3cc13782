package xades

import (
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
	"unsafe"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

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
	src := transientString(data)
	root, object, digest, err := covered(src, &opts, id, h)
	if err != nil {
		return nil, err
	}
	s.object, s.dataDigest = object, digest

	switch opts.Format {
	case Enveloped:
		out := make([]byte, 0, len(src)+s.sizeHint()+len(root.Prefix)+len(root.Local)+4)
		tail := root.Inner
		if tail >= 0 {
			out = append(out, src[:tail]...)
		} else {
			// <root .../> becomes <root ...>SIGNATURE</root>; canonically the same element
			out = append(out, src[:root.End-2]...)
			out = append(out, '>')
		}
		if out, err = s.build(ctx, out); err != nil {
			return nil, err
		}
		if tail >= 0 {
			return append(out, src[tail:]...), nil
		}
		out = append(out, "</"...)
		out = append(out, qname(root.Prefix, root.Local)...)
		out = append(out, '>')
		return append(out, src[root.End:]...), nil
	default:
		const decl = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
		out := make([]byte, 0, len(decl)+s.sizeHint()+1)
		out = append(out, decl...)
		if out, err = s.build(ctx, out); err != nil {
			return nil, err
		}
		return append(out, '\n'), nil
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
	_, _, _, err := covered(transientString(data), &opts, "ID-prepare", h)
	return err
}

// transientString is data as a string without copying it, for reading during one call: what parsing and
// canonicalizing data keep of it (nodes, attributes, the root's name) is cleared or copied into the output before
// Sign and Prepare return, and no error holds a part of it, so nothing of the caller's memory outlives the call.
// The caller must not change data during the call (as with any argument).
func transientString(data []byte) string { return unsafe.String(unsafe.SliceData(data), len(data)) }

// covered parses src (enveloped and enveloping) and digests, with h, the content the signature with id covers: the
// document without its signatures (enveloped), the ds:Object holding its root (enveloping, returned as object) or the
// bytes (detached). It returns the root element (its name and offsets) of an XML document.
func covered(src string, opts *SignOptions, id string, h crypto.Hash) (root xmldoc.Node, object string, digest []byte, err error) {
	hw := h.New()
	switch opts.Format {
	case Enveloped:
		// read once, digested as it is read: no tree
		root, err = xmldoc.CanonicalizeSource(hw, src, opts.Limits, isSignature)
		if _, syntax := errors.AsType[*xmldoc.SyntaxError](err); syntax {
			return root, "", nil, fmt.Errorf("%w: %w", ErrNotXML, err)
		}
		if err != nil {
			return root, "", nil, err
		}
	case Enveloping:
		doc, err := xmldoc.ParseString(src, opts.Limits)
		if err != nil {
			return root, "", nil, fmt.Errorf("%w: %w", ErrNotXML, err)
		}
		start, end := doc.Root.Start, doc.Root.End
		doc.Release()
		object = `<ds:Object Id="` + id + `-object">` + src[start:end] + `</ds:Object>`
		od, err := xmldoc.ParseString(`<ds:Object xmlns:ds="`+NSDSig+`" Id="`+id+`-object">`+src[start:end]+`</ds:Object>`, opts.Limits)
		if err != nil {
			return root, "", nil, fmt.Errorf("%w: %w", ErrNotXML, err)
		}
		err = xmldoc.Canonicalize(hw, xmldoc.Subset{Doc: od, Apex: od.Root}, xmldoc.Method{Exclusive: true})
		od.Release()
		if err != nil {
			return root, "", nil, err
		}
	case Detached:
		if opts.DetachedURI == "" {
			return root, "", nil, errors.New("xades: detached signing needs the content's URI (file name)")
		}
		hw.Write([]byte(src))
	default:
		return root, "", nil, fmt.Errorf("xades: unknown format %v", opts.Format)
	}
	return root, object, hw.Sum(nil), nil
}

// isSignature selects the elements an enveloped signature's reference leaves out: every ds:Signature (the XPath
// Filter 2.0 subtract set /descendant::ds:Signature).
func isSignature(n *xmldoc.Node) bool { return n.Is(NSDSig, "Signature") }

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

// signatureSize is a bound of the length of a signature's XML besides its certificates, data object and
// trusted-profile binding (about 2.6 KB with a P-256 key, 3.1 KB with RSA-4096), and profileSize of the binding's
// markup: sizeHint adds them up so that sign reserves enough output for the signature and never copies it.
const (
	signatureSize = 3584
	profileSize   = 1 << 10
)

// sizeHint is about the length of the signature build appends.
func (s *sigBuilder) sizeHint() int {
	o := s.opts
	n := signatureSize + len(s.object) + 3*len(o.DetachedURI) + 2*len(o.MIMEType)
	n += base64.StdEncoding.EncodedLen(len(o.Certificate.Raw))
	for _, c := range o.Chain {
		n += base64.StdEncoding.EncodedLen(len(c.Raw)) + 64
	}
	if p := o.Profile; p != nil {
		n += profileSize + 2*(len(p.FirstName)+len(p.SecondName)+len(p.Surname)+len(p.PESEL)+len(p.ProfileID)+2*len(p.Login)+
			len(p.AuthorizationPolicy)+len(DefaultAuthorizationPolicy))
	}
	return n
}

// build appends the ds:Signature element to out. It writes SignedProperties and SignedInfo with their exclusive
// canonical forms (sigWriter) and digests those, rather than parsing the text back.
func (s *sigBuilder) build(ctx context.Context, out []byte) ([]byte, error) {
	o := s.opts
	id := s.id
	cert := o.Certificate
	facts := factsOf(cert, s.hash)
	if o.SigningCertificateV2 && facts.v2Err != nil {
		return nil, facts.v2Err
	}

	// SignedProperties, into its own writer: it goes at the end of the signature, but its digest into SignedInfo
	sp := getWriter()
	defer putWriter(sp)
	s.writeSignedProperties(sp, facts)
	if sp.err != nil {
		return nil, fmt.Errorf("xades: building SignedProperties: %w", sp.err)
	}
	hw := s.hash.New()
	hw.Write(sp.can)
	var spDigest [64]byte
	spSum := hw.Sum(spDigest[:0])

	// the signature, straight into out; SignedInfo canonicalized on the way
	w := getWriter()
	own := w.ser
	defer func() {
		w.ser = own // out is the caller's
		putWriter(w)
	}()
	w.ser = out
	w.start("ds", "Signature")
	w.decl("ds")
	w.attr("Id", id)
	w.enter()
	s.writeSignedInfo(w, spSum)
	if w.err != nil {
		return nil, fmt.Errorf("xades: building SignedInfo: %w", w.err)
	}
	hw.Reset()
	hw.Write(w.can)
	var siDigest [64]byte
	sigValue, err := signDigest(o, s.alg, s.hash, hw.Sum(siDigest[:0]))
	if err != nil {
		return nil, err
	}

	mark := len(w.ser)
	w.start("ds", "SignatureValue")
	w.attr("Id", id, "-sigvalue")
	w.enter()
	w.base64(sigValue)
	w.end()
	var sigTS string
	if o.TimeStamp != nil {
		if sigTS, err = timeStampElement(ctx, o, s, string(w.ser[mark:])); err != nil {
			return nil, err
		}
	}
	// Chain certificates with the signer's key type go into KeyInfo after the signer's, where every XMLDSig
	// verifier looks when building a chain; others (e.g. an RSA CA above an ECDSA seal, which makes xadesjs fail)
	// go into the unsigned CertificateValues, which XAdES verifiers read.
	inKeyInfo := func(c *x509.Certificate) bool { return c.PublicKeyAlgorithm == cert.PublicKeyAlgorithm }
	inValues := 0
	w.start("ds", "KeyInfo")
	w.enter()
	w.start("ds", "X509Data")
	w.enter()
	w.start("ds", "X509Certificate")
	w.enter()
	w.base64(cert.Raw)
	w.end()
	for _, c := range o.Chain {
		switch {
		case c.Equal(cert):
		case inKeyInfo(c):
			w.start("ds", "X509Certificate")
			w.enter()
			w.base64(c.Raw)
			w.end()
		default:
			inValues++
		}
	}
	w.end() // X509Data
	w.end() // KeyInfo
	w.ser = append(w.ser, s.object...)
	w.start("ds", "Object")
	w.enter()
	w.start("xades", "QualifyingProperties")
	w.decl("xades")
	w.attr("Target", "#", id)
	w.enter()
	w.raw(sp.ser)
	if inValues > 0 || sigTS != "" {
		w.start("xades", "UnsignedProperties")
		w.enter()
		w.start("xades", "UnsignedSignatureProperties")
		w.enter()
		w.ser = append(w.ser, sigTS...)
		if inValues > 0 {
			w.start("xades", "CertificateValues")
			w.enter()
			for _, c := range o.Chain {
				if !c.Equal(cert) && !inKeyInfo(c) {
					w.start("xades", "EncapsulatedX509Certificate")
					w.enter()
					w.base64(c.Raw)
					w.end()
				}
			}
			w.end()
		}
		w.end()
		w.end()
	}
	w.end() // QualifyingProperties
	w.end() // Object
	w.end() // Signature
	if w.err != nil || len(w.open) != 0 {
		return nil, fmt.Errorf("xades: building the signature: %w", errors.Join(errSigWriter, w.err))
	}
	return w.ser, nil
}

// writeSignedProperties writes the xades:SignedProperties element, canonicalized.
func (s *sigBuilder) writeSignedProperties(w *sigWriter, facts *certFacts) {
	o := s.opts
	id := s.id
	dURI := digestURI(s.hash)
	w.startCanonical()
	w.start("xades", "SignedProperties")
	w.attr("Id", id, "-signedprops")
	w.enter()
	w.start("xades", "SignedSignatureProperties")
	w.enter()
	var tb [32]byte
	w.element("xades", "SigningTime", string(s.time.AppendFormat(tb[:0], "2006-01-02T15:04:05Z")))
	certElement := "SigningCertificate"
	if o.SigningCertificateV2 {
		certElement = "SigningCertificateV2"
	}
	w.start("xades", certElement)
	w.enter()
	w.start("xades", "Cert")
	w.enter()
	w.start("xades", "CertDigest")
	w.enter()
	w.emptyElement("ds", "DigestMethod", "Algorithm", dURI)
	w.start("ds", "DigestValue")
	w.enter()
	w.base64(facts.digest)
	w.end()
	w.end() // CertDigest
	if o.SigningCertificateV2 {
		w.element("xades", "IssuerSerialV2", facts.v2)
	} else {
		w.start("xades", "IssuerSerial")
		w.enter()
		w.element("ds", "X509IssuerName", facts.issuer)
		w.element("ds", "X509SerialNumber", facts.serial)
		w.end()
	}
	w.end() // Cert
	w.end() // SigningCertificate(V2)
	w.start("xades", "SignaturePolicyIdentifier")
	w.enter()
	w.start("xades", "SignaturePolicyImplied")
	w.empty()
	w.end()
	if o.Profile != nil {
		w.start("xades", "SignerRole")
		w.enter()
		w.start("xades", "ClaimedRoles")
		w.enter()
		w.start("xades", "ClaimedRole")
		w.enter()
		writePodpisZP(w, o.Profile)
		w.end()
		w.end()
		w.end()
	}
	w.end() // SignedSignatureProperties
	mime := o.MIMEType
	if mime == "" {
		mime = "text/xml"
		if o.Format == Detached {
			mime = "application/octet-stream"
		}
	}
	w.start("xades", "SignedDataObjectProperties")
	w.enter()
	w.start("xades", "DataObjectFormat")
	w.attr("ObjectReference", "#", id, "-ref0")
	w.enter()
	w.element("xades", "MimeType", mime)
	w.end()
	w.end()
	w.end() // SignedProperties
}

// writeSignedInfo writes the ds:SignedInfo element, canonicalized, with the digest of SignedProperties.
func (s *sigBuilder) writeSignedInfo(w *sigWriter, spDigest []byte) {
	o := s.opts
	id := s.id
	dURI := digestURI(s.hash)
	w.startCanonical()
	w.start("ds", "SignedInfo")
	w.enter()
	w.emptyElement("ds", "CanonicalizationMethod", "Algorithm", xmldoc.ExcC14N)
	w.emptyElement("ds", "SignatureMethod", "Algorithm", s.alg.uri)
	w.start("ds", "Reference")
	w.attr("Id", id, "-ref0")
	switch o.Format {
	case Enveloped:
		w.attr("URI", "")
		w.enter()
		w.start("ds", "Transforms")
		w.enter()
		w.start("ds", "Transform")
		w.attr("Algorithm", TransformFilter2)
		w.enter()
		w.start("dsig-xpath", "XPath")
		w.decl("dsig-xpath")
		w.attr("Filter", "subtract")
		w.enter()
		w.text("/descendant::ds:Signature")
		w.end()
		w.end()
		w.end()
	case Enveloping:
		w.attr("URI", "#", id, "-object")
		w.enter()
		w.start("ds", "Transforms")
		w.enter()
		w.emptyElement("ds", "Transform", "Algorithm", xmldoc.ExcC14N)
		w.end()
	case Detached:
		w.attr("URI", detachedURI(o.DetachedURI))
		w.enter()
	}
	w.emptyElement("ds", "DigestMethod", "Algorithm", dURI)
	w.start("ds", "DigestValue")
	w.enter()
	w.base64(s.dataDigest)
	w.end()
	w.end() // Reference
	w.start("ds", "Reference")
	w.attr("Type", TypeSignedProperties)
	w.attr("URI", "#", id, "-signedprops")
	w.enter()
	w.start("ds", "Transforms")
	w.enter()
	w.emptyElement("ds", "Transform", "Algorithm", xmldoc.ExcC14N)
	w.end()
	w.emptyElement("ds", "DigestMethod", "Algorithm", dURI)
	w.start("ds", "DigestValue")
	w.enter()
	w.base64(spDigest)
	w.end()
	w.end() // Reference
	w.end() // SignedInfo
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
	// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, both positive
	var seq, r, sv cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1(&r, cbasn1.INTEGER) ||
		!seq.ReadASN1(&sv, cbasn1.INTEGER) || !seq.Empty() {
		return nil, errors.New("xades: the signer returned a malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	for i, v := range []cryptobyte.String{r, sv} {
		// minimal two's complement: a leading zero only before a high bit; no negative values
		if len(v) == 0 || v[0]&0x80 != 0 || (len(v) > 1 && v[0] == 0 && v[1]&0x80 == 0) {
			return nil, errors.New("xades: the signer returned a malformed ECDSA signature")
		}
		if len(v) > 1 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > size {
			return nil, errors.New("xades: the signer returned a malformed ECDSA signature")
		}
		copy(out[(i+1)*size-len(v):(i+1)*size], v)
	}
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
