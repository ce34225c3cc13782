package pades

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	_ "time/tzdata" // the stamp's Europe/Warsaw, whatever the host has installed
	"unicode"

	"github.com/trustsign/trustsign/pdf"
)

// Stamp texts.
const (
	stampTitle  = "PODPIS ZAUFANY"
	stampFooter = "Dokument podpisany elektronicznie podpisem zaufanym"
)

// Default stamp size and margin, in points.
const (
	stampWidth  = 250.0
	stampHeight = 78.0
	stampMargin = 36.0
)

// ErrPageBox: the page that would carry the visible stamp has a box (CropBox, or MediaBox) no viewer could show:
// not finite, beyond any real page, or without area.
var ErrPageBox = errors.New("pades: the page cannot show a stamp")

// Bounds of a page box that can carry a stamp, in points: ISO 32000 allows 14,400 (200 inches) in default user
// space; a large margin over that keeps big drawings signable and refuses boxes that only an attack would make.
const (
	maxCoordinate = 1e6
	minPageSide   = 1.0
)

// placement is where a widget goes: its rectangle in default user space and the matrix that keeps the
// appearance upright on a rotated page.
type placement struct {
	rect   [4]float64 // llx lly urx ury, user space
	w, h   float64    // size of the appearance as seen (BBox)
	matrix pdf.Array
}

// place computes the widget rectangle for a box given in visual coordinates (x, y from the bottom-left corner of
// the page as displayed, after /Rotate).
func place(p pdf.Page, box *[4]float64) (placement, error) {
	c := p.CropBox
	for _, v := range c {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxCoordinate {
			return placement{}, fmt.Errorf("%w: the page's box %v is outside of any page", ErrPageBox, c)
		}
	}
	W, H := c[2]-c[0], c[3]-c[1]
	if W < minPageSide || H < minPageSide {
		return placement{}, fmt.Errorf("%w: the page's box %v has no room for a stamp", ErrPageBox, c)
	}
	vw, vh := W, H
	if p.Rotate == 90 || p.Rotate == 270 {
		vw, vh = H, W
	}
	var x, y, w, h float64
	if box != nil {
		x, y, w, h = box[0], box[1], box[2], box[3]
		if w <= 0 || h <= 0 || math.IsNaN(x+y+w+h) || math.IsInf(x+y+w+h, 0) {
			return placement{}, fmt.Errorf("%w: stamp rectangle must have a positive width and height", ErrInvalidOptions)
		}
	} else {
		w, h = stampWidth, stampHeight
		if w > vw-2*stampMargin {
			w = math.Max(vw-2*stampMargin, vw/2)
		}
		if h > vh-2*stampMargin {
			h = math.Max(vh-2*stampMargin, vh/4)
		}
		x, y = vw-stampMargin-w, stampMargin
		if x < 0 {
			x = 0
		}
	}
	// Map the visual corners to user space.
	toUser := func(u, v float64) (float64, float64) {
		switch p.Rotate {
		case 90:
			return c[2] - v, c[1] + u
		case 180:
			return c[2] - u, c[3] - v
		case 270:
			return c[0] + v, c[3] - u
		}
		return c[0] + u, c[1] + v
	}
	x1, y1 := toUser(x, y)
	x2, y2 := toUser(x+w, y+h)
	pl := placement{rect: [4]float64{math.Min(x1, x2), math.Min(y1, y2), math.Max(x1, x2), math.Max(y1, y2)}, w: w, h: h}
	switch p.Rotate {
	case 90:
		pl.matrix = pdf.Array{pdf.Integer(0), pdf.Integer(1), pdf.Integer(-1), pdf.Integer(0), pdf.Integer(0), pdf.Integer(0)}
	case 180:
		pl.matrix = pdf.Array{pdf.Integer(-1), pdf.Integer(0), pdf.Integer(0), pdf.Integer(-1), pdf.Integer(0), pdf.Integer(0)}
	case 270:
		pl.matrix = pdf.Array{pdf.Integer(0), pdf.Integer(-1), pdf.Integer(1), pdf.Integer(0), pdf.Integer(0), pdf.Integer(0)}
	}
	return pl, nil
}

// stampLine is one line of the stamp.
type stampLine struct {
	text string
	bold bool
	size float64
}

// warsaw is the stamp's default time zone: the one trustsign's pages show times in.
var warsaw = func() *time.Location {
	l, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		return time.UTC
	}
	return l
}()

// stampTime is the signing time as the stamp shows it: local time in loc (nil: Europe/Warsaw) with the zone's
// abbreviation, e.g. "2026-12-03 18:04:05 CET", as the pages show it.
func stampTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = warsaw
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// stampText drops the characters a stamp must not draw: controls and Unicode bidirectional controls (which would
// reorder the name around them).
func stampText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Bidi_Control) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s)
}

// stampAppearance adds the stamp's appearance stream (and its fonts) to the update.
func stampAppearance(up *pdf.Update, pl placement, name, title, footer string, t time.Time, loc *time.Location) (pdf.Ref, error) {
	if title == "" {
		title = stampTitle
	}
	if footer == "" {
		footer = stampFooter
	}
	reg, bold, err := stampFonts()
	if err != nil {
		return pdf.Ref{}, fmt.Errorf("pades: stamp font: %w", err)
	}
	lines := []stampLine{
		{stampText(title), true, 12},
		{stampText(name), true, 10},
		{"Data: " + stampTime(t, loc), false, 8.5},
		{stampText(footer), false, 7.5},
	}
	w, h := pl.w, pl.h
	pad := math.Min(6, math.Min(w, h)/10)
	// Fit: shrink every line to the width, then all lines to the height.
	total := 0.0
	for i := range lines {
		f := reg
		if lines[i].bold {
			f = bold
		}
		if tw := f.width(lines[i].text, lines[i].size); tw > w-2*pad && tw > 0 {
			lines[i].size *= (w - 2*pad) / tw
		}
		total += lines[i].size * 1.25
	}
	if total > h-2*pad && total > 0 {
		k := (h - 2*pad) / total
		for i := range lines {
			lines[i].size *= k
		}
		total *= k
	}
	uses := []*fontUse{{f: reg}, {f: bold}}
	var c bytes.Buffer
	fmt.Fprintf(&c, "q\n0.94 0.96 1 rg\n0 0 %s %s re f\n", num(w), num(h))
	lw := math.Max(0.5, math.Min(1.5, math.Min(w, h)/40))
	fmt.Fprintf(&c, "0.11 0.30 0.60 RG\n%s w\n%s %s %s %s re S\n", num(lw), num(lw/2), num(lw/2), num(w-lw), num(h-lw))
	y := h - pad - (h-2*pad-total)/2
	for i, l := range lines {
		use, res := uses[0], "/F1"
		if l.bold {
			use, res = uses[1], "/F2"
		}
		y -= l.size * 1.1
		x := math.Max(pad, (w-use.f.width(l.text, l.size))/2)
		col := "0.08 0.16 0.35"
		if i == 0 {
			col = "0.11 0.30 0.60"
		}
		fmt.Fprintf(&c, "BT\n%s rg\n%s %s Tf\n%s %s Td\n<%X> Tj\nET\n", col, res, num(l.size), num(x), num(y), use.encode(l.text))
		y -= l.size * 0.15
	}
	c.WriteString("Q\n")
	f1, err := uses[0].add(up)
	if err != nil {
		return pdf.Ref{}, err
	}
	f2, err := uses[1].add(up)
	if err != nil {
		return pdf.Ref{}, err
	}
	d := pdf.Dict{
		"Type":      pdf.Name("XObject"),
		"Subtype":   pdf.Name("Form"),
		"BBox":      pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Real(w), pdf.Real(h)},
		"Resources": pdf.Dict{"Font": pdf.Dict{"F1": f1, "F2": f2}, "ProcSet": pdf.Array{pdf.Name("PDF"), pdf.Name("Text")}},
		"Filter":    pdf.Name("FlateDecode"),
	}
	if pl.matrix != nil {
		d["Matrix"] = pl.matrix
	}
	return up.Add(&pdf.Stream{Dict: d, Raw: deflate(c.Bytes())}), nil
}

// emptyAppearance is the appearance of an invisible signature.
func emptyAppearance(up *pdf.Update) pdf.Ref {
	return up.Add(&pdf.Stream{Dict: pdf.Dict{
		"Type":    pdf.Name("XObject"),
		"Subtype": pdf.Name("Form"),
		"BBox":    pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Integer(0), pdf.Integer(0)},
	}, Raw: []byte{}})
}

func num(f float64) string {
	return string(pdf.AppendObject(nil, pdf.Real(f)))
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	w, _ := zlib.NewWriterLevel(&out, zlib.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}
