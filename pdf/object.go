package pdf

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Object is one PDF object: nil (null), Bool, Integer, Real, String, Name, Array, Dict, Ref or *Stream.
type Object any

// Bool is a PDF boolean.
type Bool bool

// Integer is a PDF integer.
type Integer int64

// Real is a PDF real number.
type Real float64

// Name is a PDF name, without the leading slash and with #xx escapes decoded.
type Name string

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary. A key whose value is null is treated as absent, as the PDF specification says.
type Dict map[Name]Object

// Ref is an indirect reference "Num Gen R".
type Ref struct {
	Num uint32
	Gen uint16
}

func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// Span is a byte range [Start, End) of the file. Start is -1 when the object was not read directly from the file
// (for example from an object stream, or built in memory).
type Span struct {
	Start, End int64
}

// String is a PDF string. Hex tells whether it was written as a hexadecimal string; Pos is where the whole token
// (including its delimiters) lies in the file.
type String struct {
	Value []byte
	Hex   bool
	Pos   Span
}

// Stream is a PDF stream. The data is not held in memory: Data gives its position in the file (the raw, still
// encoded bytes). Streams built in memory for writing carry their raw bytes in Raw instead.
type Stream struct {
	Dict Dict
	// Data is the position of the raw stream data in the file (Start -1 for in-memory streams).
	Data Span
	// Raw holds the encoded data of a stream built in memory.
	Raw []byte

	crypt *streamCrypt // how to decrypt Data, for a stream of an encrypted document
}

// Get returns the value of key k, or nil.
func (d Dict) Get(k Name) Object { return d[k] }

// Name returns the value of key k if it is a name.
func (d Dict) Name(k Name) (Name, bool) {
	n, ok := d[k].(Name)
	return n, ok
}

// Int returns the value of key k if it is an integer.
func (d Dict) Int(k Name) (int64, bool) {
	n, ok := d[k].(Integer)
	return int64(n), ok
}

// Clone returns a shallow copy of d.
func (d Dict) Clone() Dict {
	c := make(Dict, len(d))
	for k, v := range d {
		c[k] = v
	}
	return c
}

// Num returns a number object as float64.
func Num(o Object) (float64, bool) {
	switch v := o.(type) {
	case Integer:
		return float64(v), true
	case Real:
		return float64(v), true
	}
	return 0, false
}

// Equal reports whether two objects have the same value. String positions are ignored; streams are equal when
// their dictionaries are equal and their data spans have the same length (compare the bytes separately, see
// Reader.StreamsEqual).
func Equal(a, b Object) bool {
	return equalDepth(a, b, 0)
}

func equalDepth(a, b Object, depth int) bool {
	if depth > 1000 {
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case Bool:
		y, ok := b.(Bool)
		return ok && x == y
	case Integer:
		switch y := b.(type) {
		case Integer:
			return x == y
		case Real:
			return float64(x) == float64(y)
		}
		return false
	case Real:
		switch y := b.(type) {
		case Integer:
			return float64(x) == float64(y)
		case Real:
			return x == y
		}
		return false
	case Name:
		y, ok := b.(Name)
		return ok && x == y
	case String:
		y, ok := b.(String)
		return ok && bytes.Equal(x.Value, y.Value)
	case Ref:
		y, ok := b.(Ref)
		return ok && x == y
	case Array:
		y, ok := b.(Array)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalDepth(x[i], y[i], depth+1) {
				return false
			}
		}
		return true
	case Dict:
		y, ok := b.(Dict)
		return ok && dictEqual(x, y, depth)
	case *Stream:
		y, ok := b.(*Stream)
		if !ok {
			return false
		}
		if x.Raw != nil || y.Raw != nil {
			return bytes.Equal(x.Raw, y.Raw) && dictEqual(x.Dict, y.Dict, depth)
		}
		return x.Data.End-x.Data.Start == y.Data.End-y.Data.Start && dictEqual(x.Dict, y.Dict, depth)
	}
	return false
}

func dictEqual(x, y Dict, depth int) bool {
	n := 0
	for k, v := range x {
		if v == nil {
			continue
		}
		n++
		if !equalDepth(v, y[k], depth+1) {
			return false
		}
	}
	for _, v := range y {
		if v != nil {
			n--
		}
	}
	return n == 0
}

// DiffKeys returns the keys whose values differ between two dictionaries (a null value counts as absent), sorted.
func DiffKeys(a, b Dict) []Name {
	var out []Name
	seen := map[Name]bool{}
	for k, v := range a {
		seen[k] = true
		if !Equal(v, b[k]) {
			out = append(out, k)
		}
	}
	for k, v := range b {
		if !seen[k] && v != nil {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// AppendObject appends the PDF serialization of o to dst. Dictionary keys are written sorted (with /Type first) so
// that output is deterministic. Streams cannot be serialized here (see Update).
func AppendObject(dst []byte, o Object) []byte {
	switch v := o.(type) {
	case nil:
		return append(dst, "null"...)
	case Bool:
		if v {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Integer:
		return strconv.AppendInt(dst, int64(v), 10)
	case Real:
		return appendReal(dst, float64(v))
	case Name:
		return appendName(dst, v)
	case String:
		if v.Hex {
			return appendHexString(dst, v.Value)
		}
		return appendLiteralString(dst, v.Value)
	case Ref:
		dst = strconv.AppendUint(dst, uint64(v.Num), 10)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(v.Gen), 10)
		return append(dst, " R"...)
	case Array:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = AppendObject(dst, e)
		}
		return append(dst, ']')
	case Dict:
		return appendDict(dst, v)
	case Raw:
		return append(dst, v...)
	case *Stream:
		panic("pdf: AppendObject on a stream")
	}
	panic(fmt.Sprintf("pdf: AppendObject on %T", o))
}

func appendDict(dst []byte, d Dict) []byte {
	keys := make([]string, 0, len(d))
	for k, v := range d {
		if v != nil && k != "Type" {
			keys = append(keys, string(k))
		}
	}
	sort.Strings(keys)
	dst = append(dst, "<<"...)
	if t, ok := d["Type"]; ok && t != nil {
		dst = append(dst, "/Type "...)
		dst = AppendObject(dst, t)
	}
	for _, k := range keys {
		if len(dst) > 0 && dst[len(dst)-1] != '<' {
			dst = append(dst, ' ')
		}
		dst = appendName(dst, Name(k))
		dst = append(dst, ' ')
		dst = AppendObject(dst, d[Name(k)])
	}
	return append(dst, ">>"...)
}

func appendReal(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	// Four decimals when they are exact (what computed positions need); otherwise the shortest form that reads
	// back as the same number, so that a value copied from the file (a /MediaBox of 595.27563) is written as it
	// was and a rewritten page does not change it.
	s := strconv.FormatFloat(f, 'f', 4, 64)
	if v, err := strconv.ParseFloat(s, 64); err != nil || v != f {
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	s = trimZeros(s)
	return append(dst, s...)
}

func trimZeros(s string) string {
	if !bytes.ContainsRune([]byte(s), '.') {
		return s
	}
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

func appendName(dst []byte, n Name) []byte {
	dst = append(dst, '/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '#' || isDelim(c) {
			dst = append(dst, '#', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

const hexDigits = "0123456789ABCDEF"

func appendHexString(dst []byte, b []byte) []byte {
	dst = append(dst, '<')
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return append(dst, '>')
}

func appendLiteralString(dst []byte, b []byte) []byte {
	dst = append(dst, '(')
	for _, c := range b {
		switch c {
		case '(', ')', '\\':
			dst = append(dst, '\\', c)
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\n':
			dst = append(dst, '\\', 'n')
		default:
			if c < 0x20 || c > 0x7e {
				dst = append(dst, '\\', '0'+(c>>6), '0'+((c>>3)&7), '0'+(c&7))
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, ')')
}

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}
