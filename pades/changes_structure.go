package pades

import (
	"fmt"

	"github.com/trustsign/trustsign/pdf"
)

func (c *classifier) catalogDiff(db, da pdf.Dict, before, after pdf.View) []verdict {
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		switch k {
		case "AcroForm":
			// An indirect AcroForm is judged as its own object; an inline or newly added one here.
			if bothIndirect(db, da, k) {
				continue // the reference changed: the new object is judged by its role
			}
			fb, _ := before.Dict(db[k])
			fa, _ := after.Dict(da[k])
			out = append(out, c.acroFormDiff(fb, fa, before, after)...)
		case "DSS", "Extensions":
			out = append(out, mkVerdict(ChangeDSS, permitDSS, "catalog /"+string(k)+" updated"))
		case "Names":
			if bothIndirect(db, da, k) {
				continue
			}
			nb, _ := before.Dict(db[k])
			na, _ := after.Dict(da[k])
			out = append(out, c.namesDiff(nb, na)...)
		case "Metadata", "Version":
			out = append(out, mkVerdict(ChangeOther, permitMetadata, "catalog /"+string(k)+" updated"))
		default:
			out = append(out, mkVerdict(ChangeOther, permitNever, "catalog /"+string(k)+" changed"))
		}
	}
	return out
}

// namesDiff judges a changed name dictionary: named annotation appearances (/AP, which Acrobat adds with
// comments) are annotations; any other name tree (JavaScript, embedded files, destinations, templates) is not
// allowed to change.
func (c *classifier) namesDiff(db, da pdf.Dict) []verdict {
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		if k == "AP" {
			out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, "named annotation appearances (/Names /AP) updated"))
			continue
		}
		out = append(out, mkVerdict(ChangeOther, permitNever, "catalog /Names /"+string(k)+" changed"))
	}
	return out
}

// refsOf returns the references in an array (resolved if the array is indirect).
func refsOf(v pdf.View, o pdf.Object) []pdf.Ref {
	o, err := v.Resolve(o)
	if err != nil {
		return nil
	}
	a, _ := o.(pdf.Array)
	var out []pdf.Ref
	for _, e := range a {
		if r, ok := e.(pdf.Ref); ok {
			out = append(out, r)
		}
	}
	return out
}

// refDiff compares two arrays of references: the ones only in oa (added, in oa's order) and the ones only in ob
// (removed, in ob's order).
func refDiff(ob, oa pdf.Object, before, after pdf.View) (added, removed []pdf.Ref) {
	was, is := refsOf(before, ob), refsOf(after, oa)
	old := make(map[pdf.Ref]bool, len(was))
	for _, r := range was {
		old[r] = true
	}
	now := make(map[pdf.Ref]bool, len(is))
	for _, r := range is {
		now[r] = true
		if !old[r] {
			added = append(added, r)
		}
	}
	for _, r := range was {
		if !now[r] {
			removed = append(removed, r)
		}
	}
	return added, removed
}

// annotsDiff judges a changed /Annots list: widgets of new signature fields are part of signing, other new
// annotations are annotations; removing a widget is never allowed.
func (c *classifier) annotsDiff(ob, oa pdf.Object, before, after pdf.View) []verdict {
	added, removed := refDiff(ob, oa, before, after)
	var out []verdict
	for _, r := range added {
		d, _ := after.Dict(r)
		if st, _ := d.Name("Subtype"); st == "Widget" {
			if fieldType(after, d) == "Sig" {
				out = append(out, mkVerdict(ChangeSignature, permitSignature, "signature widget added to a page"))
			} else {
				out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, "form widget added to a page"))
			}
			continue
		}
		st, _ := d.Name("Subtype")
		out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, fmt.Sprintf("/%s annotation added", st)))
	}
	for _, r := range removed {
		d, _ := before.Dict(r)
		if st, _ := d.Name("Subtype"); st == "Widget" {
			out = append(out, mkVerdict(ChangeOther, permitNever, "form widget removed from a page"))
		} else {
			out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, fmt.Sprintf("/%s annotation removed", st)))
		}
	}
	return out
}
