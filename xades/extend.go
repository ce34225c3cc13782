package xades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"

	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/revocation"
)

// ExtendOptions says how Extend augments a signature.
type ExtendOptions struct {
	// Level is the level to reach: "b-t", "b-lt" or "b-lta" (ETSI EN 319 132-1). A signature already at or above
	// it gets what the level adds again: "b-t" another signature time-stamp, "b-lt" the validation data it still
	// lacks (possibly none), "b-lta" a new archive time-stamp (renewal).
	Level string
	// TimeStamp returns a DER RFC 3161 TimeStampToken over imprint (a digest with Hash), as SignOptions.TimeStamp.
	TimeStamp func(ctx context.Context, imprint []byte) ([]byte, error)
	// Hash is the digest for time-stamp imprints (SHA-256 when zero; SHA-384 and SHA-512 allowed): TimeStamp must
	// ask its TSA for a token over an imprint of this hash (tsa.Client.Hash).
	Hash crypto.Hash
	// Validation returns the certificates and revocation data to embed for b-lt and b-lta.
	Validation revocation.Source
	// Limits bound parsing of the input document.
	Limits xmldoc.Limits
	// Detached is the content of detached references, as VerifyOptions.Detached. Extending to b-t or b-lt does not
	// need it (a reference to content not given is taken as it stands); b-lta does, since the archive time-stamp
	// covers the referenced data.
	Detached map[string][]byte
}

// Errors of Extend, wrapped with details; test them with errors.Is.
var (
	// ErrExtendLevel: the level is not one Extend makes, or its callback is missing.
	ErrExtendLevel = errors.New("xades: extend: level not supported or its time-stamp/validation source missing")
	// ErrNotExtendable: a signature of the document cannot be extended (it does not verify, is not XAdES, a
	// time-stamp of it does not match its data, the document has no signature...). Nothing is changed.
	ErrNotExtendable = errors.New("xades: extend: signature cannot be extended")
)

// Extend augments every signature of doc (its top-level ds:Signature elements; counter-signatures are left as they
// are) to o.Level without breaking it, and returns the new document. Only unsigned properties are added, by
// inserting text: the signed bytes stay as they were.
//
//   - b-t adds a xades:SignatureTimeStamp over ds:SignatureValue.
//   - b-lt adds one first when the signature has none, then the validation data o.Validation returns for the
//     signer's certificate and for each time-stamp's TSA certificate that the signature does not carry yet:
//     certificates in xades:CertificateValues, OCSP responses and CRLs in xades:RevocationValues (created, or
//     completed), or, once the signature has an archive time-stamp, in a new xades141:TimeStampValidationData.
//   - b-lta does what b-lt does and adds a xades141:ArchiveTimeStamp over the signature, its data and all its
//     unsigned properties (EN 319 132-1 5.5.2); on a B-LTA signature this renews the archive time-stamp.
//
// A signature that does not verify, whose time-stamps do not match what they cover, or that is not XAdES is not
// extended (ErrNotExtendable), and neither is any other signature of the document. After extending, the document
// is verified again and refused should any signature, reference or time-stamp that held before no longer hold.
func Extend(ctx context.Context, doc []byte, o ExtendOptions) ([]byte, error) {
	// the revocation data must be issued after the time-stamps it completes, which are at most this old: a
	// cached answer from before would prove nothing about the status then (revocation.IssuedAfter)
	ctx = revocation.IssuedAfter(ctx, time.Now())
	e, err := newExtender(o)
	if err != nil {
		return nil, err
	}
	src := string(doc)
	before, err := e.load(ctx, src)
	if err != nil {
		return nil, err
	}
	for _, t := range before {
		if err := e.sound(t); err != nil {
			return nil, err
		}
	}
	// T: a signature time-stamp (b-t always; b-lt and b-lta when the signature has none)
	src, err = e.phase(ctx, src, func(t *target) (string, error) {
		if e.level != "b-t" && len(t.res.SignatureTimeStamps) > 0 {
			return "", nil
		}
		return e.signatureTimeStamp(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	if e.level != "b-t" {
		// LT: the validation data of the signer's chain and of every TSA's chain
		if src, err = e.validationPhase(ctx, src); err != nil {
			return nil, err
		}
	}
	if e.level == "b-lta" {
		src, err = e.phase(ctx, src, func(t *target) (string, error) { return e.archiveTimeStamp(ctx, t) })
		if err != nil {
			return nil, err
		}
	}
	after, err := e.load(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("xades: extend: the extended document: %w", err)
	}
	if err := e.unbroken(before, after); err != nil {
		return nil, err
	}
	return []byte(src), nil
}

type extender struct {
	o     ExtendOptions
	level string
	hash  crypto.Hash
}

func newExtender(o ExtendOptions) (*extender, error) {
	e := &extender{o: o, level: strings.ToLower(strings.TrimSpace(o.Level)), hash: o.Hash}
	if e.hash == 0 {
		e.hash = crypto.SHA256
	}
	switch e.hash {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, fmt.Errorf("%w: time-stamp imprint hash %v (SHA-256, SHA-384 or SHA-512)", ErrExtendLevel, e.hash)
	}
	switch e.level {
	case "b-t":
		if o.TimeStamp == nil {
			return nil, fmt.Errorf("%w: b-t needs a time-stamping authority", ErrExtendLevel)
		}
	case "b-lt", "b-lta":
		if o.Validation == nil {
			return nil, fmt.Errorf("%w: %s needs a source of validation data", ErrExtendLevel, e.level)
		}
		if e.level == "b-lta" && o.TimeStamp == nil {
			return nil, fmt.Errorf("%w: b-lta needs a time-stamping authority", ErrExtendLevel)
		}
	default:
		return nil, fmt.Errorf("%w: %q (b-t, b-lt or b-lta)", ErrExtendLevel, o.Level)
	}
	return e, nil
}

// target is one top-level signature of the document as it stands in one phase.
type target struct {
	doc  *xmldoc.Document
	sig  *xmldoc.Node
	res  *SignatureResult
	name string // for messages: its Id, or its path
	// qp is the QualifyingProperties element, sp its SignedProperties, up and usp the UnsignedProperties and
	// UnsignedSignatureProperties (nil when absent).
	qp, sp, up, usp *xmldoc.Node
	ns              string
}

// load parses and verifies src and returns its top-level signatures.
func (e *extender) load(ctx context.Context, src string) ([]*target, error) {
	doc, err := xmldoc.ParseString(src, e.o.Limits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotXML, err)
	}
	res := verifyDocument(ctx, doc, VerifyOptions{Detached: e.o.Detached, Limits: e.o.Limits})
	var top []*xmldoc.Node
	for _, s := range allSignaturesDeep(doc) {
		if !hasSignatureAncestor(s) {
			top = append(top, s)
		}
	}
	if len(top) == 0 {
		return nil, fmt.Errorf("%w: the document holds no signature", ErrNotExtendable)
	}
	if len(top) != len(res.Signatures) {
		return nil, fmt.Errorf("%w: %d signatures, more than can be checked", ErrNotExtendable, len(top))
	}
	out := make([]*target, len(top))
	for i, s := range top {
		t := &target{doc: doc, sig: s, res: res.Signatures[i], name: res.Signatures[i].ID}
		if t.name == "" {
			t.name = res.Signatures[i].Path
		}
		for _, o := range s.Children(NSDSig, "Object") {
			for _, c := range o.Elements() {
				if c.Local == "QualifyingProperties" && (c.Space == NSXAdES || c.Space == NSXAdES122) {
					t.qp, t.ns = c, c.Space
				}
			}
		}
		if t.qp != nil {
			t.sp = t.qp.Child(t.ns, "SignedProperties")
			if t.up = t.qp.Child(t.ns, "UnsignedProperties"); t.up != nil {
				t.usp = t.up.Child(t.ns, "UnsignedSignatureProperties")
			}
		}
		out[i] = t
	}
	return out, nil
}

// sound refuses a signature that cannot be extended.
func (e *extender) sound(t *target) error {
	r := t.res
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: signature %s: %s", ErrNotExtendable, t.name, fmt.Sprintf(format, a...))
	}
	switch {
	case len(r.Structure) > 0:
		return fail("%s", r.Structure[0])
	case !r.XAdES || t.qp == nil || t.sp == nil:
		return fail("not a XAdES signature (no qualifying properties to add to)")
	case !r.SignatureChecked || !r.SignatureValid:
		return fail("the signature value does not verify: %s", r.SignatureDetail)
	case r.SigningCertificate == CertRefMismatch || r.SigningCertificate == CertRefMissing:
		return fail("the signing certificate does not match its SigningCertificate property")
	case r.Certificate == nil || r.KeyValueOnly:
		return fail("no signing certificate")
	}
	for i, rr := range r.References {
		switch {
		case rr.Status == RefOK:
		case rr.Status == RefNotFound && e.level != "b-lta" && !strings.HasPrefix(rr.URI, "#") && rr.URI != "":
			// detached content not given: the signature value verified, and b-t and b-lt cover only it
		default:
			return fail("reference %d (%q) does not verify: %s", i+1, rr.URI, rr.Detail)
		}
	}
	for i, st := range r.SignatureTimeStamps {
		if err := imprintMatches(st); err != nil {
			return fail("signature time-stamp %d: %v", i+1, err)
		}
	}
	for i, at := range r.ArchiveTimeStamps {
		if err := imprintMatches(at.SignatureTimeStamp); err != nil {
			return fail("archive time-stamp %d: %v", i+1, err)
		}
	}
	return nil
}

// imprintMatches checks that a time-stamp token's message imprint is the digest of the data it covers (the token
// is not trusted or verified here: that is a verifier's work).
func imprintMatches(st SignatureTimeStamp) error {
	if st.Problem != "" {
		return errors.New(st.Problem)
	}
	ts, err := timestamp.Parse(st.Token)
	if err != nil {
		return fmt.Errorf("unreadable token: %w", err)
	}
	if !ts.HashAlgorithm.Available() {
		return fmt.Errorf("imprint hash %v not supported", ts.HashAlgorithm)
	}
	h := ts.HashAlgorithm.New()
	h.Write(st.Covered)
	if !bytes.Equal(h.Sum(nil), ts.HashedMessage) {
		return errors.New("its imprint does not match the data it covers")
	}
	return nil
}

// unbroken checks that extending kept every signature as it was: same signatures, values still verify, references
// with the same outcome, every time-stamp that was there still matching, and every new one matching.
func (e *extender) unbroken(before, after []*target) error {
	if len(before) != len(after) {
		return fmt.Errorf("xades: extend: the extended document has %d signatures instead of %d", len(after), len(before))
	}
	for i, a := range after {
		b := before[i]
		broken := func(why string) error {
			return fmt.Errorf("xades: extend: extending would break signature %s: %s", b.name, why)
		}
		if !a.res.SignatureValid || len(a.res.Structure) > 0 {
			return broken("its value or structure no longer verifies")
		}
		if len(a.res.References) != len(b.res.References) {
			return broken("its references changed")
		}
		for j, rr := range a.res.References {
			if rr.Status != b.res.References[j].Status {
				return broken(fmt.Sprintf("reference %d no longer verifies (another signature's reference covers this one?)", j+1))
			}
		}
		for j, st := range a.res.SignatureTimeStamps {
			if err := imprintMatches(st); err != nil {
				return broken(fmt.Sprintf("signature time-stamp %d: %v", j+1, err))
			}
		}
		for j, at := range a.res.ArchiveTimeStamps {
			if err := imprintMatches(at.SignatureTimeStamp); err != nil {
				return broken(fmt.Sprintf("archive time-stamp %d: %v", j+1, err))
			}
		}
	}
	return nil
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// apply makes the edits (sorted by position; edits at one position keep their order).
func apply(src string, edits []edit) string {
	slices.SortStableFunc(edits, func(a, b edit) int { return a.start - b.start })
	var out strings.Builder
	n := len(src)
	for _, ed := range edits {
		n += len(ed.text)
	}
	out.Grow(n)
	at := 0
	for _, ed := range edits {
		out.WriteString(src[at:ed.start])
		out.WriteString(ed.text)
		at = ed.end
	}
	out.WriteString(src[at:])
	return out.String()
}

// phase loads src, asks add for the unsigned signature properties to append to each signature, and returns the
// document with them.
func (e *extender) phase(ctx context.Context, src string, add func(t *target) (string, error)) (string, error) {
	targets, err := e.load(ctx, src)
	if err != nil {
		return "", err
	}
	var edits []edit
	for _, t := range targets {
		text, err := add(t)
		if err != nil {
			return "", err
		}
		if text != "" {
			edits = append(edits, t.appendProperties(text))
		}
	}
	return apply(src, edits), nil
}

// appendProperties is the edit that appends text (unsigned signature properties, written with t.names) to the
// signature's UnsignedSignatureProperties, creating it and UnsignedProperties when absent.
func (t *target) appendProperties(text string) edit {
	src := t.doc.Src
	n := t.names()
	switch {
	case t.usp != nil:
		return appendInside(src, t.usp, text)
	case t.up != nil:
		wrapped := n.open("UnsignedSignatureProperties", "") + text + n.close("UnsignedSignatureProperties")
		if t.up.Inner < 0 {
			return appendInside(src, t.up, wrapped)
		}
		at := startTagEnd(t.up)
		return edit{at, at, wrapped}
	default:
		wrapped := n.open("UnsignedProperties", "") + `<` + n.x("UnsignedSignatureProperties") + `>` + text +
			n.close("UnsignedSignatureProperties") + n.close("UnsignedProperties")
		return edit{t.sp.End, t.sp.End, wrapped}
	}
}

// appendInside is the edit that appends text to an element's content (turning <e/> into <e>text</e>).
func appendInside(src string, n *xmldoc.Node, text string) edit {
	if n.Inner >= 0 {
		return edit{n.Inner, n.Inner, text}
	}
	tag := strings.TrimRight(src[n.Start:n.End-2], " \t\r\n")
	return edit{n.Start, n.End, tag + ">" + text + "</" + qname(n.Prefix, n.Local) + ">"}
}

// startTagEnd is the offset just past an element's start tag (its content's start).
func startTagEnd(n *xmldoc.Node) int {
	if n.FirstChild != nil {
		return n.FirstChild.Start
	}
	return n.Inner
}

// names are the prefixes new elements get where they are inserted: the QualifyingProperties' namespace (x) and
// XMLDSig's (ds), each with the declaration to write on inserted top elements when the prefix is not bound there.
type names struct {
	xp, dsp, v141 string
	decls         string
}

func (n names) x(local string) string  { return qname(n.xp, local) }
func (n names) ds(local string) string { return qname(n.dsp, local) }

// open is the start tag of an inserted top element (with the declarations it needs) and attrs.
func (n names) open(local, attrs string) string { return `<` + n.x(local) + n.decls + attrs + `>` }
func (n names) close(local string) string       { return `</` + n.x(local) + `>` }

// names picks the prefixes for elements inserted in the signature's unsigned properties.
func (t *target) names() names {
	at := t.qp
	switch {
	case t.usp != nil:
		at = t.usp
	case t.up != nil:
		at = t.up
	}
	var n names
	var ok bool
	if n.xp, ok = boundPrefix(at, t.ns, t.qp.Prefix); !ok {
		n.xp = "xades"
		n.decls += ` xmlns:xades="` + t.ns + `"`
	}
	if n.dsp, ok = boundPrefix(at, NSDSig, t.sig.Prefix); !ok {
		n.dsp = "ds"
		if n.xp == "ds" {
			n.dsp = "dsig"
		}
		n.decls += ` xmlns:` + n.dsp + `="` + NSDSig + `"`
	}
	n.v141 = "xades141"
	for n.v141 == n.xp || n.v141 == n.dsp {
		n.v141 += "x"
	}
	return n
}

// boundPrefix returns a prefix bound to ns at element at: preferred if it is, else any declared on the way up
// that still means ns there.
func boundPrefix(at *xmldoc.Node, ns, preferred string) (string, bool) {
	if uri, ok := xmldoc.LookupNamespace(at, preferred); ok && uri == ns {
		return preferred, true
	}
	for e := at; e != nil; e = e.Parent {
		for _, d := range e.Decls {
			if uri, ok := xmldoc.LookupNamespace(at, d.Prefix); d.URI == ns && ok && uri == ns {
				return d.Prefix, true
			}
		}
	}
	return "", false
}

// signatureTimeStamp is a new xades:SignatureTimeStamp for t: a token over the exclusive canonical form of its
// ds:SignatureValue (EN 319 132-1 5.3).
func (e *extender) signatureTimeStamp(ctx context.Context, t *target) (string, error) {
	var sv *xmldoc.Node
	for _, c := range t.sig.Elements() {
		if c.Is(NSDSig, "SignatureValue") {
			sv = c
		}
	}
	if e.o.TimeStamp == nil {
		return "", fmt.Errorf("%w: signature %s has no signature time-stamp and no time-stamping authority is set", ErrExtendLevel, t.name)
	}
	covered, err := canonicalElement(t.doc, sv, xmldoc.ExcC14N)
	if err != nil {
		return "", fmt.Errorf("xades: extend: signature %s: %w", t.name, err)
	}
	h := e.hash.New()
	h.Write(covered)
	token, err := e.o.TimeStamp(ctx, h.Sum(nil))
	if err != nil {
		return "", fmt.Errorf("xades: extend: signature time-stamp for %s: %w", t.name, err)
	}
	n := t.names()
	return n.open("SignatureTimeStamp", "") + `<` + n.ds("CanonicalizationMethod") + ` Algorithm="` + xmldoc.ExcC14N +
		`"/><` + n.x("EncapsulatedTimeStamp") + `>` + b64(token) + n.close("EncapsulatedTimeStamp") +
		n.close("SignatureTimeStamp"), nil
}

// archiveTimeStamp is a new xades141:ArchiveTimeStamp for t, over what archiveData.write gives for a time-stamp
// after every unsigned property (exclusive C14N).
func (e *extender) archiveTimeStamp(ctx context.Context, t *target) (string, error) {
	a := newArchiveData(t.doc, t.sig, t.res.References, t.usp, e.o.Limits)
	h := e.hash.New()
	if err := a.write(h, xmldoc.Method{Exclusive: true}, nil, false); err != nil {
		return "", fmt.Errorf("%w: signature %s: archive time-stamp data: %w", ErrNotExtendable, t.name, err)
	}
	token, err := e.o.TimeStamp(ctx, h.Sum(nil))
	if err != nil {
		return "", fmt.Errorf("xades: extend: archive time-stamp for %s: %w", t.name, err)
	}
	n := t.names()
	return `<` + n.v141 + `:ArchiveTimeStamp xmlns:` + n.v141 + `="` + NSXAdES141 + `"` + n.decls + `><` +
		n.ds("CanonicalizationMethod") + ` Algorithm="` + xmldoc.ExcC14N + `"/><` + n.x("EncapsulatedTimeStamp") + `>` +
		b64(token) + n.close("EncapsulatedTimeStamp") + `</` + n.v141 + `:ArchiveTimeStamp>`, nil
}

// validationPhase adds to each signature the validation data it lacks for its signer's chain and for the TSAs of
// its time-stamps.
func (e *extender) validationPhase(ctx context.Context, src string) (string, error) {
	targets, err := e.load(ctx, src)
	if err != nil {
		return "", err
	}
	var edits []edit
	for _, t := range targets {
		ed, err := e.validationData(ctx, t)
		if err != nil {
			return "", err
		}
		edits = append(edits, ed...)
	}
	return apply(src, edits), nil
}

// validationData is the edits adding t's missing validation data.
func (e *extender) validationData(ctx context.Context, t *target) ([]edit, error) {
	r := t.res
	have := newDataSet(r)
	var add revocation.Data
	collect := func(certs []*x509.Certificate, what string) error {
		d, err := e.o.Validation(ctx, certs)
		if err != nil {
			return fmt.Errorf("xades: extend: validation data of %s of signature %s: %w", what, t.name, err)
		}
		for _, c := range append(certs, d.Certificates...) {
			if c != nil && have.addCert(c) {
				add.Certificates = append(add.Certificates, c)
			}
		}
		for _, b := range d.OCSP {
			if have.addBytes("o", b) {
				add.OCSP = append(add.OCSP, b)
			}
		}
		for _, b := range d.CRLs {
			if have.addBytes("c", b) {
				add.CRLs = append(add.CRLs, b)
			}
		}
		return nil
	}
	carried := append(append([]*x509.Certificate(nil), r.Certificates...), r.Validation.Certificates...)
	if err := collect(chainOf(r.Certificate, carried), "the signer's certificate"); err != nil {
		return nil, err
	}
	tokens := make([][]byte, 0, len(r.SignatureTimeStamps)+len(r.ArchiveTimeStamps))
	for _, st := range r.SignatureTimeStamps {
		tokens = append(tokens, st.Token)
	}
	for _, at := range r.ArchiveTimeStamps {
		tokens = append(tokens, at.Token)
	}
	for i, tok := range tokens {
		certs, err := tsaCertificates(tok)
		if err != nil {
			return nil, fmt.Errorf("%w: signature %s: time-stamp %d: %v", ErrNotExtendable, t.name, i+1, err)
		}
		if err := collect(chainOf(certs[0], append(certs[1:], carried...)), "a time-stamping authority"); err != nil {
			return nil, err
		}
	}
	if add.Empty() {
		return nil, nil
	}
	n := t.names()
	if len(r.ArchiveTimeStamps) > 0 {
		// data arriving after an archive time-stamp goes into a new TimeStampValidationData (EN 319 132-1 5.5.1)
		text := `<` + n.v141 + `:TimeStampValidationData xmlns:` + n.v141 + `="` + NSXAdES141 + `"` + n.decls + `>` +
			n.certValues(add.Certificates) + n.revocationValues(add.OCSP, add.CRLs) + `</` + n.v141 + `:TimeStampValidationData>`
		return []edit{t.appendProperties(text)}, nil
	}
	// before any archive time-stamp: complete CertificateValues and RevocationValues, or append them
	var edits []edit
	var appended string
	var cv, rv *xmldoc.Node
	if t.usp != nil {
		cv, rv = t.usp.Child(t.ns, "CertificateValues"), t.usp.Child(t.ns, "RevocationValues")
	}
	switch {
	case len(add.Certificates) == 0:
	case cv != nil:
		edits = append(edits, appendInside(t.doc.Src, cv, n.encapsulated("EncapsulatedX509Certificate", certDER(add.Certificates))))
	default:
		appended += withDecls(n.certValues(add.Certificates), n)
	}
	switch {
	case len(add.OCSP) == 0 && len(add.CRLs) == 0 && rv == nil:
		// no certificate needs a status: an empty RevocationValues says the validation data is complete (B-LT)
		appended += withDecls(`<`+n.x("RevocationValues")+`>`+n.close("RevocationValues"), n)
	case len(add.OCSP) == 0 && len(add.CRLs) == 0:
	case rv != nil:
		edits = append(edits, n.completeRevocation(t.doc.Src, rv, t.ns, add.OCSP, add.CRLs)...)
	default:
		appended += withDecls(n.revocationValues(add.OCSP, add.CRLs), n)
	}
	if appended != "" {
		edits = append(edits, t.appendProperties(appended))
	}
	return edits, nil
}

// withDecls adds the names' declarations to the start tag of an element written without them.
func withDecls(el string, n names) string {
	if n.decls == "" || el == "" {
		return el
	}
	i := strings.IndexByte(el, '>')
	return el[:i] + n.decls + el[i:]
}

func certDER(certs []*x509.Certificate) [][]byte {
	out := make([][]byte, len(certs))
	for i, c := range certs {
		out[i] = c.Raw
	}
	return out
}

// encapsulated writes values as elements local (EncapsulatedX509Certificate...).
func (n names) encapsulated(local string, values [][]byte) string {
	var b strings.Builder
	for _, v := range values {
		b.WriteString(`<` + n.x(local) + `>` + b64(v) + n.close(local))
	}
	return b.String()
}

// certValues is a xades:CertificateValues element ("" for no certificates), without declarations.
func (n names) certValues(certs []*x509.Certificate) string {
	if len(certs) == 0 {
		return ""
	}
	return `<` + n.x("CertificateValues") + `>` + n.encapsulated("EncapsulatedX509Certificate", certDER(certs)) + n.close("CertificateValues")
}

// revocationValues is a xades:RevocationValues element ("" for no values), without declarations: CRLValues, then
// OCSPValues, as the schema orders them.
func (n names) revocationValues(ocsps, crls [][]byte) string {
	if len(ocsps) == 0 && len(crls) == 0 {
		return ""
	}
	return `<` + n.x("RevocationValues") + `>` + n.crlValues(crls) + n.ocspValues(ocsps) + n.close("RevocationValues")
}

func (n names) crlValues(crls [][]byte) string {
	if len(crls) == 0 {
		return ""
	}
	return `<` + n.x("CRLValues") + `>` + n.encapsulated("EncapsulatedCRLValue", crls) + n.close("CRLValues")
}

func (n names) ocspValues(ocsps [][]byte) string {
	if len(ocsps) == 0 {
		return ""
	}
	return `<` + n.x("OCSPValues") + `>` + n.encapsulated("EncapsulatedOCSPValue", ocsps) + n.close("OCSPValues")
}

// completeRevocation is the edits adding OCSP responses and CRLs to an existing RevocationValues element, in the
// schema's order (CRLValues, OCSPValues, OtherValues).
func (n names) completeRevocation(src string, rv *xmldoc.Node, ns string, ocsps, crls [][]byte) []edit {
	crlEl, ocspEl := rv.Child(ns, "CRLValues"), rv.Child(ns, "OCSPValues")
	if rv.Inner < 0 {
		return []edit{appendInside(src, rv, n.crlValues(crls)+n.ocspValues(ocsps))}
	}
	var edits []edit
	content := startTagEnd(rv)
	if len(crls) > 0 {
		if crlEl != nil {
			edits = append(edits, appendInside(src, crlEl, n.encapsulated("EncapsulatedCRLValue", crls)))
		} else {
			edits = append(edits, edit{content, content, n.crlValues(crls)})
		}
	}
	if len(ocsps) > 0 {
		switch {
		case ocspEl != nil:
			edits = append(edits, appendInside(src, ocspEl, n.encapsulated("EncapsulatedOCSPValue", ocsps)))
		case crlEl != nil:
			edits = append(edits, edit{crlEl.End, crlEl.End, n.ocspValues(ocsps)})
		default:
			edits = append(edits, edit{content, content, n.ocspValues(ocsps)})
		}
	}
	return edits
}

// dataSet is the validation data a signature already carries, to add only what it lacks.
type dataSet struct {
	certs []*x509.Certificate
	blobs map[string]bool
}

func newDataSet(r *SignatureResult) *dataSet {
	s := &dataSet{blobs: map[string]bool{}}
	s.certs = append(append(s.certs, r.Certificates...), r.Validation.Certificates...)
	for _, b := range r.Validation.OCSP {
		s.blobs["o"+string(b)] = true
	}
	for _, b := range r.Validation.CRLs {
		s.blobs["c"+string(b)] = true
	}
	return s
}

// addCert records c and reports whether it was new.
func (s *dataSet) addCert(c *x509.Certificate) bool {
	for _, h := range s.certs {
		if h.Equal(c) {
			return false
		}
	}
	s.certs = append(s.certs, c)
	return true
}

// addBytes records a value of a kind and reports whether it was new.
func (s *dataSet) addBytes(kind string, b []byte) bool {
	k := kind + string(b)
	if s.blobs[k] {
		return false
	}
	s.blobs[k] = true
	return true
}

// tsaCertificates returns the certificate that signed a time-stamp token, then the other certificates it carries.
func tsaCertificates(token []byte) ([]*x509.Certificate, error) {
	p7, err := pkcs7.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("unreadable time-stamp token: %w", err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, errors.New("the time-stamp token does not carry its TSA's certificate")
	}
	out := []*x509.Certificate{signer}
	for _, c := range p7.Certificates {
		if !c.Equal(signer) {
			out = append(out, c)
		}
	}
	return out, nil
}

// chainOf is leaf and the issuers above it found among pool, in order, up to a self-signed certificate or the first
// issuer not found: what a validation source is asked about (the certificates a signature carries besides, such as
// another TSA's, are not its chain).
func chainOf(leaf *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	out := []*x509.Certificate{leaf}
	for c := leaf; len(out) < 8 && !bytes.Equal(c.RawIssuer, c.RawSubject); {
		var issuer *x509.Certificate
		for _, cand := range pool {
			if bytes.Equal(cand.RawSubject, c.RawIssuer) && !cand.Equal(c) && c.CheckSignatureFrom(cand) == nil {
				issuer = cand
				break
			}
		}
		if issuer == nil || slices.ContainsFunc(out, issuer.Equal) {
			break
		}
		out = append(out, issuer)
		c = issuer
	}
	return out
}
