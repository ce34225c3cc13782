package pades

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/trustsign/trustsign/pdf"
)

// embeddedFont is a TrueType font from which the stamp embeds a subset, as a Type0 font with an Identity-H
// encoding (two-byte glyph ids) and a ToUnicode map, so that every Polish letter renders and copies as text.
type embeddedFont struct {
	name   string
	ttf    []byte
	sf     *sfnt.Font
	upem   int
	tables map[string][]byte
}

var (
	fontsOnce             sync.Once
	fontRegular, fontBold *embeddedFont
	fontsErr              error
)

func stampFonts() (*embeddedFont, *embeddedFont, error) {
	fontsOnce.Do(func() {
		if fontRegular, fontsErr = loadFont("GoRegular", goregular.TTF); fontsErr != nil {
			return
		}
		fontBold, fontsErr = loadFont("GoBold", gobold.TTF)
	})
	return fontRegular, fontBold, fontsErr
}

func loadFont(name string, b []byte) (*embeddedFont, error) {
	sf, err := sfnt.Parse(b)
	if err != nil {
		return nil, err
	}
	f := &embeddedFont{name: name, ttf: b, sf: sf, upem: int(sf.UnitsPerEm()), tables: map[string][]byte{}}
	if len(b) < 12 {
		return nil, errors.New("font too short")
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	for i := 0; i < n; i++ {
		e := b[12+16*i:]
		tag := string(e[:4])
		off, ln := binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:])
		if int(off)+int(ln) > len(b) {
			return nil, fmt.Errorf("font table %q out of bounds", tag)
		}
		f.tables[tag] = b[off : off+ln]
	}
	for _, t := range []string{"head", "hhea", "maxp", "loca", "glyf", "hmtx"} {
		if f.tables[t] == nil {
			return nil, fmt.Errorf("font lacks table %q", t)
		}
	}
	return f, nil
}

// glyphs maps text to glyph ids; unknown characters map to glyph 0 (.notdef).
func (f *embeddedFont) glyphs(s string) []sfnt.GlyphIndex {
	var buf sfnt.Buffer
	var out []sfnt.GlyphIndex
	for _, r := range s {
		g, err := f.sf.GlyphIndex(&buf, r)
		if err != nil {
			g = 0
		}
		out = append(out, g)
	}
	return out
}

// advance returns the advance width of glyph g in thousandths of the font size.
func (f *embeddedFont) advance(g sfnt.GlyphIndex) float64 {
	var buf sfnt.Buffer
	a, err := f.sf.GlyphAdvance(&buf, g, fixed.I(f.upem), font.HintingNone)
	if err != nil {
		return 0
	}
	return float64(a) / 64 * 1000 / float64(f.upem)
}

// width returns the width of s at the given font size.
func (f *embeddedFont) width(s string, size float64) float64 {
	w := 0.0
	for _, g := range f.glyphs(s) {
		w += f.advance(g)
	}
	return w * size / 1000
}

// fontUse collects the characters a font draws, so that it can be embedded as a subset.
type fontUse struct {
	f     *embeddedFont
	runes map[sfnt.GlyphIndex]rune
}

func (u *fontUse) encode(s string) []byte {
	if u.runes == nil {
		u.runes = map[sfnt.GlyphIndex]rune{}
	}
	rs := []rune(s)
	var b []byte
	for i, g := range u.f.glyphs(s) {
		if _, ok := u.runes[g]; !ok && g != 0 {
			u.runes[g] = rs[i]
		}
		b = append(b, byte(g>>8), byte(g))
	}
	return b
}

// add writes the font objects (Type0, CIDFontType2, descriptor, subset font file, ToUnicode) into the update and
// returns the Type0 font's reference.
func (u *fontUse) add(up *pdf.Update) (pdf.Ref, error) {
	gids := make([]int, 0, len(u.runes))
	for g := range u.runes {
		gids = append(gids, int(g))
	}
	sort.Ints(gids)
	sub, err := u.f.subset(gids)
	if err != nil {
		return pdf.Ref{}, err
	}
	h := sha256.Sum256(append([]byte(u.f.name), sub...))
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + h[i]%26
	}
	base := pdf.Name(string(tag) + "+" + u.f.name)

	var buf sfnt.Buffer
	ppem := fixed.I(u.f.upem)
	bounds, _ := u.f.sf.Bounds(&buf, ppem, font.HintingNone)
	metrics, _ := u.f.sf.Metrics(&buf, ppem, font.HintingNone)
	scale := func(v fixed.Int26_6) pdf.Integer { return pdf.Integer(int(v) * 1000 / 64 / u.f.upem) }
	ff := up.Add(&pdf.Stream{Dict: pdf.Dict{"Filter": pdf.Name("FlateDecode"), "Length1": pdf.Integer(len(sub))}, Raw: deflate(sub)})
	fd := up.Add(pdf.Dict{
		"Type":        pdf.Name("FontDescriptor"),
		"FontName":    base,
		"Flags":       pdf.Integer(32),
		"FontBBox":    pdf.Array{scale(bounds.Min.X), -scale(bounds.Max.Y), scale(bounds.Max.X), -scale(bounds.Min.Y)},
		"ItalicAngle": pdf.Integer(0),
		"Ascent":      scale(metrics.Ascent),
		"Descent":     -scale(metrics.Descent),
		"CapHeight":   scale(metrics.CapHeight),
		"StemV":       pdf.Integer(80),
		"FontFile2":   ff,
	})
	var w pdf.Array
	for _, g := range gids {
		w = append(w, pdf.Integer(g), pdf.Array{pdf.Integer(int(u.f.advance(sfnt.GlyphIndex(g)) + 0.5))})
	}
	cid := up.Add(pdf.Dict{
		"Type":           pdf.Name("Font"),
		"Subtype":        pdf.Name("CIDFontType2"),
		"BaseFont":       base,
		"CIDSystemInfo":  pdf.Dict{"Registry": pdf.String{Value: []byte("Adobe")}, "Ordering": pdf.String{Value: []byte("Identity")}, "Supplement": pdf.Integer(0)},
		"FontDescriptor": fd,
		"W":              w,
		"DW":             pdf.Integer(1000),
		"CIDToGIDMap":    pdf.Name("Identity"),
	})
	tu := up.Add(&pdf.Stream{Dict: pdf.Dict{"Filter": pdf.Name("FlateDecode")}, Raw: deflate(u.toUnicode(gids))})
	return up.Add(pdf.Dict{
		"Type":            pdf.Name("Font"),
		"Subtype":         pdf.Name("Type0"),
		"BaseFont":        base,
		"Encoding":        pdf.Name("Identity-H"),
		"DescendantFonts": pdf.Array{cid},
		"ToUnicode":       tu,
	}), nil
}

func (u *fontUse) toUnicode(gids []int) []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(gids); i += 100 {
		j := min(i+100, len(gids))
		fmt.Fprintf(&b, "%d beginbfchar\n", j-i)
		for _, g := range gids[i:j] {
			r := u.runes[sfnt.GlyphIndex(g)]
			fmt.Fprintf(&b, "<%04X> <", g)
			for _, c := range utf16Units(r) {
				fmt.Fprintf(&b, "%04X", c)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

func utf16Units(r rune) []uint16 {
	if r < 0x10000 {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xD800 + (r >> 10)), uint16(0xDC00 + (r & 0x3FF))}
}

// subset returns a TrueType font keeping the outlines of the given glyphs (and of the components of composite
// ones) and glyph 0; every other glyph is emptied, so glyph ids do not change.
func (f *embeddedFont) subset(gids []int) ([]byte, error) {
	head, loca, glyf := f.tables["head"], f.tables["loca"], f.tables["glyf"]
	if len(head) < 54 {
		return nil, errors.New("font: short head table")
	}
	longLoca := binary.BigEndian.Uint16(head[50:]) != 0
	n := f.sf.NumGlyphs()
	offset := func(i int) (int, error) {
		var o int
		if longLoca {
			if 4*i+4 > len(loca) {
				return 0, errors.New("font: short loca")
			}
			o = int(binary.BigEndian.Uint32(loca[4*i:]))
		} else {
			if 2*i+2 > len(loca) {
				return 0, errors.New("font: short loca")
			}
			o = 2 * int(binary.BigEndian.Uint16(loca[2*i:]))
		}
		if o > len(glyf) {
			return 0, errors.New("font: loca beyond glyf")
		}
		return o, nil
	}
	glyph := func(i int) ([]byte, error) {
		a, err := offset(i)
		if err != nil {
			return nil, err
		}
		b, err := offset(i + 1)
		if err != nil || b < a {
			return nil, errors.New("font: bad loca")
		}
		return glyf[a:b], nil
	}
	keep := map[int]bool{0: true}
	queue := append([]int{}, gids...)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if g < 0 || g >= n || keep[g] && g != 0 {
			continue
		}
		keep[g] = true
		data, err := glyph(g)
		if err != nil {
			return nil, err
		}
		if len(data) >= 10 && int16(binary.BigEndian.Uint16(data)) < 0 {
			p := 10
			for p+4 <= len(data) {
				flags := binary.BigEndian.Uint16(data[p:])
				comp := int(binary.BigEndian.Uint16(data[p+2:]))
				if !keep[comp] {
					queue = append(queue, comp)
				}
				p += 4
				if flags&0x0001 != 0 {
					p += 4
				} else {
					p += 2
				}
				switch {
				case flags&0x0008 != 0:
					p += 2
				case flags&0x0040 != 0:
					p += 4
				case flags&0x0080 != 0:
					p += 8
				}
				if flags&0x0020 == 0 {
					break
				}
			}
		}
	}
	var newGlyf, newLoca []byte
	for i := 0; i < n; i++ {
		newLoca = binary.BigEndian.AppendUint32(newLoca, uint32(len(newGlyf)))
		if keep[i] {
			data, err := glyph(i)
			if err != nil {
				return nil, err
			}
			newGlyf = append(newGlyf, data...)
			for len(newGlyf)%4 != 0 {
				newGlyf = append(newGlyf, 0)
			}
		}
	}
	newLoca = binary.BigEndian.AppendUint32(newLoca, uint32(len(newGlyf)))
	newHead := append([]byte{}, head...)
	binary.BigEndian.PutUint16(newHead[50:], 1)
	binary.BigEndian.PutUint32(newHead[8:], 0)
	tables := map[string][]byte{"head": newHead, "loca": newLoca, "glyf": newGlyf}
	for _, t := range []string{"hhea", "maxp", "hmtx", "cvt ", "fpgm", "prep", "cmap", "OS/2", "name"} {
		if b := f.tables[t]; b != nil {
			tables[t] = b
		}
	}
	if post := f.tables["post"]; len(post) >= 32 {
		p := append([]byte{}, post[:32]...)
		binary.BigEndian.PutUint32(p, 0x00030000) // version 3: no glyph names
		tables["post"] = p
	}
	return writeTTF(tables), nil
}

func writeTTF(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	nt := len(tags)
	es := 0
	for 1<<(es+1) <= nt {
		es++
	}
	sr := (1 << es) * 16
	var out []byte
	out = binary.BigEndian.AppendUint32(out, 0x00010000)
	out = binary.BigEndian.AppendUint16(out, uint16(nt))
	out = binary.BigEndian.AppendUint16(out, uint16(sr))
	out = binary.BigEndian.AppendUint16(out, uint16(es))
	out = binary.BigEndian.AppendUint16(out, uint16(nt*16-sr))
	off := 12 + 16*nt
	var body []byte
	headOff := 0
	for _, t := range tags {
		d := tables[t]
		out = append(out, t...)
		out = binary.BigEndian.AppendUint32(out, checksum(d))
		out = binary.BigEndian.AppendUint32(out, uint32(off+len(body)))
		out = binary.BigEndian.AppendUint32(out, uint32(len(d)))
		if t == "head" {
			headOff = off + len(body)
		}
		body = append(body, d...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	out = append(out, body...)
	binary.BigEndian.PutUint32(out[headOff+8:], 0xB1B0AFBA-checksum(out))
	return out
}

func checksum(b []byte) uint32 {
	var s uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		s += binary.BigEndian.Uint32(w[:])
	}
	return s
}
