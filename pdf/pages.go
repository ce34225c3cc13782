package pdf

import "fmt"

// Page is one page of the document with its inherited attributes resolved.
type Page struct {
	Ref  Ref
	Dict Dict
	// MediaBox and CropBox are [llx lly urx ury]; CropBox defaults to MediaBox.
	MediaBox, CropBox [4]float64
	// Rotate is 0, 90, 180 or 270.
	Rotate int
}

// Pages walks the page tree and returns the pages in order. Cycles and absurd trees are rejected.
func (v View) Pages() ([]Page, error) {
	cat, _, err := v.Catalog()
	if err != nil {
		return nil, err
	}
	root, ok := cat["Pages"].(Ref)
	if !ok {
		return nil, malformed("catalog has no /Pages reference")
	}
	var pages []Page
	seen := map[Ref]bool{}
	type inherited struct {
		media, crop Object
		rotate      Object
	}
	var walk func(ref Ref, inh inherited, depth int) error
	walk = func(ref Ref, inh inherited, depth int) error {
		if depth > v.r.lim.MaxDepth {
			return limit("page tree deeper than %d", v.r.lim.MaxDepth)
		}
		if seen[ref] {
			return malformed("page tree cycle at %v", ref)
		}
		seen[ref] = true
		o, err := v.Get(ref)
		if err != nil {
			return err
		}
		d, ok := o.(Dict)
		if !ok {
			return malformed("page tree node %v is not a dictionary", ref)
		}
		if m := d["MediaBox"]; m != nil {
			inh.media = m
		}
		if c := d["CropBox"]; c != nil {
			inh.crop = c
		}
		if r := d["Rotate"]; r != nil {
			inh.rotate = r
		}
		t, _ := d.Name("Type")
		kids, hasKids := d["Kids"]
		if t == "Pages" || (t != "Page" && hasKids) {
			ka, err := v.Resolve(kids)
			if err != nil {
				return err
			}
			arr, ok := ka.(Array)
			if !ok {
				return malformed("page tree node %v has no /Kids array", ref)
			}
			for _, k := range arr {
				kr, ok := k.(Ref)
				if !ok {
					return malformed("page tree node %v has a direct kid", ref)
				}
				if err := walk(kr, inh, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if len(pages) >= v.r.lim.MaxElements {
			return limit("more than %d pages", v.r.lim.MaxElements)
		}
		p := Page{Ref: ref, Dict: d}
		p.MediaBox = v.rect(inh.media, [4]float64{0, 0, 612, 792})
		p.CropBox = v.rect(inh.crop, p.MediaBox)
		if r, err := v.Resolve(inh.rotate); err == nil {
			if n, ok := Num(r); ok {
				p.Rotate = ((int(n)%360)+360)%360 - ((int(n)%360+360)%360)%90
			}
		}
		pages = append(pages, p)
		return nil
	}
	if err := walk(root, inherited{}, 0); err != nil {
		return nil, fmt.Errorf("page tree: %w", err)
	}
	return pages, nil
}

func (v View) rect(o Object, def [4]float64) [4]float64 {
	o, err := v.Resolve(o)
	if err != nil {
		return def
	}
	a, ok := o.(Array)
	if !ok || len(a) != 4 {
		return def
	}
	var r [4]float64
	for i := range a {
		x, err := v.Resolve(a[i])
		if err != nil {
			return def
		}
		n, ok := Num(x)
		if !ok {
			return def
		}
		r[i] = n
	}
	if r[0] > r[2] {
		r[0], r[2] = r[2], r[0]
	}
	if r[1] > r[3] {
		r[1], r[3] = r[3], r[1]
	}
	return r
}
