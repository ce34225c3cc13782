package xades

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/xmldoc"
)

// maxValidationValues bounds the certificates, the OCSP responses and the CRLs (each kind counted apart) read from
// one signature's CertificateValues, RevocationValues and TimeStampValidationData.
const maxValidationValues = 256

// ArchiveTimeStamp is an archive time-stamp of a signature's unsigned properties (xades141:ArchiveTimeStamp, ETSI
// EN 319 132-1 5.5.2, or the older xades:ArchiveTimeStamp of XAdES 1.3.2) with the data it must cover, recomputed
// from the document by the code that computes it when extending (archiveData.write). As for SignatureTimeStamp,
// the xades package neither trusts nor verifies the token.
type ArchiveTimeStamp struct {
	// SignatureTimeStamp holds the token, its canonicalization method, the covered octets (Covered) and why it could
	// not be read (Problem).
	SignatureTimeStamp
	// Namespace is the element's namespace: NSXAdES141, or the QualifyingProperties' namespace for the XAdES 1.3.2
	// form, whose input leaves out the ds:Object elements a reference already covers.
	Namespace string
	// CoversValidationData is set when every CertificateValues, RevocationValues and TimeStampValidationData of the
	// signature comes before this time-stamp, so that the token proves all of SignatureResult.Validation existed at
	// its time.
	CoversValidationData bool
}

// archiveData is the part of one signature that archive time-stamps cover (EN 319 132-1 5.5.2.2).
type archiveData struct {
	doc                           *xmldoc.Document
	signedInfo, sigValue, keyInfo *xmldoc.Node
	// objects are the ds:Object children of the signature but the one holding the QualifyingProperties.
	objects []*xmldoc.Node
	// usp is the xades:UnsignedSignatureProperties element (nil when absent).
	usp *xmldoc.Node
	// refs are the results of the signature's references, in the order of ds:SignedInfo; refURIs their URIs.
	refs []ReferenceResult
	// limits bound the parsing of a reference's node-set output (see write).
	limits xmldoc.Limits
	// charge, when set, counts work against a budget (bytes parsed), failing past it.
	charge func(n int) error
	// recanonicalized keeps, when not nil, the node-set outputs canonicalized again (by reference and method), for
	// the next archive time-stamp of the signature.
	recanonicalized map[string][]byte
}

// newArchiveData collects the parts of sig that archive time-stamps cover.
func newArchiveData(doc *xmldoc.Document, sig *xmldoc.Node, refs []ReferenceResult, usp *xmldoc.Node, limits xmldoc.Limits) *archiveData {
	a := &archiveData{doc: doc, refs: refs, usp: usp, limits: limits}
	for _, c := range sig.Elements() {
		switch {
		case c.Is(NSDSig, "SignedInfo"):
			a.signedInfo = c
		case c.Is(NSDSig, "SignatureValue"):
			a.sigValue = c
		case c.Is(NSDSig, "KeyInfo"):
			a.keyInfo = c
		case c.Is(NSDSig, "Object"):
			holdsQP := false
			for _, e := range c.Elements() {
				if e.Local == "QualifyingProperties" && (e.Space == NSXAdES || e.Space == NSXAdES122) {
					holdsQP = true
				}
			}
			if !holdsQP {
				a.objects = append(a.objects, c)
			}
		}
	}
	return a
}

// write writes the input of the message imprint of an archive time-stamp canonicalized with m that stands just
// before until among the unsigned signature properties (nil: after all of them, as a new one will), in this order
// (EN 319 132-1 5.5.2.2, as EU DSS computes it):
//
//  1. the data of each ds:Reference, in order: its transforms' output, canonicalized again with m when that output
//     is a node-set;
//  2. ds:SignedInfo, ds:SignatureValue and ds:KeyInfo, each canonicalized with m;
//  3. every child element of UnsignedSignatureProperties before until, each canonicalized with m;
//  4. every ds:Object of the signature but the one holding the QualifyingProperties, canonicalized with m; in the
//     XAdES 1.3.2 form (legacy), only those no reference points to.
//
// Every reference must have verified (its output is taken from what the verification digested).
func (a *archiveData) write(w io.Writer, m xmldoc.Method, until *xmldoc.Node, legacy bool) error {
	element := func(n *xmldoc.Node) error {
		if n == nil {
			return nil
		}
		return xmldoc.Canonicalize(w, xmldoc.Subset{Doc: a.doc, Apex: n, Comments: m.WithComments}, m)
	}
	referenced := map[string]bool{}
	for i, rr := range a.refs {
		if rr.Status != RefOK {
			return fmt.Errorf("reference %d (%q) did not verify", i+1, rr.URI)
		}
		if id, ok := sameDocumentID(rr.URI); ok {
			referenced[id] = true
		}
		if err := a.referenceData(w, i, rr, m); err != nil {
			return err
		}
	}
	for _, n := range []*xmldoc.Node{a.signedInfo, a.sigValue, a.keyInfo} {
		if err := element(n); err != nil {
			return err
		}
	}
	if a.usp != nil {
		for c := a.usp.FirstChild; c != nil && c != until; c = c.Next {
			if c.Kind != xmldoc.ElementNode {
				continue
			}
			if err := element(c); err != nil {
				return err
			}
		}
	}
	for _, o := range a.objects {
		if id, _ := o.Attr("Id"); legacy && id != "" && referenced[id] {
			continue
		}
		if err := element(o); err != nil {
			return err
		}
	}
	return nil
}

// referenceData writes what one verified reference contributes to an archive time-stamp's input: its octets, or,
// when its transforms ended with a node-set, that node-set's canonical form by m (the verification digested the
// inclusive C14N 1.0 form, which is re-read and canonicalized again as DSS does; for the inclusive methods that is
// the same octets).
func (a *archiveData) referenceData(w io.Writer, i int, rr ReferenceResult, m xmldoc.Method) error {
	if rr.NodeSet == nil || !m.Exclusive {
		_, err := w.Write(rr.Verified)
		return err
	}
	key := fmt.Sprintf("%d/%t/%q", i, m.WithComments, m.InclusivePrefixes)
	if b, ok := a.recanonicalized[key]; ok {
		_, err := w.Write(b)
		return err
	}
	if a.charge != nil {
		if err := a.charge(len(rr.Verified)); err != nil {
			return err
		}
	}
	lim := a.limits
	if lim.MaxBytes == 0 {
		lim.MaxBytes = xmldoc.DefaultLimits.MaxBytes
	}
	lim.MaxBytes = max(lim.MaxBytes, len(rr.Verified))
	d, err := xmldoc.Parse(rr.Verified, lim)
	if err != nil {
		// not a document (several elements, text): its octets, as DSS takes them
		_, err := w.Write(rr.Verified)
		return err
	}
	if a.recanonicalized == nil {
		return xmldoc.Canonicalize(w, xmldoc.Subset{Doc: d, Comments: m.WithComments}, m)
	}
	b := xmldoc.AppendCanonical(make([]byte, 0, len(rr.Verified)), xmldoc.Subset{Doc: d, Comments: m.WithComments}, m)
	a.recanonicalized[key] = b
	_, err = w.Write(b)
	return err
}

// sameDocumentID returns the Id a same-document reference URI names ("#id" or "#xpointer(id('id'))").
func sameDocumentID(uri string) (string, bool) {
	id, ok := strings.CutPrefix(uri, "#")
	if !ok || id == "" {
		return "", false
	}
	if inner, ok := strings.CutPrefix(id, "xpointer(id("); ok && strings.HasSuffix(inner, "))") {
		id = strings.Trim(inner[:len(inner)-2], `'"`)
	}
	return id, true
}

// isArchiveTimeStamp reports whether an unsigned signature property is an archive time-stamp (the 1.4.1 form, or
// the 1.3.2 form in the qualifying properties' namespace ns).
func isArchiveTimeStamp(n *xmldoc.Node, ns string) bool {
	return n.Is(NSXAdES141, "ArchiveTimeStamp") || n.Is(ns, "ArchiveTimeStamp")
}

// isValidationData reports whether an unsigned signature property holds validation data.
func isValidationData(n *xmldoc.Node, ns string) bool {
	return n.Is(ns, "CertificateValues") || n.Is(ns, "RevocationValues") || n.Is(NSXAdES141, "TimeStampValidationData")
}

// archiveTimeStamps reads the archive time-stamps of a signature's unsigned properties and computes what each
// covers. At most maxTimeStampTokens tokens are read.
func (v *verifier) archiveTimeStamps(r *SignatureResult, sig *xmldoc.Node, qp *qualifying) []ArchiveTimeStamp {
	if qp == nil || qp.unsignedSig == nil {
		return nil
	}
	var out []ArchiveTimeStamp
	var a *archiveData
	lastData := -1
	for i, c := range qp.unsignedSig.Elements() {
		if isValidationData(c, qp.ns) {
			lastData = i
		}
	}
	for i, c := range qp.unsignedSig.Elements() {
		if !isArchiveTimeStamp(c, qp.ns) {
			continue
		}
		if len(out) >= maxTimeStampTokens {
			out = append(out, ArchiveTimeStamp{SignatureTimeStamp: SignatureTimeStamp{
				Problem: fmt.Sprintf("more than %d archive time-stamps: the others are not checked", maxTimeStampTokens)}})
			break
		}
		legacy := c.Space != NSXAdES141
		st, tokens := readTimeStampElement(c, qp.ns, "archive time-stamp")
		base := ArchiveTimeStamp{SignatureTimeStamp: st, Namespace: c.Space, CoversValidationData: i > lastData}
		if st.Problem == "" {
			if a == nil {
				a = newArchiveData(v.doc, sig, r.References, qp.unsignedSig, v.opts.Limits)
				a.recanonicalized = map[string][]byte{}
				a.charge = func(n int) error {
					if v.digested += int64(n); v.digested > v.digestBudget {
						return errBudget
					}
					return nil
				}
			}
			m, _ := xmldoc.MethodFor(st.Canonicalization)
			m.InclusivePrefixes = inclusivePrefixes(c.Child(NSDSig, "CanonicalizationMethod"))
			var covered bytes.Buffer
			err := a.write(budgetWriter{&covered, &v.digested, v.digestBudget}, m, c, legacy)
			switch {
			case errors.Is(err, errBudget):
				base.Problem = fmt.Sprintf("the data the archive time-stamp covers exceeds the processing limit (%d MiB)", v.digestBudget>>20)
			case err != nil:
				base.Problem = "computing the data the archive time-stamp covers: " + err.Error()
			default:
				v.retained += int64(covered.Len())
				if v.retained > v.retainBudget {
					base.Problem = fmt.Sprintf("the data the archive time-stamp covers exceeds the memory limit (%d MiB)", v.retainBudget>>20)
				} else {
					base.Covered = covered.Bytes()
				}
			}
		}
		if base.Problem != "" {
			out = append(out, base)
			continue
		}
		for _, t := range tokens {
			if len(out) >= maxTimeStampTokens {
				break
			}
			one := base
			one.Token, one.Problem = decodeToken(t, "archive time-stamp")
			if one.Problem != "" {
				one.Covered = nil
			}
			out = append(out, one)
		}
	}
	return out
}

// readTimeStampElement reads a XAdES time-stamp container (SignatureTimeStamp, ArchiveTimeStamp): its
// canonicalization method (inclusive C14N 1.0 when absent or empty) and xades:EncapsulatedTimeStamp elements, or why it
// cannot be used (Problem).
func readTimeStampElement(st *xmldoc.Node, ns, what string) (SignatureTimeStamp, []*xmldoc.Node) {
	out := SignatureTimeStamp{Canonicalization: xmldoc.C14N10}
	var tokens []*xmldoc.Node
	for _, c := range st.Elements() {
		switch {
		case c.Is(NSDSig, "CanonicalizationMethod"):
			// an empty Algorithm names no method. EU DSS, which writes such files, then uses its own default,
			// exclusive C14N (XMLCanonicalizer.DEFAULT_DSS_C14N_METHOD; XAdESArchiveTstWithEmptyC14NTest's archive
			// time-stamp matches only so); an absent element keeps XMLDSig's default, inclusive C14N 1.0
			if alg, _ := c.Attr("Algorithm"); alg != "" {
				out.Canonicalization = alg
			} else {
				out.Canonicalization = xmldoc.ExcC14N
			}
		case c.Is(ns, "EncapsulatedTimeStamp") || c.Is(NSXAdES, "EncapsulatedTimeStamp"):
			tokens = append(tokens, c)
		case c.Local == "Include" || c.Local == "ReferenceInfo":
			out.Problem = "explicit xades:Include is not supported in the " + what + " (EN 319 132-1 uses the implicit form)"
		case c.Local == "XMLTimeStamp":
			out.Problem = "XML time-stamps are not supported"
		}
	}
	if out.Problem == "" && len(tokens) == 0 {
		out.Problem = "the " + what + " holds no xades:EncapsulatedTimeStamp"
	}
	if _, ok := xmldoc.MethodFor(out.Canonicalization); out.Problem == "" && !ok {
		out.Problem = fmt.Sprintf("canonicalization method %q of the %s is not accepted", out.Canonicalization, what)
	}
	return out, tokens
}

// decodeToken decodes a xades:EncapsulatedTimeStamp.
func decodeToken(t *xmldoc.Node, what string) ([]byte, string) {
	der, err := base64.StdEncoding.DecodeString(stripSpace(t.Text()))
	if err != nil || len(der) == 0 {
		return nil, "the xades:EncapsulatedTimeStamp of the " + what + " is not valid base64"
	}
	return der, ""
}

// validationData reads the validation data of a signature's unsigned properties into r.Validation: the
// certificates of every xades:CertificateValues and xades141:TimeStampValidationData, and the OCSP responses and
// CRLs of every xades:RevocationValues and TimeStampValidationData, at most maxValidationValues of each kind. It
// returns the certificates of the CertificateValues elements (which the signature carries for its own chain).
func (v *verifier) validationData(r *SignatureResult, qp *qualifying) (certValues []*x509.Certificate) {
	if qp == nil || qp.unsignedSig == nil {
		return nil
	}
	d := &r.Validation
	over := map[string]bool{}
	full := func(kind string, n int) bool {
		if n < maxValidationValues {
			return false
		}
		if !over[kind] {
			over[kind] = true
			r.Warnings = append(r.Warnings, fmt.Sprintf("more than %d %s in the validation data: the others are not read", maxValidationValues, kind))
		}
		return true
	}
	decode := func(e *xmldoc.Node, what string) []byte {
		b, err := base64.StdEncoding.DecodeString(stripSpace(e.Text()))
		if err != nil || len(b) == 0 {
			r.Warnings = append(r.Warnings, what+" is not valid base64: it is not read")
			return nil
		}
		return b
	}
	readCerts := func(cv *xmldoc.Node, own bool) {
		for _, e := range cv.Children(qp.ns, "EncapsulatedX509Certificate") {
			if full("certificates", len(d.Certificates)) {
				return
			}
			der := decode(e, "xades:EncapsulatedX509Certificate")
			if der == nil {
				continue
			}
			c, err := cms.ParseCertificate(der)
			if err != nil {
				r.Warnings = append(r.Warnings, "xades:EncapsulatedX509Certificate cannot be parsed: it is not read")
				continue
			}
			d.Certificates = append(d.Certificates, c)
			if own {
				certValues = append(certValues, c)
			}
		}
	}
	readRevocation := func(rv *xmldoc.Node) {
		if crls := rv.Child(qp.ns, "CRLValues"); crls != nil {
			for _, e := range crls.Children(qp.ns, "EncapsulatedCRLValue") {
				if full("CRLs", len(d.CRLs)) {
					break
				}
				if b := decode(e, "xades:EncapsulatedCRLValue"); b != nil {
					d.CRLs = append(d.CRLs, b)
				}
			}
		}
		if ocsps := rv.Child(qp.ns, "OCSPValues"); ocsps != nil {
			for _, e := range ocsps.Children(qp.ns, "EncapsulatedOCSPValue") {
				if full("OCSP responses", len(d.OCSP)) {
					break
				}
				if b := decode(e, "xades:EncapsulatedOCSPValue"); b != nil {
					d.OCSP = append(d.OCSP, b)
				}
			}
		}
	}
	for _, c := range qp.unsignedSig.Elements() {
		switch {
		case c.Is(qp.ns, "CertificateValues"):
			readCerts(c, true)
		case c.Is(qp.ns, "RevocationValues"):
			r.HasRevocationValues = true
			readRevocation(c)
		case c.Is(NSXAdES141, "TimeStampValidationData"):
			if cv := c.Child(qp.ns, "CertificateValues"); cv != nil {
				readCerts(cv, false)
			}
			if rv := c.Child(qp.ns, "RevocationValues"); rv != nil {
				readRevocation(rv)
			}
		}
	}
	return certValues
}
