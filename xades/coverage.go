package xades

import (
	"bytes"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

// EnvelopedCoverage returns the exact octets an enveloped signature made by Sign over doc will digest: the
// canonical form (C14N 1.0) of the whole document minus every ds:Signature element (the XPath Filter 2.0 subtract
// set). Whatever shows a document to the person about to sign it shows these octets, not the document: text inside
// an existing ds:Signature element is not covered by the new signature, so it must not be shown as if it were.
// excluded counts the ds:Signature elements left out.
func EnvelopedCoverage(doc []byte, limits xmldoc.Limits) (covered []byte, excluded int, err error) {
	d, err := xmldoc.Parse(doc, limits)
	if err != nil {
		return nil, 0, err
	}
	sigs := allSignatures(d)
	var b bytes.Buffer
	b.Grow(len(doc))
	if err := xmldoc.Canonicalize(&b, xmldoc.Subset{Doc: d, Exclude: sigs}, xmldoc.Method{}); err != nil {
		return nil, 0, err
	}
	return b.Bytes(), len(sigs), nil
}
