// Package pdftest builds small PDF files byte by byte for tests: classic cross-reference tables,
// cross-reference streams with object streams, hybrid files, and hand-made incremental updates (the raw material
// of attack tests). It is for tests only and checks nothing.
package pdftest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"sort"
)

// Object is the body of one indirect object (what goes between "N 0 obj" and "endobj"). Streams are written
// as a dictionary without /Length plus Stream; the builder adds /Length.
type Object struct {
	Body   string
	Stream []byte
	// Compress puts the object into an object stream (cross-reference stream files only; never for streams).
	Compress bool
}

// Dict returns an object with the given dictionary or other body.
func Dict(body string) Object { return Object{Body: body} }

// StreamObj returns a stream object; dict must be a dictionary without /Length (e.g. "<< /Type /XObject >>").
func StreamObj(dict string, data []byte) Object { return Object{Body: dict, Stream: data} }

// Options controls how a file or update is written.
type Options struct {
	// XrefStream writes a cross-reference stream (and puts objects marked Compress into an object stream).
	XrefStream bool
	// Hybrid writes a classic table plus a cross-reference stream named by /XRefStm for the compressed objects.
	Hybrid bool
	// Trailer holds extra trailer entries, e.g. "/Info 9 0 R" or "/Encrypt 9 0 R".
	Trailer string
	// Header replaces "%PDF-1.7".
	Header string
	// ObjStmData, when set, replaces the compressed data of the object stream (for deflate bombs and the like).
	ObjStmData []byte
}

// Build writes a complete file. objs maps object numbers to objects; root is the catalog's number.
func Build(objs map[int]Object, root int, o Options) []byte {
	var b bytes.Buffer
	h := o.Header
	if h == "" {
		h = "%PDF-1.7"
	}
	b.WriteString(h + "\n%\xe2\xe3\xcf\xd3\n")
	return write(&b, objs, root, -1, o)
}

// Append writes an incremental update after prev: the objects, then a cross-reference section whose /Prev is
// prev's last startxref.
func Append(prev []byte, objs map[int]Object, root int, o Options) []byte {
	var b bytes.Buffer
	b.Write(prev)
	if len(prev) > 0 && prev[len(prev)-1] != '\n' && prev[len(prev)-1] != '\r' {
		b.WriteByte('\n')
	}
	return write(&b, objs, root, LastStartXref(prev), o)
}

// lastSize returns the last /Size of a file.
func lastSize(b []byte) int {
	i := bytes.LastIndex(b, []byte("/Size"))
	if i < 0 {
		return 0
	}
	var n int
	fmt.Sscan(string(b[i+5:min(len(b), i+30)]), &n)
	return n
}

// LastStartXref returns the offset named by the last startxref of a file.
func LastStartXref(b []byte) int64 {
	i := bytes.LastIndex(b, []byte("startxref"))
	if i < 0 {
		return -1
	}
	var off int64
	fmt.Sscan(string(bytes.TrimSpace(b[i+len("startxref"):])), &off)
	return off
}

type entry struct {
	typ      int
	off, idx int
}

func write(b *bytes.Buffer, objs map[int]Object, root int, prev int64, o Options) []byte {
	nums := make([]int, 0, len(objs))
	maxNum := lastSize(b.Bytes()) - 1
	if maxNum < 0 {
		maxNum = 0
	}
	for n := range objs {
		nums = append(nums, n)
		if n > maxNum {
			maxNum = n
		}
	}
	sort.Ints(nums)
	entries := map[int]entry{}
	var compressed []int
	for _, n := range nums {
		obj := objs[n]
		if obj.Compress && (o.XrefStream || o.Hybrid) && obj.Stream == nil {
			compressed = append(compressed, n)
			continue
		}
		entries[n] = entry{typ: 1, off: b.Len()}
		writeObj(b, n, obj)
	}
	if len(compressed) > 0 {
		stmNum := maxNum + 1
		maxNum++
		var hdr, body bytes.Buffer
		for i, n := range compressed {
			fmt.Fprintf(&hdr, "%d %d ", n, body.Len())
			body.WriteString(objs[n].Body)
			body.WriteString("\n")
			entries[n] = entry{typ: 2, off: stmNum, idx: i}
		}
		data := Deflate(append(hdr.Bytes(), body.Bytes()...))
		if o.ObjStmData != nil {
			data = o.ObjStmData
		}
		entries[stmNum] = entry{typ: 1, off: b.Len()}
		writeObj(b, stmNum, StreamObj(fmt.Sprintf("<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode >>", len(compressed), hdr.Len()), data))
	}
	rest := fmt.Sprintf("/Root %d 0 R", root)
	if prev >= 0 {
		rest += fmt.Sprintf(" /Prev %d", prev)
	}
	if o.Trailer != "" {
		rest += " " + o.Trailer
	}
	trailer := fmt.Sprintf("/Size %d %s", maxNum+1, rest)
	switch {
	case o.XrefStream:
		xnum := maxNum + 1
		trailer = fmt.Sprintf("/Size %d %s", xnum+1, rest)
		xoff := b.Len()
		entries[xnum] = entry{typ: 1, off: xoff}
		data, index := xrefStreamData(entries, prev < 0)
		writeObj(b, xnum, StreamObj(fmt.Sprintf("<< /Type /XRef %s /W [1 4 2] /Index [%s] /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 7 >> >>", trailer, index), Deflate(pngUp(data, 7))))
		fmt.Fprintf(b, "startxref\n%d\n%%%%EOF\n", xoff)
	default:
		var xsOff int
		if o.Hybrid && len(compressed) > 0 {
			xnum := maxNum + 1
			trailer = fmt.Sprintf("/Size %d %s", xnum+1, rest)
			xsOff = b.Len()
			ce := map[int]entry{}
			for n, e := range entries {
				if e.typ == 2 {
					ce[n] = e
				}
			}
			data, index := xrefStreamData(ce, false)
			writeObj(b, xnum, StreamObj(fmt.Sprintf("<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] >>", xnum+1, index), data))
			entries[xnum] = entry{typ: 1, off: xsOff}
			trailer += fmt.Sprintf(" /XRefStm %d", xsOff)
		}
		xoff := b.Len()
		b.WriteString("xref\n")
		if prev < 0 {
			b.WriteString("0 1\n0000000000 65535 f\r\n")
		}
		var tn []int
		for n, e := range entries {
			if e.typ == 1 {
				tn = append(tn, n)
			}
		}
		sort.Ints(tn)
		for i := 0; i < len(tn); {
			j := i
			for j+1 < len(tn) && tn[j+1] == tn[j]+1 {
				j++
			}
			fmt.Fprintf(b, "%d %d\n", tn[i], j-i+1)
			for k := i; k <= j; k++ {
				fmt.Fprintf(b, "%010d 00000 n\r\n", entries[tn[k]].off)
			}
			i = j + 1
		}
		fmt.Fprintf(b, "trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n", trailer, xoff)
	}
	return b.Bytes()
}

func writeObj(b *bytes.Buffer, n int, o Object) {
	fmt.Fprintf(b, "%d 0 obj\n", n)
	if o.Stream != nil {
		body := o.Body
		i := bytes.LastIndex([]byte(body), []byte(">>"))
		fmt.Fprintf(b, "%s /Length %d >>\nstream\n", body[:i], len(o.Stream))
		b.Write(o.Stream)
		b.WriteString("\nendstream")
	} else {
		b.WriteString(o.Body)
	}
	b.WriteString("\nendobj\n")
}

func xrefStreamData(entries map[int]entry, withZero bool) ([]byte, string) {
	var nums []int
	for n := range entries {
		nums = append(nums, n)
	}
	if withZero {
		nums = append(nums, 0)
	}
	sort.Ints(nums)
	var data []byte
	var index bytes.Buffer
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		fmt.Fprintf(&index, "%d %d ", nums[i], j-i+1)
		for k := i; k <= j; k++ {
			e, ok := entries[nums[k]]
			if !ok {
				data = append(data, 0, 0, 0, 0, 0, 0xff, 0xff)
				continue
			}
			f2, f3 := e.off, 0
			if e.typ == 2 {
				f3 = e.idx
			}
			data = append(data, byte(e.typ), byte(f2>>24), byte(f2>>16), byte(f2>>8), byte(f2), byte(f3>>8), byte(f3))
		}
		i = j + 1
	}
	return data, string(bytes.TrimSpace(index.Bytes()))
}

func pngUp(data []byte, cols int) []byte {
	var out []byte
	prev := make([]byte, cols)
	for i := 0; i+cols <= len(data); i += cols {
		out = append(out, 2)
		for j := 0; j < cols; j++ {
			out = append(out, data[i+j]-prev[j])
		}
		copy(prev, data[i:i+cols])
	}
	return out
}

// Deflate compresses b with zlib.
func Deflate(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// Simple returns the objects of a document with n pages, each with an uncompressed content stream showing text,
// and a Helvetica font. Numbering: 1 catalog, 2 pages, 3 font, then page k (k from 0) is 4+2k and its content
// 5+2k.
func Simple(n int, text string) map[int]Object {
	objs := map[int]Object{
		1: Dict("<< /Type /Catalog /Pages 2 0 R >>"),
		3: Dict("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
	}
	var kids bytes.Buffer
	for k := 0; k < n; k++ {
		p, c := 4+2*k, 5+2*k
		fmt.Fprintf(&kids, "%d 0 R ", p)
		objs[p] = Dict(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", c))
		objs[c] = StreamObj("<< >>", []byte(fmt.Sprintf("BT /F1 24 Tf 72 720 Td (%s - page %d) Tj ET", text, k+1)))
	}
	objs[2] = Dict(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids.String(), n))
	return objs
}
