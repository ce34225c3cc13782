package cms

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"math/big"
	"sort"
	"time"
)

// This file holds the minimal ASN.1 reader and writer the package needs. The reader accepts DER and the parts of
// BER real PDF signers use (indefinite lengths, non-minimal length octets, constructed OCTET STRINGs) and records
// when it saw them; it accepts only low tag numbers (0-30), which is all CMS uses.

// Identifier octets used by CMS.
const (
	tagInteger      = 0x02
	tagBitString    = 0x03
	tagOctetString  = 0x04
	tagNull         = 0x05
	tagOID          = 0x06
	tagUTCTime      = 0x17
	tagGeneralized  = 0x18
	tagSequence     = 0x30
	tagSet          = 0x31
	tagConstructed  = 0x20
	tagContext0     = 0xa0 // [0] constructed
	tagContext1     = 0xa1 // [1] constructed
	tagContext0Prim = 0x80 // [0] primitive
	tagOctetsCons   = tagOctetString | tagConstructed
)

// element is one decoded TLV. All slices point into the decoded input.
type element struct {
	tag        byte   // identifier octet
	full       []byte // the whole encoding: header, content and, for indefinite lengths, the end-of-contents octets
	body       []byte // the content octets (without the end-of-contents octets)
	indefinite bool
}

func (e element) constructed() bool { return e.tag&tagConstructed != 0 }

// reader decodes TLVs and remembers whether anything other than DER was seen.
type reader struct {
	ber bool // indefinite length, non-minimal length or constructed string seen
}

// read decodes the first TLV of in and returns it with the bytes that follow it. depth is the nesting level of in,
// used to bound the recursion needed to find the end of indefinite-length values.
func (r *reader) read(in []byte, depth int) (element, []byte, error) {
	if depth > maxDepth {
		return element{}, nil, fmt.Errorf("%w: nesting deeper than %d", ErrTooLarge, maxDepth)
	}
	if len(in) < 2 {
		return element{}, nil, fmt.Errorf("%w: truncated header", ErrMalformed)
	}
	id := in[0]
	if id&0x1f == 0x1f {
		return element{}, nil, fmt.Errorf("%w: high tag number", ErrMalformed)
	}
	if id == 0 {
		return element{}, nil, fmt.Errorf("%w: unexpected end-of-contents", ErrMalformed)
	}
	l := in[1]
	switch {
	case l < 0x80:
		n := int(l)
		if len(in)-2 < n {
			return element{}, nil, fmt.Errorf("%w: truncated: length %d, %d bytes left", ErrMalformed, n, len(in)-2)
		}
		return element{tag: id, full: in[:2+n], body: in[2 : 2+n]}, in[2+n:], nil
	case l == 0x80:
		if id&tagConstructed == 0 {
			return element{}, nil, fmt.Errorf("%w: indefinite length on a primitive value", ErrMalformed)
		}
		r.ber = true
		rest := in[2:]
		for {
			if len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
				end := len(in) - len(rest)
				return element{tag: id, full: in[:end+2], body: in[2:end], indefinite: true}, rest[2:], nil
			}
			var err error
			if _, rest, err = r.read(rest, depth+1); err != nil {
				return element{}, nil, err
			}
		}
	case l == 0xff:
		return element{}, nil, fmt.Errorf("%w: reserved length octet", ErrMalformed)
	}
	k := int(l & 0x7f)
	if k > 4 {
		return element{}, nil, fmt.Errorf("%w: length field of %d octets", ErrTooLarge, k)
	}
	if len(in) < 2+k {
		return element{}, nil, fmt.Errorf("%w: truncated length", ErrMalformed)
	}
	n := 0
	for _, b := range in[2 : 2+k] {
		n = n<<8 | int(b)
	}
	if n < 0x80 || in[2] == 0 {
		r.ber = true // non-minimal length octets: valid BER, not DER
	}
	h := 2 + k
	if n > len(in)-h {
		return element{}, nil, fmt.Errorf("%w: truncated: length %d, %d bytes left", ErrMalformed, n, len(in)-h)
	}
	return element{tag: id, full: in[:h+n], body: in[h : h+n]}, in[h+n:], nil
}

// children decodes the content of a constructed element.
func (r *reader) children(e element, depth int) ([]element, error) {
	if !e.constructed() {
		return nil, fmt.Errorf("%w: tag 0x%02x is not constructed", ErrMalformed, e.tag)
	}
	var out []element
	for in := e.body; len(in) > 0; {
		c, rest, err := r.read(in, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		in = rest
	}
	return out, nil
}

// expect decodes a constructed element with the given tag and returns its children.
func (r *reader) expect(e element, tag byte, what string, depth int) ([]element, error) {
	if e.tag != tag {
		return nil, fmt.Errorf("%w: %s: tag 0x%02x, want 0x%02x", ErrMalformed, what, e.tag, tag)
	}
	return r.children(e, depth)
}

// octets returns the value of an OCTET STRING with the given primitive tag, also in the BER constructed form.
func (r *reader) octets(e element, tag byte, depth int) ([]byte, error) {
	switch {
	case e.tag == tag:
		return e.body, nil
	case e.tag == tag|tagConstructed:
		if depth > maxDepth {
			return nil, fmt.Errorf("%w: nesting deeper than %d", ErrTooLarge, maxDepth)
		}
		r.ber = true
		parts, err := r.children(e, depth)
		if err != nil {
			return nil, err
		}
		var out []byte
		for _, p := range parts {
			b, err := r.octets(p, tagOctetString, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: tag 0x%02x, want an OCTET STRING", ErrMalformed, e.tag)
}

// oidOf decodes an OBJECT IDENTIFIER element.
func oidOf(e element) (asn1.ObjectIdentifier, error) {
	if e.tag != tagOID {
		return nil, fmt.Errorf("%w: tag 0x%02x, want an OBJECT IDENTIFIER", ErrMalformed, e.tag)
	}
	var oid asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(derTLV(tagOID, e.body), &oid)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: bad OBJECT IDENTIFIER", ErrMalformed)
	}
	return oid, nil
}

// intOf decodes an INTEGER element (two's complement, non-minimal encodings tolerated).
func intOf(e element) (*big.Int, error) {
	if e.tag != tagInteger || len(e.body) == 0 {
		return nil, fmt.Errorf("%w: bad INTEGER", ErrMalformed)
	}
	if len(e.body) > 64 {
		return nil, fmt.Errorf("%w: INTEGER of %d octets", ErrTooLarge, len(e.body))
	}
	n := new(big.Int).SetBytes(e.body)
	if e.body[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(e.body))))
	}
	return n, nil
}

// smallInt decodes an INTEGER that must fit in an int (versions).
func smallInt(e element) (int, error) {
	n, err := intOf(e)
	if err != nil {
		return 0, err
	}
	if !n.IsInt64() || n.Int64() < 0 || n.Int64() > 1000 {
		return 0, fmt.Errorf("%w: version out of range", ErrMalformed)
	}
	return int(n.Int64()), nil
}

// timeOf decodes a UTCTime or GeneralizedTime element.
func timeOf(e element) (time.Time, error) {
	if e.tag != tagUTCTime && e.tag != tagGeneralized {
		return time.Time{}, fmt.Errorf("%w: tag 0x%02x, want a time", ErrMalformed, e.tag)
	}
	var t time.Time
	rest, err := asn1.Unmarshal(derTLV(e.tag, e.body), &t)
	if err != nil || len(rest) != 0 {
		return time.Time{}, fmt.Errorf("%w: bad time value", ErrMalformed)
	}
	return t, nil
}

// DER writer.

var bigOne = big.NewInt(1)

// derLength appends the DER length octets of n.
func derLength(dst []byte, n int) []byte {
	if n < 0x80 {
		return append(dst, byte(n))
	}
	var tmp [8]byte
	i := len(tmp)
	for v := n; v > 0; v >>= 8 {
		i--
		tmp[i] = byte(v)
	}
	dst = append(dst, 0x80|byte(len(tmp)-i))
	return append(dst, tmp[i:]...)
}

// derTLV encodes tag, DER length and the concatenation of parts.
func derTLV(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n+6)
	out = append(out, tag)
	out = derLength(out, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// derSetOf encodes a SET OF with its members sorted as DER requires (X.690 11.6).
func derSetOf(tag byte, members [][]byte) []byte {
	sorted := append([][]byte(nil), members...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	return derTLV(tag, sorted...)
}

// derOID encodes an OBJECT IDENTIFIER.
func derOID(oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		panic("cms: bad built-in OID " + oid.String()) // only package constants are encoded
	}
	return b
}

// derInt encodes an INTEGER.
func derInt(n *big.Int) []byte {
	b, err := asn1.Marshal(n)
	if err != nil {
		panic("cms: cannot encode INTEGER: " + err.Error())
	}
	return b
}

// derTime encodes t in UTC as UTCTime for 1950-2049 and GeneralizedTime otherwise (RFC 5652, 11.3).
func derTime(t time.Time) []byte {
	t = t.UTC().Truncate(time.Second)
	if y := t.Year(); y >= 1950 && y < 2050 {
		return derTLV(tagUTCTime, []byte(t.Format("060102150405Z")))
	}
	return derTLV(tagGeneralized, []byte(t.Format("20060102150405Z")))
}
