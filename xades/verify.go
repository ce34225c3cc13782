package xades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/pkcs1"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/revocation"
)

// NSXAdES122 is the older XAdES 1.2.2 namespace, still read.
const NSXAdES122 = "http://uri.etsi.org/01903/v1.2.2#"

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// Detached maps a Reference URI (or the file's base name) to its content. When exactly one entry is given
	// and exactly one reference is external, that entry is used for it whatever its name.
	Detached map[string][]byte
	// ExtraCertificates may hold the signer's certificate when the signature does not carry it.
	ExtraCertificates []*x509.Certificate
	// Limits bound parsing.
	Limits xmldoc.Limits
	// MaxReferences per signature (default 1000: real detached signatures cover hundreds of files) and
	// MaxSignatures per document (default 64). Time and memory stay bounded by the work budget on references
	// (a multiple of the input size), whatever these limits.
	MaxReferences, MaxSignatures int
	// WorkBudget bounds the work on all references of the document together, in bytes canonicalized, decoded,
	// hashed or walked (default 64 MiB plus 32 times the input, detached content included); references past it
	// are refused for the processing limit.
	WorkBudget int64
}

// RefStatus is the outcome of one Reference.
type RefStatus int

// Reference outcomes.
const (
	RefOK       RefStatus = iota // the digest matches
	RefMismatch                  // the digest does not match
	RefNotFound                  // the referenced data cannot be found (SIGNED_DATA_NOT_FOUND)
	RefRefused                   // a transform, URI or algorithm that is not accepted, or a malformed reference
)

// ReferenceResult is what one ds:Reference covers and whether its digest matched.
type ReferenceResult struct {
	URI     string
	Type    string
	Covered string
	Digest  string // digest algorithm name
	Weak    bool
	Status  RefStatus
	Detail  string
	// SignedProperties is set when the reference points to this signature's xades:SignedProperties.
	SignedProperties bool
	// Verified holds the exact octets that were digested, and is set only when Status is RefOK: it is the content
	// this reference proves, and whatever is shown or extracted as signed through it must be read from it (or from
	// NodeSet), never from the document as parsed. It may be shared (with other references verifying the same
	// node-set, or for detached content without transforms with the caller's own slice from
	// VerifyOptions.Detached): do not modify it.
	Verified []byte
	// NodeSet is set (with Status RefOK) when the transforms' output was a node-set: the document, or the parsed
	// referenced octets, minus the excluded subtrees. Verified is then its canonical form (inclusive C14N 1.0
	// without comments, XMLDSig 1.1 §4.4.3.2).
	NodeSet *xmldoc.Subset
	// wholeDocument is set when the URI selects this whole document ("" or "#xpointer(/)").
	wholeDocument bool
}

// CertRef is the outcome of matching the XAdES SigningCertificate(V2) reference.
type CertRef int

// SigningCertificate outcomes.
const (
	CertRefAbsent   CertRef = iota // no SigningCertificate(V2) property
	CertRefMatch                   // the reference names the certificate that verified the signature value
	CertRefMismatch                // the reference names another certificate
	CertRefMissing                 // the referenced certificate is not available, so the signature cannot be checked
)

// SignatureResult holds the facts found about one signature.
type SignatureResult struct {
	ID   string
	Path string
	// Structure lists shape defects (FORMAT_FAILURE).
	Structure  []string
	References []ReferenceResult
	Algorithm  string
	Hash       crypto.Hash
	// SignatureChecked is false when no key was available; SignatureValid is the outcome otherwise.
	SignatureChecked, SignatureValid bool
	SignatureDetail                  string
	DigestInfoWithoutNULL            bool
	// Certificate verified the signature value (or, when it did not verify, the declared signer).
	Certificate *x509.Certificate
	// Certificates are all certificates the signature carries for its own chain (KeyInfo and CertificateValues).
	Certificates []*x509.Certificate
	KeyValueOnly bool
	XAdES        bool
	// SigningCertificateVersion is 1 or 2 when the property is present.
	SigningCertificateVersion int
	SigningCertificate        CertRef
	// SigningTime and Profile are read from the xades:SignedProperties content that a RefOK reference verified
	// (Verified), so they are nil when no reference to them verified.
	SigningTime       *time.Time
	Profile           *Profile
	Weak              []string
	CounterSignatures []*SignatureResult
	// Wrapped is the trustsign container's file as this signature verified it: parsed from the Verified content of
	// a RefOK reference to the whole document, and set only when the signature value verified. It is never read
	// from the document as parsed, where subtrees a reference excludes (such as ds:Signature elements) can hold
	// anything.
	Wrapped *WrappedFile
	// UnsupportedAlgorithm names the signer's key algorithm or curve when it is one we read but cannot verify
	// with; SignatureChecked is then false.
	UnsupportedAlgorithm string
	// Warnings are facts that do not make the signature fail but that a report should show (a tolerated encoding
	// defect, for instance).
	Warnings []string
	// SignatureTimeStamps are the xades:SignatureTimeStamp tokens of the unsigned properties, unverified (see
	// SignatureTimeStamp).
	SignatureTimeStamps []SignatureTimeStamp
	// ArchiveTimeStamps are the archive time-stamps of the unsigned properties (xades141:ArchiveTimeStamp and the
	// XAdES 1.3.2 xades:ArchiveTimeStamp) in document order, unverified (see ArchiveTimeStamp).
	ArchiveTimeStamps []ArchiveTimeStamp
	// Validation is the validation data the unsigned properties carry, as read (not judged): the certificates of
	// xades:CertificateValues and xades141:TimeStampValidationData, and the DER OCSP responses and CRLs of
	// xades:RevocationValues and TimeStampValidationData, at most 256 of each kind.
	Validation revocation.Data
	// HasRevocationValues is set when the unsigned properties hold a xades:RevocationValues element, even an
	// empty one: Extend writes one at B-LT when no certificate of the chains needs a status.
	HasRevocationValues bool
	keyValue            crypto.PublicKey
}

// Result is what Verify found in a document. A trustsign container's file is read per signature, from what that
// signature verified (SignatureResult.Wrapped).
type Result struct {
	Signatures []*SignatureResult
	// RootName is the qualified name of the document element.
	RootName string
}

// Verify parses an XML document and checks every signature in it (counter-signatures included). It returns an
// error only when the document cannot be parsed; problems with a signature are facts in its SignatureResult.
func Verify(data []byte, opts VerifyOptions) (*Result, error) {
	return VerifyContext(context.Background(), data, opts)
}

// VerifyContext is Verify that stops when ctx is done: the references not yet checked by then are refused
// (RefRefused, "verification stopped"), so a verification past its deadline ends with what it found so far.
func VerifyContext(ctx context.Context, data []byte, opts VerifyOptions) (*Result, error) {
	doc, err := xmldoc.Parse(data, opts.Limits)
	if err != nil {
		return nil, err
	}
	return verifyDocument(ctx, doc, opts), nil
}

// VerifyDocument is Verify over a parsed document.
func VerifyDocument(doc *xmldoc.Document, opts VerifyOptions) *Result {
	return verifyDocument(context.Background(), doc, opts)
}

func verifyDocument(ctx context.Context, doc *xmldoc.Document, opts VerifyOptions) *Result {
	if opts.MaxReferences == 0 {
		opts.MaxReferences = 1000
	}
	if opts.MaxSignatures == 0 {
		opts.MaxSignatures = 64
	}
	res := &Result{RootName: qname(doc.Root.Prefix, doc.Root.Local)}
	v := &verifier{ctx: ctx, doc: doc, opts: opts}
	v.countExternal()
	// Work on references is bounded by a multiple of the input size, so that many references to a large
	// document cannot make verification take much longer than reading it. The verified content the results keep
	// is bounded by a smaller multiple (identical node-sets, as co-signatures have, are kept once).
	input := int64(len(doc.Src))
	for _, b := range opts.Detached {
		input += int64(len(b))
	}
	v.digestBudget = 64<<20 + 32*input
	if opts.WorkBudget > 0 {
		v.digestBudget = opts.WorkBudget
	}
	v.retainBudget = 64<<20 + 8*input
	var top []*xmldoc.Node
	for _, s := range allSignaturesDeep(doc) {
		if !hasSignatureAncestor(s) {
			top = append(top, s)
		}
	}
	for i, s := range top {
		if i >= opts.MaxSignatures {
			res.Signatures = append(res.Signatures, &SignatureResult{Path: s.Path(),
				Structure: []string{fmt.Sprintf("%d signatures in one document, more than the limit of %d: the others are not checked",
					len(top), opts.MaxSignatures)}})
			break
		}
		res.Signatures = append(res.Signatures, v.signature(s, nil, 0))
	}
	return res
}

func allSignaturesDeep(doc *xmldoc.Document) []*xmldoc.Node {
	var out []*xmldoc.Node
	if doc.Root.Is(NSDSig, "Signature") {
		out = append(out, doc.Root)
	}
	doc.Root.Descendants(func(n *xmldoc.Node) bool {
		if n.Is(NSDSig, "Signature") {
			out = append(out, n)
		}
		return true
	})
	return out
}

// signaturesIn returns the outermost ds:Signature elements of a subset (its apex included): excluding them excludes
// every signature in it. Only the subset is walked, and not the inside of signatures.
func signaturesIn(set *xmldoc.Subset) []*xmldoc.Node {
	top := set.Doc.Root
	if set.Apex != nil {
		top = set.Apex
	}
	if top.Is(NSDSig, "Signature") {
		return []*xmldoc.Node{top}
	}
	var out []*xmldoc.Node
	top.Descendants(func(n *xmldoc.Node) bool {
		if n.Is(NSDSig, "Signature") {
			out = append(out, n)
			return false
		}
		return true
	})
	return out
}

func hasSignatureAncestor(n *xmldoc.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Is(NSDSig, "Signature") {
			return true
		}
	}
	return false
}

type verifier struct {
	// ctx ends the verification: references are refused once it is done
	ctx       context.Context
	doc       *xmldoc.Document
	opts      VerifyOptions
	nExternal int
	// nSignatures counts the signatures checked, counter-signatures included (at most opts.MaxSignatures).
	nSignatures int
	// digested counts the bytes canonicalized, decoded or hashed for references, up to digestBudget.
	digested, digestBudget int64
	// retained counts the verified content kept in the results, up to retainBudget.
	retained, retainBudget int64
	// canonical holds the canonical form of node-sets already digested, by nodeSetKey.
	canonical map[string][]byte
	// wrappers holds the container read from a verified content (nil: none), by the content's first byte.
	wrappers map[*byte]*WrappedFile
	// positions caches element positions among same-name siblings for path.
	positions map[*xmldoc.Node]siblingPosition
}

// errBudget is returned by a budgetWriter past its limit.
var errBudget = errors.New("processing limit reached")

// budgetWriter counts the bytes written through it and fails once the count passes limit, so that a single
// canonicalization cannot run unbounded either.
type budgetWriter struct {
	w     io.Writer
	n     *int64
	limit int64
}

func (c budgetWriter) Write(p []byte) (int, error) {
	*c.n += int64(len(p))
	if *c.n > c.limit {
		return 0, errBudget
	}
	return c.w.Write(p)
}

// countExternal counts the references to external data (a ds:Reference is never the root, which Descendants
// skips).
func (v *verifier) countExternal() {
	v.doc.Root.Descendants(func(n *xmldoc.Node) bool {
		if n.Is(NSDSig, "Reference") {
			if u, ok := n.Attr("URI"); ok && u != "" && !strings.HasPrefix(u, "#") {
				v.nExternal++
			}
		}
		return true
	})
}

func (v *verifier) signature(sig *xmldoc.Node, countersigned *xmldoc.Node, depth int) *SignatureResult {
	v.nSignatures++
	r := &SignatureResult{Path: v.path(sig)}
	r.ID, _ = sig.Attr("Id")
	fail := func(format string, a ...any) { r.Structure = append(r.Structure, fmt.Sprintf(format, a...)) }

	// Shape: SignedInfo, SignatureValue, KeyInfo?, Object*
	var signedInfo, sigValue, keyInfo *xmldoc.Node
	var objects []*xmldoc.Node
	for i, c := range sig.Elements() {
		switch {
		case c.Is(NSDSig, "SignedInfo") && i == 0:
			signedInfo = c
		case c.Is(NSDSig, "SignatureValue") && i == 1:
			sigValue = c
		case c.Is(NSDSig, "KeyInfo") && i == 2:
			keyInfo = c
		case c.Is(NSDSig, "Object") && i >= 2:
			objects = append(objects, c)
		default:
			fail("unexpected element %s at position %d of ds:Signature", qname(c.Prefix, c.Local), i+1)
		}
	}
	for c := sig.FirstChild; c != nil; c = c.Next {
		if c.Kind == xmldoc.TextNode && strings.TrimSpace(c.Data) != "" {
			fail("character data directly inside ds:Signature")
			break
		}
	}
	if signedInfo == nil || sigValue == nil {
		fail("ds:Signature lacks ds:SignedInfo or ds:SignatureValue in the required order")
		return r
	}
	siEls := signedInfo.Elements()
	if len(siEls) < 3 || !siEls[0].Is(NSDSig, "CanonicalizationMethod") || !siEls[1].Is(NSDSig, "SignatureMethod") {
		fail("ds:SignedInfo must hold CanonicalizationMethod, SignatureMethod and at least one Reference")
		return r
	}
	var refs []*xmldoc.Node
	for _, e := range siEls[2:] {
		if !e.Is(NSDSig, "Reference") {
			fail("unexpected element %s in ds:SignedInfo", qname(e.Prefix, e.Local))
			continue
		}
		refs = append(refs, e)
	}
	if len(refs) > v.opts.MaxReferences {
		fail("%d references exceed the limit of %d", len(refs), v.opts.MaxReferences)
		return r
	}
	c14nURI, _ := siEls[0].Attr("Algorithm")
	c14n, ok := xmldoc.MethodFor(c14nURI)
	if !ok {
		fail("canonicalization method %q is not accepted", c14nURI)
		return r
	}
	c14n.InclusivePrefixes = inclusivePrefixes(siEls[0])
	smURI, _ := siEls[1].Attr("Algorithm")
	alg, ok := sigAlgByURI(smURI)
	if smURI == SignatureRSAPSS {
		var err error
		if alg, err = rsaPSSMethod(siEls[1]); err != nil {
			fail("RSASSA-PSS signature method: %v", err)
			return r
		}
		ok = true
	}
	if !ok {
		fail("signature method %q is not accepted", smURI)
		return r
	}
	r.Algorithm, r.Hash = alg.name, alg.hash
	if alg.kind == keyHMAC {
		fail("HMAC signature methods are not accepted for public-key signatures (%s)", alg.name)
		return r
	}
	if IsWeakHash(alg.hash) {
		r.Weak = append(r.Weak, alg.name)
	}

	// XAdES qualifying properties
	qp := v.qualifyingProperties(r, sig, objects)

	// References
	for _, ref := range refs {
		r.References = append(r.References, v.reference(r, sig, ref, qp, countersigned))
	}
	// Signed properties, as their reference verified them
	if qp != nil && qp.signedProps != nil {
		for _, rr := range r.References {
			if rr.SignedProperties && rr.Status == RefOK {
				if f, ok := v.verifiedProperties(rr, qp.ns); ok {
					r.SigningTime, r.Profile = f.signingTime, f.profile
					qp.certRefs, qp.certVersion, r.SigningCertificateVersion = f.certRefs, f.certVersion, f.certVersion
				}
				break
			}
		}
	}
	if qp != nil && qp.signedProps != nil {
		covered, typed := false, false
		for _, rr := range r.References {
			if rr.SignedProperties {
				covered = true
				typed = typed || rr.Type == TypeSignedProperties
			}
		}
		switch {
		case !covered:
			fail("xades:SignedProperties are not covered by any reference")
		case !typed:
			fail("the reference to xades:SignedProperties lacks Type=%q", TypeSignedProperties)
		}
	}
	if countersigned != nil {
		ok := false
		for _, rr := range r.References {
			if rr.Type == TypeCountersignedSignature || strings.HasPrefix(rr.Covered, "signature value") {
				ok = true
			}
		}
		if !ok {
			fail("counter-signature does not reference the countersigned signature value")
		}
	}

	// Keys and the signature value
	certValues := v.validationData(r, qp)
	v.keys(r, keyInfo, certValues)
	raw, err := base64.StdEncoding.DecodeString(stripSpace(sigValue.Text()))
	if err != nil {
		fail("ds:SignatureValue is not valid base64")
		return r
	}
	var si bytes.Buffer
	if err := xmldoc.Canonicalize(&si, xmldoc.Subset{Doc: v.doc, Apex: signedInfo, Comments: true}, c14n); err != nil {
		fail("canonicalizing SignedInfo: %v", err)
		return r
	}
	h := alg.hash.New()
	h.Write(si.Bytes())
	digest := h.Sum(nil)
	v.checkSignatureValue(r, alg, digest, raw, qp)
	if r.SignatureValid {
		r.Wrapped = v.wrapped(r)
	}

	r.SignatureTimeStamps = v.signatureTimeStamps(qp, sigValue)
	r.ArchiveTimeStamps = v.archiveTimeStamps(r, sig, qp)

	// Counter-signatures
	if qp != nil && qp.unsignedSig != nil && depth < 4 {
	counter:
		for _, cs := range qp.unsignedSig.Children(qp.ns, "CounterSignature") {
			for _, inner := range cs.Children(NSDSig, "Signature") {
				if v.nSignatures >= v.opts.MaxSignatures {
					fail("more than %d signatures in one document, counter-signatures included: the others are not checked",
						v.opts.MaxSignatures)
					break counter
				}
				r.CounterSignatures = append(r.CounterSignatures, v.signature(inner, sigValue, depth+1))
			}
		}
	}
	return r
}

func inclusivePrefixes(method *xmldoc.Node) []string {
	for c := method.FirstChild; c != nil; c = c.Next {
		if c.Kind == xmldoc.ElementNode && c.Local == "InclusiveNamespaces" && c.Space == xmldoc.ExcC14NNamespace {
			list, _ := c.Attr("PrefixList")
			return strings.Fields(list)
		}
	}
	return nil
}

// qualifying holds the located XAdES properties of a signature.
type qualifying struct {
	ns          string
	node        *xmldoc.Node
	signedProps *xmldoc.Node
	unsignedSig *xmldoc.Node
	certRefs    []certRef
	certVersion int
}

type certRef struct {
	hash   crypto.Hash
	digest []byte
	serial *big.Int
}

func (v *verifier) qualifyingProperties(r *SignatureResult, sig *xmldoc.Node, objects []*xmldoc.Node) *qualifying {
	var found []*xmldoc.Node
	var ns string
	for _, o := range objects {
		for _, c := range o.Elements() {
			if c.Local == "QualifyingProperties" && (c.Space == NSXAdES || c.Space == NSXAdES122) {
				found = append(found, c)
				ns = c.Space
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	r.XAdES = true
	if len(found) > 1 {
		r.Structure = append(r.Structure, "more than one xades:QualifyingProperties")
		return nil
	}
	q := &qualifying{ns: ns, node: found[0]}
	if target, _ := q.node.Attr("Target"); r.ID == "" || target != "#"+r.ID {
		r.Structure = append(r.Structure, fmt.Sprintf("xades:QualifyingProperties Target %q does not name this signature", target))
	}
	sps := q.node.Children(ns, "SignedProperties")
	if len(sps) != 1 {
		r.Structure = append(r.Structure, "xades:QualifyingProperties must hold exactly one SignedProperties")
		return q
	}
	q.signedProps = sps[0]
	if up := q.node.Child(ns, "UnsignedProperties"); up != nil {
		q.unsignedSig = up.Child(ns, "UnsignedSignatureProperties")
	}
	f := readSignedProperties(q.signedProps, ns, func(msg string) { r.Structure = append(r.Structure, msg) })
	q.certRefs, q.certVersion = f.certRefs, f.certVersion
	r.SigningCertificateVersion = f.certVersion
	return q
}

// signedFacts are what a xades:SignedProperties element states.
type signedFacts struct {
	signingTime *time.Time
	certRefs    []certRef
	certVersion int
	profile     *Profile
}

// readSignedProperties reads a xades:SignedProperties element, noting shape defects.
func readSignedProperties(sp *xmldoc.Node, ns string, note func(string)) signedFacts {
	var f signedFacts
	ssp := sp.Child(ns, "SignedSignatureProperties")
	if ssp == nil {
		return f
	}
	if st := ssp.Child(ns, "SigningTime"); st != nil {
		if t, err := parseDateTime(strings.TrimSpace(st.Text())); err == nil {
			f.signingTime = &t
		} else {
			note("xades:SigningTime is not a valid xs:dateTime")
		}
	}
	for _, name := range []string{"SigningCertificate", "SigningCertificateV2"} {
		sc := ssp.Child(ns, name)
		if sc == nil {
			continue
		}
		if f.certVersion != 0 {
			note("both SigningCertificate and SigningCertificateV2 are present")
		}
		f.certVersion = 1
		if name == "SigningCertificateV2" {
			f.certVersion = 2
		}
		for _, c := range sc.Children(ns, "Cert") {
			cd := c.Child(ns, "CertDigest")
			if cd == nil {
				note("xades:Cert without CertDigest")
				continue
			}
			dm, dv := cd.Child(NSDSig, "DigestMethod"), cd.Child(NSDSig, "DigestValue")
			if dm == nil || dv == nil {
				note("xades:CertDigest lacks DigestMethod or DigestValue")
				continue
			}
			uri, _ := dm.Attr("Algorithm")
			da, ok := digestByURI(uri)
			if !ok {
				note(fmt.Sprintf("certificate digest algorithm %q is not accepted", uri))
				continue
			}
			d, err := base64.StdEncoding.DecodeString(stripSpace(dv.Text()))
			if err != nil {
				note("certificate digest is not valid base64")
				continue
			}
			ref := certRef{hash: da.hash, digest: d}
			if is := c.Child(ns, "IssuerSerial"); is != nil {
				if sn := is.Child(NSDSig, "X509SerialNumber"); sn != nil {
					if n, ok := new(big.Int).SetString(strings.TrimSpace(sn.Text()), 10); ok {
						ref.serial = n
					}
				}
			} else if is := c.Child(ns, "IssuerSerialV2"); is != nil {
				if der, err := base64.StdEncoding.DecodeString(stripSpace(is.Text())); err == nil {
					var v struct {
						Issuer asn1.RawValue
						Serial *big.Int
					}
					if _, err := asn1.Unmarshal(der, &v); err == nil {
						ref.serial = v.Serial
					}
				}
			}
			f.certRefs = append(f.certRefs, ref)
		}
	}
	for _, roleName := range []string{"SignerRole", "SignerRoleV2"} {
		if sr := ssp.Child(ns, roleName); sr != nil {
			if crs := sr.Child(ns, "ClaimedRoles"); crs != nil {
				for _, cr := range crs.Children(ns, "ClaimedRole") {
					if p := profileFromClaimedRole(cr); p != nil && f.profile == nil {
						f.profile = p
					}
				}
			}
		}
	}
	return f
}

// verifiedProperties reads the signed properties from the content their reference verified, so that nothing the
// reference's transforms left out (a ds:Signature element inside ClaimedRole, say) is taken as signed.
func (v *verifier) verifiedProperties(rr ReferenceResult, ns string) (signedFacts, bool) {
	lim := v.limitsFor(len(rr.Verified))
	d, err := xmldoc.Parse(rr.Verified, lim)
	if err != nil || !d.Root.Is(ns, "SignedProperties") {
		return signedFacts{}, false
	}
	return readSignedProperties(d.Root, ns, func(string) {}), true
}

// parseDateTime reads xs:dateTime; a value without a zone is taken as UTC.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid xs:dateTime %q", s)
}

// data is the input or output of a transform: a node-set or octets.
type data struct {
	set    *xmldoc.Subset
	octets []byte
}

func (v *verifier) reference(r *SignatureResult, sig, ref *xmldoc.Node, qp *qualifying, countersigned *xmldoc.Node) ReferenceResult {
	rr := ReferenceResult{}
	uri, hasURI := ref.Attr("URI")
	rr.URI = uri
	rr.Type, _ = ref.Attr("Type")
	refused := func(format string, a ...any) ReferenceResult {
		rr.Status, rr.Detail = RefRefused, fmt.Sprintf(format, a...)
		return rr
	}
	var transforms []*xmldoc.Node
	var dm, dv *xmldoc.Node
	for i, c := range ref.Elements() {
		switch {
		case c.Is(NSDSig, "Transforms") && i == 0:
			transforms = c.Elements()
		case c.Is(NSDSig, "DigestMethod") && dm == nil:
			dm = c
		case c.Is(NSDSig, "DigestValue") && dm != nil && dv == nil:
			dv = c
		default:
			return refused("unexpected element %s in ds:Reference", qname(c.Prefix, c.Local))
		}
	}
	if dm == nil || dv == nil {
		return refused("ds:Reference lacks DigestMethod or DigestValue")
	}
	dmURI, _ := dm.Attr("Algorithm")
	da, ok := digestByURI(dmURI)
	if !ok {
		return refused("digest method %q is not accepted", dmURI)
	}
	rr.Digest, rr.Weak = da.name, da.weak
	if da.weak {
		r.Weak = append(r.Weak, da.name)
	}
	want, err := base64.StdEncoding.DecodeString(stripSpace(dv.Text()))
	if err != nil || len(want) != da.hash.Size() {
		rr.Status, rr.Detail = RefMismatch, "DigestValue is not a valid "+da.name+" digest"
		return rr
	}
	if len(transforms) > 8 {
		return refused("too many transforms (%d)", len(transforms))
	}

	if v.digested > v.digestBudget {
		return refused("the references of this document together exceed the processing limit (%d MiB)", v.digestBudget>>20)
	}
	if err := v.ctx.Err(); err != nil {
		return refused("verification stopped before this reference: %v", err)
	}

	// Dereference
	var in data
	external := false
	switch {
	case !hasURI:
		rr.Status, rr.Detail = RefNotFound, "reference without URI: the signed data is not identified"
		return rr
	case uri == "":
		in.set = &xmldoc.Subset{Doc: v.doc}
		rr.wholeDocument = true
		rr.Covered = "whole document <" + qname(v.doc.Root.Prefix, v.doc.Root.Local) + ">"
	case uri == "#xpointer(/)":
		in.set = &xmldoc.Subset{Doc: v.doc, Comments: true}
		rr.wholeDocument = true
		rr.Covered = "whole document <" + qname(v.doc.Root.Prefix, v.doc.Root.Local) + "> with comments"
	case strings.HasPrefix(uri, "#"):
		id, comments := uri[1:], false
		if strings.HasPrefix(id, "xpointer(id(") && strings.HasSuffix(id, "))") {
			id = strings.Trim(id[len("xpointer(id("):len(id)-2], `'"`)
			comments = true
		}
		targets := v.doc.ByID(id)
		switch len(targets) {
		case 0:
			rr.Status, rr.Detail = RefNotFound, fmt.Sprintf("no element with Id %q", id)
			return rr
		case 1:
		default:
			return refused("Id %q is carried by %d elements (ambiguous reference, possible signature wrapping)", id, len(targets))
		}
		t := targets[0]
		if rr.Type == TypeSignedProperties || (qp != nil && t == qp.signedProps) {
			if qp == nil || t != qp.signedProps {
				return refused("reference of type SignedProperties does not point to this signature's SignedProperties")
			}
			rr.SignedProperties = true
		}
		if countersigned != nil && t == countersigned {
			rr.Covered = "signature value " + id + " of the countersigned signature"
		} else if rr.Type == TypeCountersignedSignature && countersigned != nil {
			// EU DSS: COUNTER_SIGNED_SIGNATURE_VALUE not intact (HASH_FAILURE), e.g. a counter-signature copied
			// from another signature; what it proves is not this signature's value
			rr.Status, rr.Detail = RefMismatch, "counter-signature reference does not point to the countersigned signature value"
			return rr
		} else {
			if why := v.misplaced(t, sig); why != "" {
				rr.Status, rr.Detail = RefNotFound, why
				return rr
			}
			rr.Covered = v.describeElement(t, id)
		}
		in.set = &xmldoc.Subset{Doc: v.doc, Apex: t, Comments: comments}
	default:
		content, name, ok := v.detached(uri)
		if !ok {
			rr.Status = RefNotFound
			if strings.Contains(uri, "://") || strings.HasPrefix(uri, "file:") {
				rr.Detail = fmt.Sprintf("external reference %q is never fetched", uri)
			} else {
				rr.Detail = fmt.Sprintf("detached content %q was not provided", uri)
			}
			return rr
		}
		in.octets, external = content, true
		rr.Covered = fmt.Sprintf("detached file %s (%d bytes, SHA-256 %s)", name, len(content), WrapperDigest(content))
	}

	// Transforms
	excluded := 0
	var t *xmldoc.Node
	// applyXPath applies an XPath Filter 2.0 or XPath 1.0 transform (eval) to the node-set: it counts the
	// exclusions, names the selection in Covered, and a SignedProperties reference stays one only when the filtered
	// set is exactly this signature's SignedProperties.
	applyXPath := func(eval func(set *xmldoc.Subset, t, sig *xmldoc.Node) (int, string, error)) error {
		n, note, err := eval(in.set, t, sig)
		if err != nil {
			return err
		}
		excluded += n
		if note != "" {
			rr.Covered += ", " + note
		}
		if rr.SignedProperties || (rr.Type == TypeSignedProperties && qp != nil) {
			rr.SignedProperties = qp != nil && v.selectsExactly(in.set, qp.signedProps)
		}
		return nil
	}
	for _, t = range transforms {
		if !t.Is(NSDSig, "Transform") {
			return refused("unexpected element %s in ds:Transforms", qname(t.Prefix, t.Local))
		}
		alg, _ := t.Attr("Algorithm")
		if in.set == nil && needsNodeSet(alg) && alg != TransformEnveloped {
			if err := v.parseOctets(&in); err != nil {
				rr.Status, rr.Detail = RefMismatch, "referenced content is not XML: "+err.Error()
				return rr
			}
		}
		switch {
		case alg == TransformEnveloped:
			// as xmlsec1 does, refused on octets and on other documents (detached XML): the signature is not there
			if in.set == nil || in.set.Doc != v.doc {
				return refused("enveloped-signature transform on data that is not a node-set of this document")
			}
			// it removes the signature from the data when the data contains it, and nothing otherwise (xmlsec1
			// writes it for a reference to an element beside the signature; xmlsec1, Santuario and xadesjs accept that)
			switch {
			case in.set.Apex == nil || in.set.Apex.IsAncestorOf(sig):
				in.set.Exclude = append(in.set.Exclude, sig)
				excluded++
			case sig.IsAncestorOf(in.set.Apex):
				// the data lies inside the signature, which the transform removes with everything in it: the
				// node-set is empty (XMLDSig 6.6.4; xmlsec1 and Santuario digest nothing), not the data
				in.set.Exclude = append(in.set.Exclude, in.set.Apex)
				excluded++
			}
		case alg == TransformFilter2:
			if in.set == nil {
				return refused("XPath Filter 2.0 on octets")
			}
			if err := applyXPath(v.filter2); err != nil {
				return v.xpathFailed(rr, err)
			}
		case alg == TransformBase64:
			var text string
			if in.set != nil {
				// the text nodes of the node-set only (XMLDSig 6.6.2): text in excluded or filtered-out subtrees
				// is not what the reference covers
				t, err := in.set.Text()
				if err != nil {
					return refused("%v", err)
				}
				text = t
			} else {
				text = string(in.octets)
			}
			v.digested += int64(len(text))
			b, err := base64.StdEncoding.DecodeString(stripSpace(text))
			if err != nil {
				rr.Status, rr.Detail = RefMismatch, "base64 transform input is not valid base64"
				return rr
			}
			in = data{octets: b}
		default:
			m, ok := xmldoc.MethodFor(alg)
			if !ok {
				switch alg {
				case TransformXPath:
					if in.set == nil {
						return refused("XPath 1.0 transform on octets")
					}
					if err := applyXPath(v.xpath1); err != nil {
						return v.xpathFailed(rr, err)
					}
					continue
				case TransformXSLT:
					return refused("XSLT transforms are not accepted")
				}
				return refused("transform %q is not accepted", alg)
			}
			m.InclusivePrefixes = inclusivePrefixes(t)
			v.chargeFilters(in.set)
			var buf bytes.Buffer
			buf.Grow(sizeHint(in.set))
			if err := xmldoc.Canonicalize(budgetWriter{&buf, &v.digested, v.digestBudget}, *in.set, m); err != nil {
				return v.canonicalizationFailed(rr, err)
			}
			v.chargeWalk(in.set, buf.Len())
			in = data{octets: buf.Bytes()}
		}
	}
	if excluded > 0 && rr.Covered != "" {
		rr.Covered += fmt.Sprintf(", excluding %d signature element(s)", excluded)
	}
	// the content digested is kept: it is what the reference proves
	verified, fresh := in.octets, !(external && len(transforms) == 0)
	if in.set != nil {
		key := nodeSetKey(in.set)
		if b, ok := v.canonical[key]; ok && key != "" {
			verified, fresh = b, false
		} else {
			v.chargeFilters(in.set)
			var buf bytes.Buffer
			buf.Grow(sizeHint(in.set))
			if err := xmldoc.Canonicalize(budgetWriter{&buf, &v.digested, v.digestBudget}, *in.set, xmldoc.Method{}); err != nil {
				return v.canonicalizationFailed(rr, err)
			}
			verified = buf.Bytes()
			if v.canonical == nil {
				v.canonical = make(map[string][]byte)
			}
			if key != "" {
				v.canonical[key] = verified
			}
		}
		v.chargeWalk(in.set, len(verified))
	}
	if fresh {
		v.retained += int64(len(verified))
		if v.retained > v.retainBudget {
			return refused("the verified content of this document's references together exceeds the memory limit (%d MiB)", v.retainBudget>>20)
		}
	}
	v.digested += int64(len(verified))
	h := da.hash.New()
	h.Write(verified)
	if subtle.ConstantTimeCompare(h.Sum(nil), want) == 1 {
		rr.Status, rr.Verified, rr.NodeSet = RefOK, verified, in.set
	} else {
		rr.Status, rr.Detail = RefMismatch, "digest of "+rr.Covered+" does not match"
	}
	return rr
}

// wrapped reads the trustsign container from the verified content of the first RefOK reference to the whole
// document that holds one. Co-signatures share their verified content, so each content is read once.
func (v *verifier) wrapped(r *SignatureResult) *WrappedFile {
	if !v.doc.Root.Is(NSWrapper, "WrappedFile") {
		return nil
	}
	for _, rr := range r.References {
		if rr.Status != RefOK || !rr.wholeDocument || len(rr.Verified) == 0 {
			continue
		}
		key := &rr.Verified[0]
		w, done := v.wrappers[key]
		if !done {
			v.digested += int64(len(rr.Verified))
			if d, err := xmldoc.Parse(rr.Verified, v.limitsFor(len(rr.Verified))); err == nil {
				w, _ = unwrapNode(d.Root)
			}
			if v.wrappers == nil {
				v.wrappers = make(map[*byte]*WrappedFile)
			}
			v.wrappers[key] = w
		}
		if w != nil {
			cp := *w
			return &cp
		}
	}
	return nil
}

// sizeHint is the source size of a node-set's apex (or document), about the size of its canonical form.
func sizeHint(s *xmldoc.Subset) int {
	if s.Apex != nil {
		return s.Apex.End - s.Apex.Start + 64
	}
	return len(s.Doc.Src) + 64
}

// needsNodeSet reports whether a transform takes a node-set (XMLDSig 1.1 §4.4.3.2): octets are parsed for it.
func needsNodeSet(alg string) bool {
	if _, ok := xmldoc.MethodFor(alg); ok {
		return true
	}
	return alg == TransformEnveloped || alg == TransformFilter2 || alg == TransformXPath
}

// parseOctets turns octets into the node-set of the document they hold (limitsFor).
func (v *verifier) parseOctets(in *data) error {
	lim := v.limitsFor(len(in.octets))
	v.digested += int64(len(in.octets))
	d, err := xmldoc.Parse(in.octets, lim)
	if err != nil {
		return err
	}
	*in = data{set: &xmldoc.Subset{Doc: d, Comments: true}}
	return nil
}

// limitsFor is the caller's parser limits for n bytes of content that is already in memory and counted in the
// work budget: every limit applies but the byte limit.
func (v *verifier) limitsFor(n int) xmldoc.Limits {
	lim := v.opts.Limits
	if lim.MaxBytes == 0 {
		lim.MaxBytes = xmldoc.DefaultLimits.MaxBytes
	}
	lim.MaxBytes = max(lim.MaxBytes, n)
	return lim
}

// canonicalizationFailed is the result of a reference whose canonicalization stopped.
func (v *verifier) canonicalizationFailed(rr ReferenceResult, err error) ReferenceResult {
	rr.Status = RefRefused
	if errors.Is(err, errBudget) {
		rr.Detail = fmt.Sprintf("the references of this document together exceed the processing limit (%d MiB)", v.digestBudget>>20)
	} else {
		rr.Detail = fmt.Sprintf("canonicalization failed: %v", err)
	}
	return rr
}

// xpathFailed is the result of a reference whose XPath transform was refused or stopped: past the work budget,
// the same reason as canonicalization gives; an element selected where signed data may not be (signature
// wrapping), as for an Id reference, SIGNED_DATA_NOT_FOUND.
func (v *verifier) xpathFailed(rr ReferenceResult, err error) ReferenceResult {
	var misplaced placementError
	switch {
	case errors.Is(err, errBudget):
		return v.canonicalizationFailed(rr, err)
	case errors.As(err, &misplaced):
		rr.Status, rr.Detail = RefNotFound, misplaced.Error()
	default:
		rr.Status, rr.Detail = RefRefused, err.Error()
	}
	return rr
}

// chargeFilters counts in the work budget what the filters of a node-set cost a canonicalization beyond its
// output: a set of each step's roots, and each step's test on every element of the walk (an element takes at
// least four bytes of source, "<a/>").
func (v *verifier) chargeFilters(s *xmldoc.Subset) {
	steps, roots := 0, 0
	for _, f := range s.Filters {
		for _, st := range f {
			steps++
			roots += len(st.Roots)
		}
	}
	if steps > 0 {
		v.digested += int64(roots)*xpathVisitCost + int64(steps)*int64(sizeHint(s)/4)
	}
}

// chargeWalk counts in the work budget the walk over a node-set whose canonical form (produced bytes) is smaller
// than its source, as when most of it is excluded: the transforms and the canonicalization still went through it.
func (v *verifier) chargeWalk(s *xmldoc.Subset, produced int) {
	if span := sizeHint(s) - 64; span > produced {
		v.digested += int64(span - produced)
	}
}

// subsetKeyed is whether nodeSetKey covers every field of xmldoc.Subset (Doc, Apex, Exclude, Comments, Filters).
// Should Subset gain a field, node-sets are no longer cached rather than cached under a key that ignores it.
var subsetKeyed = reflect.TypeFor[xmldoc.Subset]().NumField() == 5

// nodeSetKey identifies a node-set: same document, apex, comment mode and excluded subtrees (by identity). It is
// "" (not cached) for a node-set with many exclusions, whose key would cost as much as its canonicalization.
func nodeSetKey(s *xmldoc.Subset) string {
	if !subsetKeyed {
		return ""
	}
	if len(s.Exclude) > 256 {
		return ""
	}
	ex := make([]string, 0, len(s.Exclude))
	for _, n := range s.Exclude {
		ex = append(ex, fmt.Sprintf("%p", n))
	}
	slices.Sort(ex)
	ex = slices.Compact(ex)
	// filters apply in order, so their steps are keyed in order
	var fl strings.Builder
	roots := 0
	for _, f := range s.Filters {
		fl.WriteString("[")
		for _, st := range f {
			fmt.Fprintf(&fl, "%d:%t:", st.Op, st.Document)
			for _, r := range st.Roots {
				fmt.Fprintf(&fl, "%p,", r)
			}
			fl.WriteString(";")
			if roots += len(st.Roots); roots > 256 {
				return ""
			}
		}
		fl.WriteString("]")
	}
	return fmt.Sprintf("%p/%p/%t/%s/%s", s.Doc, s.Apex, s.Comments, strings.Join(ex, ","), fl.String())
}

// misplaced returns why an element referenced by Id from signature sig is not where signed data may be: every
// ds:Object on its path must be a direct child of a ds:Signature, and the nearest one a child of sig itself (an
// Object moved elsewhere, or under another, possibly bogus, ds:Signature, is the signature-wrapping pattern).
func (v *verifier) misplaced(t, sig *xmldoc.Node) string {
	nearest := true
	for e := t; e != nil; e = e.Parent {
		if !e.Is(NSDSig, "Object") {
			continue
		}
		if e.Parent == nil || !e.Parent.Is(NSDSig, "Signature") {
			return fmt.Sprintf("signed object found at %s, not as a ds:Object of a signature (signature wrapping)", v.path(t))
		}
		if nearest && e.Parent != sig {
			return fmt.Sprintf("signed object found at %s, in a ds:Object of another signature (signature wrapping)", v.path(t))
		}
		nearest = false
	}
	return ""
}

func (v *verifier) describeElement(t *xmldoc.Node, id string) string {
	name := qname(t.Prefix, t.Local)
	switch {
	case t.Local == "SignedProperties":
		return "signed properties #" + id
	case t.Is(NSDSig, "Object"):
		if first := t.Elements(); len(first) == 1 {
			return fmt.Sprintf("ds:Object #%s holding <%s>", id, qname(first[0].Prefix, first[0].Local))
		}
		return fmt.Sprintf("ds:Object #%s", id)
	}
	return fmt.Sprintf("element <%s> #%s at %s", name, id, v.path(t))
}

// path is xmldoc's Node.Path, with the positions among same-name siblings computed once per parent and
// verification: describing many elements of a long list stays linear in the document's size.
func (v *verifier) path(n *xmldoc.Node) string {
	var parts []string
	for e := n; e != nil; e = e.Parent {
		name := qname(e.Prefix, e.Local)
		if e.Parent != nil {
			if pos := v.siblingPosition(e); pos.count > 1 {
				name = fmt.Sprintf("%s[%d]", name, pos.index)
			}
		}
		parts = append(parts, name)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

type siblingPosition struct{ index, count int }

func (v *verifier) siblingPosition(e *xmldoc.Node) siblingPosition {
	if pos, ok := v.positions[e]; ok {
		return pos
	}
	if v.positions == nil {
		v.positions = make(map[*xmldoc.Node]siblingPosition)
	}
	type name struct{ space, local string }
	counts := make(map[name]int)
	for c := e.Parent.FirstChild; c != nil; c = c.Next {
		if c.Kind == xmldoc.ElementNode {
			k := name{c.Space, c.Local}
			counts[k]++
			v.positions[c] = siblingPosition{index: counts[k]}
		}
	}
	for c := e.Parent.FirstChild; c != nil; c = c.Next {
		if c.Kind == xmldoc.ElementNode {
			pos := v.positions[c]
			pos.count = counts[name{c.Space, c.Local}]
			v.positions[c] = pos
		}
	}
	return v.positions[e]
}

func (v *verifier) detached(uri string) ([]byte, string, bool) {
	if len(v.opts.Detached) == 0 {
		return nil, "", false
	}
	if b, ok := v.opts.Detached[uri]; ok {
		return b, uri, true
	}
	if u, err := unescapeURI(uri); err == nil {
		if b, ok := v.opts.Detached[u]; ok {
			return b, u, true
		}
		base := u[strings.LastIndexAny(u, "/\\")+1:]
		if b, ok := v.opts.Detached[base]; ok {
			return b, base, true
		}
	}
	if len(v.opts.Detached) == 1 && v.nExternal == 1 && !strings.Contains(uri, "://") {
		for name, b := range v.opts.Detached {
			return b, name, true
		}
	}
	return nil, "", false
}

// keys collects the certificates and keys a signature carries: KeyInfo's, and those of its CertificateValues.
func (v *verifier) keys(r *SignatureResult, keyInfo *xmldoc.Node, certValues []*x509.Certificate) {
	if keyInfo != nil {
		keyInfo.Descendants(func(n *xmldoc.Node) bool {
			if n.Is(NSDSig, "KeyValue") && r.keyValue == nil {
				r.keyValue = parseKeyValue(n)
				return false
			}
			if n.Is(NSDSig, "X509Certificate") {
				der, err := base64.StdEncoding.DecodeString(stripSpace(n.Text()))
				if err == nil {
					if c, err := cms.ParseCertificate(der); err == nil {
						r.Certificates = append(r.Certificates, c)
						return false
					}
				}
				r.Structure = append(r.Structure, "ds:X509Certificate cannot be parsed")
			}
			return true
		})
	}
	r.Certificates = append(r.Certificates, certValues...)
}

func certMatches(c *x509.Certificate, ref certRef) bool {
	h := ref.hash.New()
	h.Write(c.Raw)
	if subtle.ConstantTimeCompare(h.Sum(nil), ref.digest) != 1 {
		return false
	}
	return ref.serial == nil || ref.serial.Cmp(c.SerialNumber) == 0
}

func (v *verifier) checkSignatureValue(r *SignatureResult, alg sigAlg, digest, sig []byte, qp *qualifying) {
	var refs []certRef
	if qp != nil {
		refs = qp.certRefs
	}
	matchesRef := func(c *x509.Certificate) bool {
		for _, ref := range refs {
			if certMatches(c, ref) {
				return true
			}
		}
		return false
	}
	// candidates: certificates named by SigningCertificate first, then the rest of KeyInfo
	var cands []*x509.Certificate
	seen := map[*x509.Certificate]bool{}
	add := func(c *x509.Certificate) {
		if !seen[c] {
			seen[c] = true
			cands = append(cands, c)
		}
	}
	for _, c := range r.Certificates {
		if matchesRef(c) {
			add(c)
		}
	}
	for _, c := range v.opts.ExtraCertificates {
		if len(refs) > 0 && matchesRef(c) {
			add(c)
		}
	}
	for _, c := range r.Certificates {
		add(c)
	}
	for _, c := range cands {
		if vc := verifyWith(c.PublicKey, alg, digest, sig); vc.ok {
			r.SignatureChecked, r.SignatureValid, r.Certificate, r.DigestInfoWithoutNULL = true, true, c, vc.withoutNULL
			if vc.warning != "" {
				r.Warnings = append(r.Warnings, vc.warning)
			}
			switch {
			case len(refs) == 0:
				r.SigningCertificate = CertRefAbsent
			case matchesRef(c):
				r.SigningCertificate = CertRefMatch
			default:
				r.SigningCertificate = CertRefMismatch
			}
			return
		}
	}
	if len(cands) > 0 {
		anyRef := false
		for _, c := range cands {
			if matchesRef(c) {
				anyRef = true
				r.Certificate = c
				break
			}
		}
		if len(refs) > 0 && !anyRef {
			// the declared signing certificate is not here: the value cannot be checked
			r.SigningCertificate = CertRefMissing
			r.SignatureDetail = "the signing certificate named in SigningCertificate is not available"
			return
		}
		if r.Certificate == nil {
			r.Certificate = cands[0]
		}
		if u, ok := r.Certificate.PublicKey.(*cms.UnsupportedPublicKey); ok {
			// a key we can read but not verify with (an elliptic curve without an implementation here): nothing is
			// known about the value, which is not the same as a value that does not verify
			r.UnsupportedAlgorithm = u.Algorithm
			r.SignatureDetail = "the signing certificate's key (" + u.Algorithm + ") is not supported: the signature value cannot be checked"
			return
		}
		r.SignatureChecked = true
		r.SignatureDetail = "the signature value does not verify with the signing certificate's key"
		if len(refs) > 0 {
			r.SigningCertificate = CertRefMatch
		}
		return
	}
	if len(refs) > 0 {
		r.SigningCertificate = CertRefMissing
	}
	// no certificate: a bare KeyValue
	if pub := keyValue(r); pub != nil {
		r.KeyValueOnly = true
		r.SignatureChecked = true
		vc := verifyWith(pub, alg, digest, sig)
		r.SignatureValid, r.DigestInfoWithoutNULL = vc.ok, vc.withoutNULL
		if vc.ok && vc.warning != "" {
			r.Warnings = append(r.Warnings, vc.warning)
		}
		if !vc.ok {
			r.SignatureDetail = "the signature value does not verify with the KeyValue key"
		}
		return
	}
	r.SignatureDetail = "no certificate or key to check the signature value with"
}

func keyValue(r *SignatureResult) crypto.PublicKey { return r.keyValue }

// parseKeyValue reads a ds:KeyValue/ds:RSAKeyValue.
func parseKeyValue(kv *xmldoc.Node) crypto.PublicKey {
	rkv := kv.Child(NSDSig, "RSAKeyValue")
	if rkv == nil {
		return nil
	}
	mod, exp := rkv.Child(NSDSig, "Modulus"), rkv.Child(NSDSig, "Exponent")
	if mod == nil || exp == nil {
		return nil
	}
	m, err1 := base64.StdEncoding.DecodeString(stripSpace(mod.Text()))
	e, err2 := base64.StdEncoding.DecodeString(stripSpace(exp.Text()))
	if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 || len(m) > 2048 {
		return nil
	}
	ev := 0
	for _, b := range e {
		ev = ev<<8 | int(b)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(m), E: ev}
}

// sigCheck is the outcome of checking a signature value with one key.
type sigCheck struct {
	ok bool
	// withoutNULL: a PKCS#1 v1.5 DigestInfo without the NULL hash parameters.
	withoutNULL bool
	// warning names a tolerated defect of a valid value.
	warning string
}

func verifyWith(pub crypto.PublicKey, alg sigAlg, digest, sig []byte) sigCheck {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch alg.kind {
		case keyRSA:
			form, err := pkcs1.Verify(k, alg.hash, digest, sig)
			return sigCheck{ok: err == nil, withoutNULL: form == pkcs1.WithoutNULL}
		case keyRSAPSS:
			switch alg.mgf {
			case 0:
				return sigCheck{ok: verifyPSS(k, alg.hash, alg.hash, digest, sig, alg.salt)}
			case mgfDefault:
				return sigCheck{ok: verifyPSS(k, alg.hash, alg.hash, digest, sig, alg.salt) ||
					(alg.hash != crypto.SHA256 && verifyPSS(k, alg.hash, crypto.SHA256, digest, sig, alg.salt))}
			}
			return sigCheck{ok: verifyPSS(k, alg.hash, alg.mgf, digest, sig, alg.salt)}
		}
		return sigCheck{}
	case *ecdsa.PublicKey:
		if alg.kind != keyECDSA {
			return sigCheck{}
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		var warning string
		switch n := len(sig); {
		case n == 2*size:
		case n > 0 && n < 2*size && n%2 == 0:
			// Some Java signers write r||s with both halves cut to the longer of the two minimal encodings;
			// xmlsec1 and Santuario read such a value as two equal halves, left-padded. So do we, and say so.
			warning = fmt.Sprintf("the ECDSA signature value is %d bytes, shorter than the %d of curve %s: read as two "+
				"left-padded halves (a known signer defect that other verifiers tolerate)", n, 2*size, k.Curve.Params().Name)
			size = n / 2
		default:
			return sigCheck{}
		}
		rr, ss := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(k, digest, rr, ss) {
			return sigCheck{}
		}
		return sigCheck{ok: true, warning: warning}
	}
	return sigCheck{}
}

func unescapeURI(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var x byte
			if _, err := fmt.Sscanf(s[i+1:i+3], "%02x", &x); err != nil {
				return "", err
			}
			b.WriteByte(x)
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}
