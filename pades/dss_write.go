package pades

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/revocation"
)

// Writing the document security store (ISO 32000-2 12.8.4.3, ETSI EN 319 142-1 5.4.2) and document time-stamps
// (12.8.5), as incremental updates Extend appends.

// MaxDSSEntries bounds the streams of each DSS array (/Certs, /OCSPs, /CRLs) and the /VRI entries that Extend
// merges with and Verify reads; a DSS with more is refused (Extend) or reported as a problem (Verify).
const MaxDSSEntries = 10000

// vriData is the validation data of one signature, under its VRI key.
type vriData struct {
	key  pdf.Name
	data revocation.Data
}

// dssWriter merges new validation data into the DSS of a document.
type dssWriter struct {
	r      *pdf.Reader
	v      pdf.View
	cat    pdf.Dict
	catRef pdf.Ref
	dssRef pdf.Ref // the DSS dictionary's object, zero when it is direct or missing
	dict   pdf.Dict
	arrays map[pdf.Name]*dssArray
	vri    pdf.Dict
	vriRef pdf.Ref
}

// dssArray is one of /Certs, /OCSPs and /CRLs: its object (zero when direct), its entries and the content keys
// of the streams they name.
type dssArray struct {
	ref   pdf.Ref
	items pdf.Array
	have  map[[32]byte]pdf.Ref
}

var dssArrays = []pdf.Name{"Certs", "OCSPs", "CRLs"}

// openDSS reads the document's DSS, if any, for merging.
func openDSS(r *pdf.Reader) (*dssWriter, error) {
	v := r.Latest()
	cat, catRef, err := v.Catalog()
	if err != nil {
		return nil, fmt.Errorf("pades: %w", err)
	}
	d := &dssWriter{r: r, v: v, cat: cat, catRef: catRef, arrays: map[pdf.Name]*dssArray{}, dict: pdf.Dict{"Type": pdf.Name("DSS")}}
	if ref, ok := cat["DSS"].(pdf.Ref); ok {
		d.dssRef = ref
	}
	if cat["DSS"] != nil {
		old, err := v.Dict(cat["DSS"])
		if err != nil || old == nil {
			return nil, fmt.Errorf("pades: %w", errOr(err, "/DSS is not a dictionary"))
		}
		d.dict = old.Clone()
	}
	for _, k := range dssArrays {
		a := &dssArray{have: map[[32]byte]pdf.Ref{}}
		d.arrays[k] = a
		if ref, ok := d.dict[k].(pdf.Ref); ok {
			a.ref = ref
		}
		o, err := v.Resolve(d.dict[k])
		if err != nil {
			return nil, fmt.Errorf("pades: /DSS /%s: %w", k, err)
		}
		a.items, _ = o.(pdf.Array)
		if len(a.items) > MaxDSSEntries {
			return nil, fmt.Errorf("pades: %w: /DSS /%s holds %d entries, more than %d", pdf.ErrLimit, k, len(a.items), MaxDSSEntries)
		}
		a.items = append(pdf.Array{}, a.items...)
		for _, e := range a.items {
			ref, ok := e.(pdf.Ref)
			if !ok {
				continue
			}
			if data, err := dssStream(v, ref); err == nil {
				a.have[contentKey(data)] = ref
			}
		}
	}
	if ref, ok := d.dict["VRI"].(pdf.Ref); ok {
		d.vriRef = ref
	}
	vri, err := v.Dict(d.dict["VRI"])
	if err != nil {
		return nil, fmt.Errorf("pades: /DSS /VRI: %w", err)
	}
	if len(vri) > MaxDSSEntries {
		return nil, fmt.Errorf("pades: %w: /DSS /VRI holds %d entries, more than %d", pdf.ErrLimit, len(vri), MaxDSSEntries)
	}
	d.vri = vri.Clone()
	if d.vri == nil {
		d.vri = pdf.Dict{}
	}
	return d, nil
}

// dssStream returns the decoded data of the DSS stream ref.
func dssStream(v pdf.View, ref pdf.Ref) ([]byte, error) {
	o, err := v.Get(ref)
	if err != nil {
		return nil, err
	}
	s, ok := o.(*pdf.Stream)
	if !ok {
		return nil, fmt.Errorf("%w: object %d is not a stream", pdf.ErrMalformed, ref.Num)
	}
	return v.Reader().DecodeStream(s, v)
}

// hasVRI reports whether the DSS has a VRI entry under key.
func (d *dssWriter) hasVRI(key pdf.Name) bool { return d.vri[key] != nil }

// update returns the incremental update adding vris to the DSS: each certificate, OCSP response and CRL once (a
// stream the DSS already holds is named again, not copied), and a VRI entry per signature.
func (d *dssWriter) update(vris []vriData) ([]byte, error) {
	u := pdf.NewUpdate(d.r)
	add := func(k pdf.Name, data []byte) pdf.Ref {
		a := d.arrays[k]
		key := contentKey(data)
		if ref, ok := a.have[key]; ok {
			return ref
		}
		ref := u.Add(&pdf.Stream{Dict: pdf.Dict{"Filter": pdf.Name("FlateDecode")}, Raw: deflate(data)})
		a.have[key] = ref
		a.items = append(a.items, ref)
		return ref
	}
	for _, vr := range vris {
		var certs, ocsps, crls pdf.Array
		seen := map[pdf.Ref]bool{}
		once := func(arr *pdf.Array, ref pdf.Ref) {
			if !seen[ref] {
				seen[ref] = true
				*arr = append(*arr, ref)
			}
		}
		for _, c := range vr.data.Certificates {
			once(&certs, add("Certs", c.Raw))
		}
		for _, b := range vr.data.OCSP {
			once(&ocsps, add("OCSPs", b))
		}
		for _, b := range vr.data.CRLs {
			once(&crls, add("CRLs", b))
		}
		e := pdf.Dict{}
		for _, kv := range []struct {
			k pdf.Name
			a pdf.Array
		}{{"Cert", certs}, {"OCSP", ocsps}, {"CRL", crls}} {
			if len(kv.a) > 0 {
				e[kv.k] = kv.a
			}
		}
		d.vri[vr.key] = e
	}
	for _, k := range dssArrays {
		a := d.arrays[k]
		if len(a.items) > MaxDSSEntries {
			return nil, fmt.Errorf("pades: %w: /DSS /%s would hold %d entries, more than %d", pdf.ErrLimit, k, len(a.items), MaxDSSEntries)
		}
		switch {
		case a.ref.Num != 0:
			u.Set(a.ref, a.items)
		case len(a.items) > 0:
			d.dict[k] = a.items
		}
	}
	if d.vriRef.Num != 0 {
		u.Set(d.vriRef, d.vri)
	} else {
		d.dict["VRI"] = d.vri
	}
	if d.dssRef.Num != 0 {
		u.Set(d.dssRef, d.dict)
	} else {
		cat := d.cat.Clone()
		cat["DSS"] = u.Add(d.dict)
		u.Set(d.catRef, cat)
	}
	w, err := u.Bytes(d.r.Size(), updateTrailer(d.r, d.catRef, "DSS|"+strconv.Itoa(len(vris))), needsEOL(d.r))
	if err != nil {
		return nil, fmt.Errorf("pades: %w", err)
	}
	return w.Bytes, nil
}

// prepareDocTimeStamp builds the update adding a document time-stamp: an invisible signature field on the first
// page whose value is a /DocTimeStamp dictionary with a /Contents placeholder of reserve bytes.
func prepareDocTimeStamp(r *pdf.Reader, reserve int) (*plan, error) {
	if r.Encrypted() {
		return nil, ErrEncrypted
	}
	v := r.Latest()
	cat, catRef, pages, err := catalogAndPages(v)
	if err != nil {
		return nil, err
	}
	form, err := readForm(v, cat)
	if err != nil {
		return nil, err
	}
	name := ""
	for i := 1; ; i++ {
		name = "DocTimeStamp" + strconv.Itoa(i)
		if !form.names[name] {
			break
		}
	}
	u := pdf.NewUpdate(r)
	sigRef := u.Reserve()
	widgetRef := u.Reserve()
	page := pages[0]
	u.Set(widgetRef, pdf.Dict{
		"Type":    pdf.Name("Annot"),
		"Subtype": pdf.Name("Widget"),
		"FT":      pdf.Name("Sig"),
		"T":       pdf.TextString(name),
		"V":       sigRef,
		"F":       pdf.Integer(132), // Print | Locked
		"Rect":    pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Integer(0), pdf.Integer(0)},
		"P":       page.Ref,
		"AP":      pdf.Dict{"N": emptyAppearance(u)},
	})
	var b []byte
	b = append(b, "<</Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange "...)
	brOff := len(b)
	b = append(b, bytes.Repeat([]byte{' '}, byteRangeWidth)...)
	b = append(b, " /Contents "...)
	contentsOff := len(b)
	b = append(b, '<')
	b = append(b, bytes.Repeat([]byte{'0'}, 2*reserve)...)
	b = append(b, '>')
	contentsLen := 2*reserve + 2
	b = append(b, ">>"...)
	u.Set(sigRef, pdf.Raw(b))
	if err := attachField(v, u, cat, catRef, page, widgetRef, nil); err != nil {
		return nil, err
	}
	return finishUpdate(r, u, catRef, sigRef, b, brOff, contentsOff, contentsLen, "DocTimeStamp|"+name)
}
