package pades

import (
	"fmt"
	"slices"

	"github.com/trustsign/trustsign/pdf"
)

// The structure rules: the catalog (which entries a later revision may change), the page tree, pages and their
// annotation lists, and the name dictionary. Everything else in the catalog is not allowed to change.

// catalogDiff judges a changed catalog, entry by entry.
func (c *classifier) catalogDiff(rc *revCtx, db, da pdf.Dict) []verdict {
	before, after := rc.before, rc.after
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		switch k {
		case "AcroForm":
			// The entry names another (or a direct) dictionary: its content is judged against the old one here.
			fb, _ := before.Dict(db[k])
			fa, _ := after.Dict(da[k])
			if fv := c.acroFormDiff(rc, fb, fa); len(fv) > 0 {
				out = append(out, fv...)
			} else {
				out = append(out, explained("catalog /AcroForm moved to another object, same form"))
			}
		case "DSS":
			out = append(out, c.dssEntry(rc, da[k]))
		case "Extensions":
			out = append(out, mkVerdict(ChangeDSS, permitDSS, "catalog /"+string(k)+" updated"))
		case "Names":
			nb, _ := before.Dict(db[k])
			na, _ := after.Dict(da[k])
			if nv := c.namesDiff(nb, na); len(nv) > 0 {
				out = append(out, nv...)
			} else {
				out = append(out, explained("catalog /Names moved to another object, same names"))
			}
		case "Metadata":
			if _, ok := da[k].(pdf.Ref); !ok {
				out = append(out, mkVerdict(ChangeOther, permitNever, "catalog /Metadata removed or not a metadata stream"))
			} else {
				out = append(out, mkVerdict(ChangeMetadata, permitMetadata, "catalog /Metadata updated"))
			}
		case "Version":
			out = append(out, mkVerdict(ChangeOther, permitMetadata, "catalog /"+string(k)+" updated"))
		default:
			out = append(out, mkVerdict(ChangeOther, permitNever, "catalog /"+string(k)+" changed"))
		}
	}
	return out
}

// producerKeys are private entries producers write into page tree nodes and pages that have no effect on
// rendering (iText records its version in /ITXT); changing them is not a modification of content.
var producerKeys = map[pdf.Name]bool{"ITXT": true}

// splitProducerKeys separates producer-private keys (with direct values) from the others.
func splitProducerKeys(keys []pdf.Name, db, da pdf.Dict) (producer, rest []pdf.Name) {
	for _, k := range keys {
		_, rb := db[k].(pdf.Ref)
		_, ra := da[k].(pdf.Ref)
		if producerKeys[k] && !rb && !ra {
			producer = append(producer, k)
		} else {
			rest = append(rest, k)
		}
	}
	return producer, rest
}

// pageTreeDiff judges a changed intermediate node of the page tree.
func pageTreeDiff(obj string, db, da pdf.Dict) []verdict {
	var out []verdict
	producer, keys := splitProducerKeys(pdf.DiffKeys(db, da), db, da)
	if len(producer) > 0 {
		out = append(out, mkVerdict(ChangeProducerData, permitProducer, "page tree node: producer data "+keyList(producer)+" written"))
	}
	switch {
	case containsKey(keys, "Kids") || containsKey(keys, "Count"):
		nb, _ := db.Int("Count")
		na, _ := da.Int("Count")
		if na > nb {
			out = append(out, mkVerdict(ChangePageAdded, permitNever, fmt.Sprintf("page tree: %d pages instead of %d", na, nb)))
		} else {
			out = append(out, mkVerdict(ChangePageContent, permitNever, "page tree changed (pages removed or reordered)"))
		}
	case len(keys) > 0:
		out = append(out, mkVerdict(ChangePageContent, permitNever, "page tree node changed: "+keyList(keys)))
	}
	return out
}

// pageDiff judges a changed page: its annotation list may change (annotationsDiff says how), producer data may
// be written, nothing else.
func (c *classifier) pageDiff(rc *revCtx, obj string, db, da pdf.Dict) []verdict {
	var out []verdict
	producer, keys := splitProducerKeys(pdf.DiffKeys(db, da), db, da)
	if len(producer) > 0 {
		out = append(out, mkVerdict(ChangeProducerData, permitProducer, fmt.Sprintf("page %s: producer data %s written", obj, keyList(producer))))
	}
	var rest []pdf.Name
	for _, k := range keys {
		if k == "Annots" {
			out = append(out, c.annotsDiff(rc, db["Annots"], da["Annots"])...)
		} else {
			rest = append(rest, k)
		}
	}
	if len(rest) > 0 {
		out = append(out, mkVerdict(ChangePageContent, permitNever, fmt.Sprintf("page %s: %s changed", obj, keyList(rest))))
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
func (c *classifier) annotsDiff(rc *revCtx, ob, oa pdf.Object) []verdict {
	before, after := rc.before, rc.after
	added, removed := refDiff(ob, oa, before, after)
	if len(added) == 0 && len(removed) == 0 {
		if slices.Equal(refsOf(before, ob), refsOf(after, oa)) {
			return []verdict{explained("page /Annots moved to another object, same annotations")}
		}
		return []verdict{mkVerdict(ChangeAnnotation, permitAnnotation, "annotations of a page reordered")}
	}
	var out []verdict
	for _, r := range added {
		d, _ := after.Dict(r)
		if st, _ := d.Name("Subtype"); st == "Widget" {
			if fieldType(after, d) == "Sig" {
				out = append(out, c.addedField(rc, r, true, mkVerdict(ChangeSignature, permitSignature, "signature widget added to a page")))
			} else {
				out = append(out, c.addedField(rc, r, false, mkVerdict(ChangeAnnotation, permitAnnotation, "form widget added to a page")))
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
