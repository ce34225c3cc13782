package xades

import (
	"bytes"
	"context"
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
		base, tokens := readTimeStampElement(st, qp.ns, "signature time-stamp")
		if base.Problem != "" {
			out = append(out, base)
			continue
		}
		covered, err := canonicalElement(v.doc, sigValue, base.Canonicalization)
		if err != nil {
			base.Problem = "canonicalizing ds:SignatureValue: " + err.Error()
			out = append(out, base)
			continue
		}
		for _, t := range tokens {
			one := base
			if one.Token, one.Problem = decodeToken(t, "signature time-stamp"); one.Problem == "" {
				one.Covered = covered
			}
			out = append(out, one)
		}
	}
	return out
}

// canonicalElement is the canonical form, by the method named uri, of an element in its document: what a signature
// time-stamp covers (the ds:SignatureValue element), when verifying and when extending.
func canonicalElement(doc *xmldoc.Document, n *xmldoc.Node, uri string) ([]byte, error) {
	m, ok := xmldoc.MethodFor(uri)
	if !ok {
		return nil, fmt.Errorf("canonicalization method %q is not accepted", uri)
	}
	var b bytes.Buffer
	if err := xmldoc.Canonicalize(&b, xmldoc.Subset{Doc: doc, Apex: n, Comments: m.WithComments}, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
