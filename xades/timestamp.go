package xades

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

// maxTimeStampTokens bounds the EncapsulatedTimeStamp elements read per signature.
const maxTimeStampTokens = 16

// SignatureTimeStamp is a xades:SignatureTimeStamp token as found in a signature's unsigned properties, with the
// data it must cover: the canonical form of ds:SignatureValue by the time-stamp's own canonicalization method
// (ETSI EN 319 132-1 5.3). The xades package does not trust or verify the token: a verifier checks it (tsa.Verify
// over a digest of Covered) against its own trust anchors.
type SignatureTimeStamp struct {
	// Token is the DER TimeStampToken of xades:EncapsulatedTimeStamp; nil when Problem is set.
	Token []byte
	// Canonicalization is the ds:CanonicalizationMethod algorithm (inclusive C14N 1.0 when absent).
	Canonicalization string
	// Covered is the canonicalized ds:SignatureValue element, whose digest the token's imprint must be.
	Covered []byte
	// Problem says why the time-stamp could not be read (then Token and Covered may be nil).
	Problem string
}

// timeStampElement is SignOptions.TimeStamp's part of signing: the imprint is h over the exclusive
// canonical form of the ds:SignatureValue element as it stands in the signature (prefixed, so the standalone
// form with the ds namespace declared is the same octets).
func timeStampElement(ctx context.Context, o *SignOptions, s *sigBuilder, sigValueXML string) (string, error) {
	doc, err := xmldoc.ParseString(`<ds:Signature xmlns:ds="`+NSDSig+`">`+sigValueXML+`</ds:Signature>`, xmldoc.Limits{})
	if err != nil {
		return "", fmt.Errorf("xades: building the time-stamped SignatureValue: %w", err)
	}
	hw := s.hash.New()
	if err := xmldoc.Canonicalize(hw, xmldoc.Subset{Doc: doc, Apex: doc.Root.FirstChild}, xmldoc.Method{Exclusive: true}); err != nil {
		return "", err
	}
	token, err := o.TimeStamp(ctx, hw.Sum(nil))
	if err != nil {
		return "", fmt.Errorf("xades: signature time-stamp: %w", err)
	}
	return `<xades:SignatureTimeStamp Id="` + s.id + `-sigts"><ds:CanonicalizationMethod Algorithm="` + xmldoc.ExcC14N +
		`"/><xades:EncapsulatedTimeStamp>` + b64(token) + `</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>`, nil
}

// signatureTimeStamps reads the xades:SignatureTimeStamp elements of a signature's unsigned properties.
func (v *verifier) signatureTimeStamps(qp *qualifying, sigValue *xmldoc.Node) []SignatureTimeStamp {
	if qp == nil || qp.unsignedSig == nil {
		return nil
	}
	var out []SignatureTimeStamp
	for _, st := range qp.unsignedSig.Children(qp.ns, "SignatureTimeStamp") {
		if len(out) >= maxTimeStampTokens {
			out = append(out, SignatureTimeStamp{Problem: fmt.Sprintf("more than %d signature time-stamps: the others are not checked", maxTimeStampTokens)})
			break
		}
		method := xmldoc.C14N10
		var tokens []*xmldoc.Node
		problem := ""
		for _, c := range st.Elements() {
			switch {
			case c.Is(NSDSig, "CanonicalizationMethod"):
				method, _ = c.Attr("Algorithm")
			case c.Is(qp.ns, "EncapsulatedTimeStamp"):
				tokens = append(tokens, c)
			case c.Is(qp.ns, "Include") || c.Is(qp.ns, "ReferenceInfo"):
				problem = "explicit xades:Include in a signature time-stamp is not supported (EN 319 132-1 uses the implicit form)"
			case c.Is(qp.ns, "XMLTimeStamp"):
				problem = "XML time-stamps are not supported"
			}
		}
		if problem == "" && len(tokens) == 0 {
			problem = "xades:SignatureTimeStamp holds no EncapsulatedTimeStamp"
		}
		m, ok := xmldoc.MethodFor(method)
		if problem == "" && !ok {
			problem = fmt.Sprintf("canonicalization method %q of the signature time-stamp is not accepted", method)
		}
		if problem != "" {
			out = append(out, SignatureTimeStamp{Canonicalization: method, Problem: problem})
			continue
		}
		var covered bytes.Buffer
		if err := xmldoc.Canonicalize(&covered, xmldoc.Subset{Doc: v.doc, Apex: sigValue, Comments: m.WithComments}, m); err != nil {
			out = append(out, SignatureTimeStamp{Canonicalization: method, Problem: "canonicalizing ds:SignatureValue: " + err.Error()})
			continue
		}
		for _, t := range tokens {
			der, err := base64.StdEncoding.DecodeString(stripSpace(t.Text()))
			if err != nil || len(der) == 0 {
				out = append(out, SignatureTimeStamp{Canonicalization: method, Problem: "xades:EncapsulatedTimeStamp is not valid base64"})
				continue
			}
			out = append(out, SignatureTimeStamp{Token: der, Canonicalization: method, Covered: covered.Bytes()})
		}
	}
	return out
}
