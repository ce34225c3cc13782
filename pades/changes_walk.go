package pades

import (
	"fmt"

	"github.com/trustsign/trustsign/pdf"
)

// The walk gives every object reachable from the trailer its roles (what it is used for), the fully qualified
// names of form fields and their widgets, and the referrers of every object: the indirect objects (or the
// trailer) whose value holds a reference to it, directly or inside direct arrays and dictionaries. Back links
// (/Parent, /P, /IRT) and the signature reference's /Data are not followed: they do not draw anything.

// trailerReferrer stands for the trailer in the referrer sets.
const trailerReferrer = ^uint32(0)

// Trailer entries that are file structure, not document content.
var trailerStructure = map[pdf.Name]bool{"Root": true, "Info": true, "Size": true, "Prev": true, "ID": true,
	"XRefStm": true, "Encrypt": true, "Type": true, "W": true, "Index": true, "Filter": true, "DecodeParms": true,
	"Length": true, "DL": true, "F": true, "FFilter": true, "FDecodeParms": true}

// rolesOf walks the document as of revision rev and records every object's roles.
func (c *classifier) rolesOf(rev int) (map[uint32]role, error) {
	if m, ok := c.roles[rev]; ok {
		return m, nil
	}
	w := &walker{v: c.r.At(rev), roles: map[uint32]role{}, names: map[uint32]string{}, refs: map[uint32][]uint32{},
		cur: trailerReferrer}
	t := w.v.Trailer()
	w.mark(t["Info"], rInfo)
	if _, root, err := w.v.Catalog(); err == nil {
		w.mark(root, rCatalog)
	}
	// Any other trailer entry (a private one, say) is not document structure: whatever it names may not change.
	for k, val := range t {
		if !trailerStructure[k] {
			w.mark(val, rOther)
		}
	}
	// Phase 1 walks the document structure; phase 2 the catch-all roles, which do not override structure.
	for phase := 1; phase <= 2; phase++ {
		if phase == 2 {
			w.late = true
			for _, d := range w.deferred {
				w.cur = d.from
				w.markDepth(d.o, d.r, 0)
			}
			w.deferred = nil
		}
		for len(w.queue) > 0 {
			it := w.queue[len(w.queue)-1]
			w.queue = w.queue[:len(w.queue)-1]
			w.cur = it.ref.Num
			o, err := w.v.Get(it.ref)
			if err != nil {
				// An unreadable object in an old revision must not hide the rest: it simply has no children.
				continue
			}
			if err := w.process(o, it.role, 0); err != nil {
				return nil, err
			}
		}
	}
	c.roles[rev] = w.roles
	c.names[rev] = w.names
	c.refs[rev] = w.refs
	return w.roles, nil
}

type walkItem struct {
	ref  pdf.Ref
	role role
}

type walker struct {
	v        pdf.View
	roles    map[uint32]role
	queue    []walkItem
	deferred []deferredMark
	late     bool // phase 2: catch-all roles are applied
	steps    int
	names    map[uint32]string // fully qualified names of form fields
	cur      uint32            // the object being processed (trailerReferrer: the trailer)
	refs     map[uint32][]uint32
}

// maxReferrers bounds the referrers recorded per object; past it the last entry becomes manyReferrers, which no
// rule explains, so a change to such an object is refused rather than judged on part of its uses.
const maxReferrers = 64

// manyReferrers stands for "more referrers than recorded".
const manyReferrers = ^uint32(0) - 1

// refer records that the object being processed refers to num.
func (w *walker) refer(num uint32) {
	rs := w.refs[num]
	for _, r := range rs {
		if r == w.cur {
			return
		}
	}
	if len(rs) >= maxReferrers {
		rs[len(rs)-1] = manyReferrers
		return
	}
	w.refs[num] = append(rs, w.cur)
}

type deferredMark struct {
	o    pdf.Object
	r    role
	from uint32
}

const maxWalkSteps = 2_000_000

// mark gives o (if a reference) role r; a direct object is processed in place.
func (w *walker) mark(o pdf.Object, r role) {
	w.markDepth(o, r, 0)
}

func (w *walker) markDepth(o pdf.Object, r role, depth int) {
	if r&(rOther|rInfo) != 0 {
		if !w.late {
			w.deferred = append(w.deferred, deferredMark{o, r, w.cur})
			return
		}
		if ref, ok := o.(pdf.Ref); ok {
			w.refer(ref.Num)
		}
		if ref, ok := o.(pdf.Ref); ok && w.roles[ref.Num]&structural != 0 {
			return
		}
	}
	if ref, ok := o.(pdf.Ref); ok {
		if r&(rOther|rInfo) == 0 {
			w.refer(ref.Num)
		}
		if w.roles[ref.Num]&r == r {
			return
		}
		w.roles[ref.Num] |= r
		w.queue = append(w.queue, walkItem{ref, r})
		return
	}
	w.process(o, r, depth)
}

// process walks the children of a resolved object that has role r.
func (w *walker) process(o pdf.Object, r role, depth int) error {
	w.steps++
	if w.steps > maxWalkSteps {
		return fmt.Errorf("%w: document graph too large", pdf.ErrLimit)
	}
	if depth > 64 {
		return nil
	}
	d, isDict := dictOf(o)
	if !isDict {
		if a, ok := o.(pdf.Array); ok {
			elem := r
			switch r {
			case rAnnotsArray:
				for _, e := range a {
					w.markAnnot(e)
				}
				return nil
			case rFieldsArray:
				for _, e := range a {
					w.markField(e, "", "")
				}
				return nil
			case rPagesNode:
				for _, e := range a {
					w.markKid(e)
				}
				return nil
			}
			for _, e := range a {
				w.markDepth(e, elem, depth+1)
			}
		}
		return nil
	}
	switch r {
	case rCatalog:
		for k, val := range d {
			switch k {
			case "Type", "Version":
			case "Pages":
				w.mark(val, rPagesNode)
			case "AcroForm":
				w.markAcroForm(val)
			case "DSS":
				w.mark(val, rDSS)
			case "Metadata":
				w.mark(val, rMetadata)
			case "Perms":
				w.mark(val, rPerms)
			case "Names":
				w.mark(val, rNames)
			default:
				w.mark(val, rOther)
			}
		}
	case rPagesNode:
		for k, val := range d {
			switch k {
			case "Type", "Parent", "Count":
			case "Kids":
				if ref, ok := val.(pdf.Ref); ok {
					w.roles[ref.Num] |= rPagesNode
					w.refer(ref.Num)
				}
				kids, _ := w.v.Resolve(val)
				if a, ok := kids.(pdf.Array); ok {
					for _, e := range a {
						w.markKid(e)
					}
				}
			default:
				w.mark(val, rContent)
			}
		}
	case rPage:
		for k, val := range d {
			switch k {
			case "Type", "Parent", "B", "StructParents":
			case "Annots":
				if ref, ok := val.(pdf.Ref); ok {
					w.mark(ref, rAnnotsArray)
				} else if a, ok := val.(pdf.Array); ok {
					for _, e := range a {
						w.markAnnot(e)
					}
				}
			case "Metadata":
				w.mark(val, rMetadata)
			default:
				w.mark(val, rContent)
			}
		}
	case rAnnot:
		for k, val := range d {
			switch k {
			case "P", "Parent", "IRT":
			case "Popup":
				w.markAnnot(val)
			default:
				w.mark(val, rAnnotAP)
			}
		}
	case rWidget, rSigWidget:
		ap := rFieldAP
		if r == rSigWidget {
			ap = rSigFieldAP
		}
		for k, val := range d {
			switch k {
			case "P", "Parent":
			case "V":
				if r == rSigWidget {
					w.mark(val, rSigDict)
				} else {
					w.mark(val, rFieldValue)
				}
			default:
				w.mark(val, ap)
			}
		}
	case rField, rSigField:
		ap, val := rFieldAP, rFieldValue
		if r == rSigField {
			ap, val = rSigFieldAP, rSigDict
		}
		ft := fieldType(w.v, d)
		for k, x := range d {
			switch k {
			case "P", "Parent", "FT", "T":
			case "Kids":
				if ref, ok := x.(pdf.Ref); ok {
					w.roles[ref.Num] |= rFieldsArray
					w.refer(ref.Num)
				}
				kids, _ := w.v.Resolve(x)
				if a, ok := kids.(pdf.Array); ok {
					for _, e := range a {
						w.markField(e, ft, w.names[w.cur])
					}
				}
			case "V", "DV", "Lock", "SV":
				w.mark(x, val)
			default:
				w.mark(x, ap)
			}
		}
	case rNames:
		for k, x := range d {
			if k == "AP" {
				w.mark(x, rAnnotAP)
			} else {
				w.mark(x, rOther)
			}
		}
	case rAcroForm:
		for k, x := range d {
			switch k {
			case "Fields":
				if ref, ok := x.(pdf.Ref); ok {
					w.roles[ref.Num] |= rFieldsArray
					w.refer(ref.Num)
				}
				fields, _ := w.v.Resolve(x)
				if a, ok := fields.(pdf.Array); ok {
					for _, e := range a {
						w.markField(e, "", "")
					}
				}
			case "DR":
				w.mark(x, rFormRes)
			case "DA", "SigFlags", "NeedAppearances":
			default:
				w.mark(x, rOther)
			}
		}
	default:
		// Everything reachable keeps the role; back links are not followed.
		for k, x := range d {
			if k == "Parent" || k == "P" || (k == "Data" && d["TransformMethod"] != nil) || (r == rSigDict && k == "Data") {
				continue
			}
			w.markDepth(x, r, depth+1)
		}
	}
	return nil
}

func (w *walker) markAcroForm(o pdf.Object) {
	w.mark(o, rAcroForm)
}

// markKid marks a page tree kid as a page or an intermediate node.
func (w *walker) markKid(o pdf.Object) {
	d, _ := w.v.Dict(o)
	if d == nil {
		w.mark(o, rPage) // unreadable: judged (and refused) as a page
		return
	}
	if t, _ := d.Name("Type"); t == "Page" || (t == "" && d["Kids"] == nil) {
		w.mark(o, rPage)
		return
	}
	w.mark(o, rPagesNode)
}

// markAnnot marks an annotation by kind.
func (w *walker) markAnnot(o pdf.Object) {
	d, _ := w.v.Dict(o)
	if d == nil {
		w.mark(o, rAnnot|rOther) // unreadable or not a dictionary: any change to it is refused
		return
	}
	if st, _ := d.Name("Subtype"); st == "Widget" {
		if fieldType(w.v, d) == "Sig" {
			w.mark(o, rSigWidget)
		} else {
			w.mark(o, rWidget)
		}
		return
	}
	w.mark(o, rAnnot)
}

// markField marks a form field (and, when it is merged with its widget, the widget).
func (w *walker) markField(o pdf.Object, inherited pdf.Name, parent string) {
	d, _ := w.v.Dict(o)
	if ref, ok := o.(pdf.Ref); ok && d != nil {
		name := parent
		if t := pdf.Text(d["T"]); t != "" {
			if name != "" {
				name += "."
			}
			name += t
		}
		if _, seen := w.names[ref.Num]; !seen {
			w.names[ref.Num] = name
		}
	}
	if d == nil {
		w.mark(o, rField|rOther) // unreadable or not a dictionary: any change to it is refused
		return
	}
	ft := inherited
	if n, ok := d.Name("FT"); ok {
		ft = n
	}
	if ft == "Sig" {
		w.mark(o, rSigField)
	} else {
		w.mark(o, rField)
	}
	if st, _ := d.Name("Subtype"); st == "Widget" {
		if ft == "Sig" {
			w.mark(o, rSigWidget)
		} else {
			w.mark(o, rWidget)
		}
	}
}
